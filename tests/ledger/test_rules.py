"""Ledger rules that need no world: lines are never updated or deleted, no float in a money path, rounding,
Hà Nội months, bad input."""
import ast
import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import (
    LedgerImmutable,
    LedgerLine,
    Payout,
    PayoutAccount,
    PayoutBatch,
    PayoutStatus,
    wipe_lines,
)
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.payments import registry
from tests.factories import make_product, make_shop, make_user
from tests.orders.helpers import place

LEDGER = Path(__file__).resolve().parents[2] / "marketplace" / "ledger"
MONEY_MODULES = sorted(LEDGER.glob("*.py"))


def _adjusted_shop():
    shop = make_shop()
    admin = make_user("admin")
    db.session.commit()
    assert ledger.adjust(admin, shop, 10_000, "Bù phí", token="t1")
    db.session.commit()
    return shop, admin


def test_lines_are_never_updated_or_deleted(app):
    shop, _admin = _adjusted_shop()
    line = db.session.scalar(sa.select(LedgerLine))
    line.amount = 1
    with pytest.raises(LedgerImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(sa.select(LedgerLine)))
    with pytest.raises(LedgerImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(LedgerImmutable):
        db.session.execute(sa.update(LedgerLine).values(amount=1))
    db.session.rollback()
    with pytest.raises(LedgerImmutable):
        db.session.execute(sa.delete(LedgerLine).where(LedgerLine.shop_id == shop.id))
    db.session.rollback()
    assert [(line.amount, line.effect) for line in db.session.scalars(sa.select(LedgerLine))] == [(10_000, 10_000)]
    assert ledger.balance(shop.id) == 10_000


def test_no_float_in_the_ledger():
    """Money is int đồng: no float literal, no float(), no true division anywhere in the ledger's modules."""
    assert MONEY_MODULES
    for path in MONEY_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), f"{path.name}:{node.lineno}"
            assert not (isinstance(node, ast.Name) and node.id in ("float", "Decimal", "round")), \
                f"{path.name}:{node.lineno}: {node.id}"
            assert not (isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div)), \
                f"{path.name}:{node.lineno}: true division"


def test_rounding_is_half_up_in_whole_dong(app):
    assert ledger.round_half_up(4375, 10) == 438
    assert ledger.round_half_up(4374, 10) == 437
    assert ledger.round_half_up(0, 7) == 0
    with app.app_context():
        assert ledger.withholding(350_000) == (3_500, 1_750)
        assert ledger.withholding(350_050) == (3_501, 1_750)  # 3.500,5 up; 1.750,25 down
        assert all(isinstance(x, int) for x in ledger.withholding(123_457))


def test_months_are_hanoi_months():
    start, end = ledger.month_bounds(date(2026, 12, 1))
    assert start == datetime(2026, 11, 30, 17, 0) and end == datetime(2026, 12, 31, 17, 0)
    assert ledger.parse_month("2026-02") == date(2026, 2, 1)
    for bad in ("2026-13", "26-01", "2026-1", "x", "1999-01", "2026-02-01"):
        with pytest.raises(InvalidInput):
            ledger.parse_month(bad)


def test_adjustments_need_a_reason_and_an_admin(app):
    shop, admin = _adjusted_shop()
    with pytest.raises(InvalidInput):
        ledger.adjust(admin, shop, 5_000, "", token="t2")
    with pytest.raises(InvalidInput):
        ledger.adjust(admin, shop, 0, "Không", token="t3")
    with pytest.raises(InvalidInput):
        ledger.adjust(admin, shop, 5_000, "Bù phí", token="bad token!")
    with pytest.raises(NotAllowed):
        ledger.adjust(shop.owner, shop, 5_000, "Tự cộng", token="t4")
    db.session.rollback()
    assert ledger.balance(shop.id) == 10_000


def test_admin_forms_answer_bad_input_without_500(client, login):
    shop, admin = _adjusted_shop()
    login(client, admin)
    lines_before = db.session.scalar(sa.select(sa.func.count(LedgerLine.id)))
    statement = f"/admin/ledger/shops/{shop.id}"
    # a bad amount: back to the shop's statement saying what to enter
    r = client.post(f"{statement}/adjust", data={"amount": "abc", "reason": "x", "token": "t9"})
    assert r.status_code == 303 and r.headers["Location"] == statement
    assert "Nhập số tiền và lý do điều chỉnh." in client.get(statement).get_data(as_text=True)
    # a receipt from a shop that owes nothing (the platform owes it 10.000 ₫): refused with the reason
    r = client.post(f"{statement}/receipt", data={"amount": 5, "reference": "R", "token": "t8"})
    assert r.status_code == 303 and r.headers["Location"] == statement
    assert "Cửa hàng chỉ đang nợ sàn 0 ₫." in client.get(statement).get_data(as_text=True)
    # a payout above the balance: the form again with the field error
    r = client.post("/admin/ledger", data={"shop_id": shop.id, "amount": 10_001, "reference": "R"})
    assert r.status_code == 400
    assert "Số tiền chi trả lớn hơn số dư của cửa hàng (10.000 ₫)." in r.get_data(as_text=True)
    assert client.post("/admin/ledger/batches/999999/paid", data={"reference": "R"}).status_code == 404
    # nothing was booked: same lines, no payout, same balance
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(LedgerLine.id))) == lines_before
    assert db.session.scalar(sa.select(sa.func.count(Payout.id))) == 0
    assert ledger.balance(shop.id) == 10_000
    login(client, shop.owner)
    assert client.get("/admin/ledger").status_code == 403
    assert client.post(f"/admin/ledger/shops/{shop.id}/adjust", data={"amount": 1, "reason": "abc"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(LedgerLine.id))) == lines_before


def test_backfill_books_history_once(app, runner):
    """Data from before the ledger (orders paid, refunds, a legacy payout — here a COD shop's, the old wrong
    rule): ``flask ledger backfill`` books it at the time it happened; a second run books nothing."""
    shop = make_shop()
    admin = make_user("admin")
    variant = make_product(shop, price=100_000, stock=5).variants[0].id
    db.session.commit()
    checkout = place({variant: 1})
    order = db.session.get(Order, checkout.orders[0].id)
    orders.ship_order(shop.owner, order, "GHN", "G1")
    orders.deliver_order(shop.owner, db.session.get(Order, order.id))
    db.session.commit()
    orders.refund_order(shop.owner, db.session.get(Order, order.id), 13_000)
    db.session.commit()
    paid_at = db.session.get(Order, order.id).paid_at
    wipe_lines(db.session)  # as if the ledger did not exist yet (the triggers refuse a DELETE)
    db.session.add(Payout(shop_id=shop.id, amount=20_000, reference="VCB-OLD", actor_id=admin.id,
                          status=PayoutStatus.PAID, paid_at=paid_at))
    db.session.commit()
    result = runner.invoke(args=["ledger", "backfill"])
    assert result.exit_code == 0 and "sales 1, refunds 1, payouts 1" in result.output, result.output
    # commission 8.000 (8 % of 100.000), back 800 (13.000 / 130.000 of it), the old payout 20.000
    assert ledger.balance(shop.id) == -8_000 + 800 - 20_000
    sale = db.session.scalar(sa.select(LedgerLine).where(LedgerLine.kind == "commission"))
    assert sale.created_at == paid_at
    again = runner.invoke(args=["ledger", "backfill"])
    assert "sales 0, refunds 0, payouts 0" in again.output
    assert ledger.balance(shop.id) == -27_200


def test_batch_pages_export_and_mark_paid(client, login):
    """The admin's batch flow through the pages: create → CSV for the bank → cancel one → mark paid."""
    admin = make_user("admin")
    shops = [make_shop(name=f"Xưởng {n}") for n in range(2)]
    db.session.commit()
    for n, shop in enumerate(shops):
        ledger.adjust(admin, shop, 100_000 * (n + 1), "Số dư mở đầu", token=f"open-{n}")
        db.session.add(PayoutAccount(shop_id=shop.id, bank_name="BIDV", account_number=f"12345678{n}",
                                     account_name="=HYPERLINK(1)"))
    db.session.commit()
    login(client, admin)
    assert client.post("/admin/ledger/batches").status_code == 303
    batch = db.session.scalar(sa.select(PayoutBatch))
    rows = list(csv.reader(io.StringIO(client.get(f"/admin/ledger/batches/{batch.id}.csv").get_data(as_text=True))))
    assert [(r[1], r[6]) for r in rows[1:]] == [(str(shops[0].id), "100000"), (str(shops[1].id), "200000")]
    assert rows[1][5] == "'=HYPERLINK(1)"  # a formula is written as text (core/spreadsheet.safe_row)
    page = client.get("/admin/ledger").get_data(as_text=True)
    assert "2 khoản, 300.000 ₫" in page
    second = db.session.scalar(sa.select(Payout).where(Payout.shop_id == shops[1].id))
    assert client.post(f"/admin/ledger/payouts/{second.id}/cancel").status_code == 303
    assert client.post(f"/admin/ledger/batches/{batch.id}/paid", data={"reference": ""}).status_code == 303
    assert ledger.balance(shops[0].id) == 100_000  # no reference: nothing booked
    assert client.post(f"/admin/ledger/batches/{batch.id}/paid", data={"reference": "BIDV-77"}).status_code == 303
    assert client.post(f"/admin/ledger/batches/{batch.id}/paid", data={"reference": "BIDV-77"}).status_code == 303
    assert (ledger.balance(shops[0].id), ledger.balance(shops[1].id)) == (0, 200_000)
    assert "1 khoản, 100.000 ₫" in client.get("/admin/ledger").get_data(as_text=True)


def test_the_ledger_never_branches_on_a_method_identifier():
    """Who owes whom comes from ``collector``: no payment method's identifier appears in the ledger's code."""
    identifiers = {m.identifier for m in registry.METHODS} | {"vietqr", "vnpay"}
    for path in MONEY_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in identifiers, f"{path.name}:{node.lineno}: {node.value!r}"
