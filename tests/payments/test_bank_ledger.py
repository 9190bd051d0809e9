"""Bank money that pays no order is in the ledger too, so the ledger follows the collecting account's
statement: an overpayment's excess (held for the payer, and sent back when the admin records it) and an
unmatched transfer sent back to its payer. Hand-computed figures, on SQLite and PostgreSQL."""
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Kind, LedgerLine
from marketplace.payments.models import BankTransaction
from tests.orders.helpers import two_shop_products
from tests.payments.helpers import statuses
from tests.payments.test_vietqr import admin_client, app_overrides, post_transfer, qr_checkout  # noqa: F401


def _row(txn_id: str) -> BankTransaction:
    db.session.expire_all()
    return db.session.scalar(sa.select(BankTransaction).where(BankTransaction.transaction_id == txn_id))


def _cash(column) -> int:
    """What the vietqr lines moved into (debit) or out of (credit) the platform's collection account."""
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerLine.amount), 0)).where(
        column == Account.PLATFORM_CASH, LedgerLine.method == "vietqr")))


def _bank_lines() -> list[tuple]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(sa.select(LedgerLine.kind, LedgerLine.debit, LedgerLine.credit,
                                                           LedgerLine.amount, LedgerLine.memo)
                                                 .where(LedgerLine.shop_id.is_(None)).order_by(LedgerLine.id))]


def test_the_ledger_follows_the_bank_statement(client, login):
    vase, scarf = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))   # 350.000 + 30.000 shipping
    _r, b = qr_checkout(client, (scarf.variants[0].id, 1))  # 420.000 + 25.000 shipping
    _r, c = qr_checkout(client, (vase.variants[0].id, 1))   # 380.000
    assert (a.total, b.total, c.total) == (380_000, 445_000, 380_000)
    balances_before = None

    # the bank's side: four transfers in (1.390.000), two sent back by hand (175.000)
    assert post_transfer(client, "T1", 380_000, f"CK {a.stripe_session_id}").status_code == 200
    post_transfer(client, "T2", 500_000, f"CK {b.stripe_session_id}")   # 55.000 too much
    post_transfer(client, "T3", 120_000, "chuyen tien nham")            # nobody's order
    post_transfer(client, "T4", 390_000, f"CK {c.stripe_session_id}")   # 10.000 too much
    assert statuses(a) == ["paid"] and statuses(b) == ["pending_payment"]
    assert _bank_lines() == []  # nothing is booked for money still under review
    balances_before = ledger.balances()

    admin_client(client, login)
    assert client.post(f"/admin/payments/bank/{_row('T2').id}/settle", data={"note": "FT-BACK-55"}).status_code == 303
    assert client.post(f"/admin/payments/bank/{_row('T3').id}/refund", data={"note": "FT-BACK-120"}).status_code == 303
    assert client.post(f"/admin/payments/bank/{_row('T4').id}/settle").status_code == 303  # excess not sent yet
    assert statuses(b) == ["paid"] and statuses(c) == ["paid"]

    t2, t3, t4 = _row("T2").id, _row("T3").id, _row("T4").id
    held, returned, cash, suspense = Kind.TRANSFER_HELD, Kind.TRANSFER_RETURNED, Account.PLATFORM_CASH, Account.BANK_SUSPENSE
    assert _bank_lines() == [
        (held, cash, suspense, 55_000, f"T2 {_row('T2').reference}"),
        (returned, suspense, cash, 55_000, "FT-BACK-55"),
        (held, cash, suspense, 120_000, "T3 unmatched"),
        (returned, suspense, cash, 120_000, "FT-BACK-120"),
        (held, cash, suspense, 10_000, f"T4 {_row('T4').reference}"),
    ]
    entries = db.session.scalars(sa.select(LedgerLine.entry).where(LedgerLine.shop_id.is_(None))
                                 .order_by(LedgerLine.id)).all()
    assert entries == [f"banktxn-{t2}-excess"] * 2 + [f"banktxn-{t3}"] * 2 + [f"banktxn-{t4}-excess"]
    # into the account: 380.000 + 445.000 + 55.000 + 120.000 + 380.000 + 10.000 = every transfer received
    assert _cash(LedgerLine.debit) == 380_000 + 500_000 + 120_000 + 390_000
    # out of it: what was sent back
    assert _cash(LedgerLine.credit) == 55_000 + 120_000
    assert ledger.held_for_payers("vietqr") == 10_000  # T4's excess is still the payer's
    # the shops' balances moved only by their two new sales (no shop carries the payers' money)
    db.session.expire_all()
    after = ledger.balances()
    assert None not in after
    assert sum(after.values()) - sum(balances_before.values()) == ledger.balance(scarf.shop_id) + ledger.balance(
        vase.shop_id) - balances_before.get(scarf.shop_id, 0) - balances_before.get(vase.shop_id, 0)

    # acting again books nothing twice
    count = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine))
    client.post(f"/admin/payments/bank/{t3}/refund", data={"note": "FT-BACK-120"})
    client.post(f"/admin/payments/bank/{t2}/settle", data={"note": "FT-BACK-55"})
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine)) == count
    assert ledger.post_transfer_returned(f"banktxn-{t2}-excess", "vietqr", memo="again") == 0
    # the platform's month shows the bank lines by method and kind
    page = client.get("/admin/ledger").get_data(as_text=True)
    assert 'data-kind="transfer_held"' in page and 'data-kind="transfer_returned"' in page


def test_a_late_transfer_refunded_is_booked_once(client, login):
    """A transfer that paid orders after their hold ended was booked as their sale; sending it back is
    their refund (refund_order), not bank lines as well."""
    vase, _ = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    db.session.execute(sa.text("UPDATE orders SET status = 'expired' WHERE checkout_id = :c"), {"c": a.id})
    db.session.commit()
    post_transfer(client, "L1", a.total, f"CK {a.stripe_session_id}")
    assert _row("L1").reason == "late"
    admin_client(client, login)
    assert client.post(f"/admin/payments/bank/{_row('L1').id}/refund", data={"note": "FT-L1"}).status_code == 303
    assert _bank_lines() == []
    assert _cash(LedgerLine.debit) == a.total and _cash(LedgerLine.credit) == a.total  # sale in, refund out
