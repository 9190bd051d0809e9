"""A test world with hand-computed balances: three shops, sales by Stripe (fake Stripe server), VietQR and
VNPay (test-only platform-collected gateways) and cash on delivery, a partial refund of each, withholding
for household sellers, an adjustment, a receipt, payouts (one by batch, one single). Every shop's lines
and balance are asserted against figures worked out by hand (commission 8 %, VAT 1 %, PIT 0.5 %, halves up).

Shop A (household, 350.000 ₫ vase, shipping 30.000 ₫, free from 1.000.000 ₫)
  Stripe  A×1: total 380.000  commission 28.000  VAT 3.500   PIT 1.750  → +346.750
  VietQR  A×2: total 730.000  commission 56.000  VAT 7.000   PIT 3.500  → +663.500
  VNPay   A×3: total 1.050.000 (free shipping) commission 84.000  VAT 10.500  PIT 5.250 → +950.250
  COD     A×1: total 380.000 collected by the shop: commission 28.000 → −28.000
  refund Stripe 95.000: −95.000 + commission 7.000 + VAT 875 + PIT 438 (437,5 up)           → −86.687
  refund VietQR 100.000: −100.000 + 7.671 (7.671,2) + 959 (958,9) + 479 (479,4)              → −90.891
  refund VNPay 210.001: −210.001 + 16.800 (16.800,08) + 2.100 (2.100,01) + 1.050 (1.050,005)  → −190.051
  refund COD 38.000 (paid back by the shop itself): commission 2.800 back                    → +2.800
  balance 1.567.671; adjustment −17.671 (gift boxes) → 1.550.000; batch payout 1.550.000 → 0
Shop B (not a household seller: nothing withheld; 420.000 ₫ scarf, shipping 25.000 ₫)
  Stripe B×1: 445.000 − commission 33.600 → +411.400; VNPay B×2: 865.000 − 67.200 → +797.800
  refund VNPay 65.000: −65.000 + 5.050 (5.049,7) → −59.950; refund Stripe 445.000 (full): −445.000 + 33.600
  balance 737.850; single payout 700.000 → 37.850
Shop C (cash on delivery only, 200.000 ₫ lamp, shipping 20.000 ₫)
  COD C×2: 420.000 → commission 32.000 owed; COD C×1: 220.000 → commission 16.000 owed
  refund COD 20.000: commission back round(16.000 × 20.000 / 220.000) = 1.455 (1.454,5 up)
  balance −46.545 (commission due); the shop transfers 40.000 (receipt) → −6.545
"""
import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Kind, LedgerLine, Payout, PayoutAccount
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order
from marketplace.payments import services as payments
from marketplace.payments.models import Refund
from marketplace.shops.models import Shop
from tests.factories import make_product, make_shop, make_user
from tests.ledger.helpers import lines_of
from tests.orders.helpers import place
from tests.payments.helpers import deliver


def _order(checkout_id: int, shop_id: int) -> Order:
    db.session.expire_all()
    return next(o for o in db.session.get(Checkout, checkout_id).orders if o.shop_id == shop_id)


def _deliver(order: Order) -> None:
    owner = order.shop.owner
    orders.ship_order(owner, order, "GHN", f"G{order.id}")
    orders.deliver_order(owner, db.session.get(Order, order.id))
    db.session.commit()


def _refund(order: Order, amount: int) -> Refund:
    refund = orders.refund_order(order.shop.owner, db.session.get(Order, order.id), amount, "test")
    db.session.commit()
    assert refund.status == "succeeded"
    return refund


def _stripe_pay(client, fake, checkout) -> None:
    orders.start_payment(db.session.get(Checkout, checkout.id))
    db.session.commit()
    session = fake.pay(db.session.get(Checkout, checkout.id).stripe_session_id)
    assert deliver(fake, client, "checkout.session.completed", session).status_code == 200


def build_world(client, fake_stripe, gateways):
    shop_a = make_shop(name="Gốm Minh", shipping_fee=30_000, free_shipping_over=1_000_000)
    shop_b = make_shop(name="Lụa Vạn Phúc", shipping_fee=25_000, household_seller=False)
    shop_c = make_shop(name="Đèn Thanh Hà", shipping_fee=20_000)
    vase = make_product(shop_a, price=350_000, stock=50).variants[0].id
    scarf = make_product(shop_b, price=420_000, stock=50).variants[0].id
    lamp = make_product(shop_c, price=200_000, stock=50).variants[0].id
    db.session.commit()
    a, b, c = shop_a.id, shop_b.id, shop_c.id

    stripe_co = place({vase: 1, scarf: 1}, method="stripe")
    _stripe_pay(client, fake_stripe, stripe_co)
    vietqr_co = place({vase: 2}, method="vietqr")
    assert gateways["vietqr"].pay(vietqr_co) == "paid"
    db.session.commit()
    vnpay_co = place({vase: 3, scarf: 2}, method="vnpay")
    assert gateways["vnpay"].pay(vnpay_co) == "paid"
    db.session.commit()
    cod_co = place({vase: 1, lamp: 2})
    cod_c2 = place({lamp: 1})
    for order in (_order(cod_co.id, a), _order(cod_co.id, c), _order(cod_c2.id, c)):
        _deliver(order)

    _refund(_order(stripe_co.id, a), 95_000)
    _refund(_order(vietqr_co.id, a), 100_000)
    _refund(_order(vnpay_co.id, a), 210_001)
    _refund(_order(cod_co.id, a), 38_000)
    _refund(_order(vnpay_co.id, b), 65_000)
    _refund(_order(stripe_co.id, b), 445_000)
    _refund(_order(cod_c2.id, c), 20_000)
    return a, b, c, dict(stripe=stripe_co.id, vietqr=vietqr_co.id, vnpay=vnpay_co.id, cod=cod_co.id, cod2=cod_c2.id)


def test_world_lines_and_balances(client, fake_stripe, platform_gateways):
    a, b, c, checkouts = build_world(client, fake_stripe, platform_gateways)
    admin = make_user("admin")
    db.session.commit()

    # --- shop A, line by line (kind, method, effect on the balance) ---
    assert lines_of(a) == [
        ("sale", "stripe", 380_000), ("commission", "stripe", -28_000), ("vat", "stripe", -3_500),
        ("pit", "stripe", -1_750),
        ("sale", "vietqr", 730_000), ("commission", "vietqr", -56_000), ("vat", "vietqr", -7_000),
        ("pit", "vietqr", -3_500),
        ("sale", "vnpay", 1_050_000), ("commission", "vnpay", -84_000), ("vat", "vnpay", -10_500),
        ("pit", "vnpay", -5_250),
        ("cod_sale", "cod", 0), ("commission", "cod", -28_000),
        ("refund", "stripe", -95_000), ("commission_rev", "stripe", 7_000), ("vat_rev", "stripe", 875),
        ("pit_rev", "stripe", 438),
        ("refund", "vietqr", -100_000), ("commission_rev", "vietqr", 7_671), ("vat_rev", "vietqr", 959),
        ("pit_rev", "vietqr", 479),
        ("refund", "vnpay", -210_001), ("commission_rev", "vnpay", 16_800), ("vat_rev", "vnpay", 2_100),
        ("pit_rev", "vnpay", 1_050),
        ("cod_refund", "cod", 0), ("commission_rev", "cod", 2_800),
    ]
    assert ledger.balance(a) == 1_567_671
    # --- shop B: no withholding (not a household seller) ---
    assert lines_of(b) == [
        ("sale", "stripe", 445_000), ("commission", "stripe", -33_600),
        ("sale", "vnpay", 865_000), ("commission", "vnpay", -67_200),
        ("refund", "vnpay", -65_000), ("commission_rev", "vnpay", 5_050),
        ("refund", "stripe", -445_000), ("commission_rev", "stripe", 33_600),
    ]
    assert ledger.balance(b) == 737_850
    # --- shop C: cash on delivery only, it owes the commission ---
    assert lines_of(c) == [
        ("cod_sale", "cod", 0), ("commission", "cod", -32_000),
        ("cod_sale", "cod", 0), ("commission", "cod", -16_000),
        ("cod_refund", "cod", 0), ("commission_rev", "cod", 1_455),
    ]
    assert ledger.balance(c) == -46_545
    assert ledger.position(db.session.get(Shop, c)).shop_owes == 46_545

    # every line is balanced by construction, and the COD lines never touch the shop's account
    for line in db.session.scalars(sa.select(LedgerLine)):
        assert line.amount > 0 and line.debit != line.credit
        if line.kind in (Kind.COD_SALE, Kind.COD_REFUND):
            assert "shop" not in (line.debit, line.credit)

    # --- adjustment, payouts, receipt ---
    shop_a, shop_b, shop_c = (db.session.get(Shop, i) for i in (a, b, c))
    assert ledger.adjust(admin, shop_a, -17_671, "Hộp quà tặng sàn cấp", token="adj-a-1")
    assert not ledger.adjust(admin, shop_a, -17_671, "Hộp quà tặng sàn cấp", token="adj-a-1")  # replay
    db.session.commit()
    assert ledger.balance(a) == 1_550_000

    with pytest.raises(InvalidInput):
        ledger.record_payout(admin, shop_b, 737_851, "VCB-B-0")
    db.session.rollback()
    ledger.record_payout(admin, shop_b, 700_000, "VCB-B-1")
    db.session.commit()
    assert ledger.balance(b) == 37_850

    # a batch pays every positive balance that has a bank account (A only: B has none, C owes)
    db.session.add(PayoutAccount(shop_id=a, bank_name="Vietcombank", account_number="0011001234567",
                                 account_name="NGUYEN VAN MINH"))
    db.session.commit()
    batch = ledger.create_payout_batch(admin)
    db.session.commit()
    assert [(p.shop_id, p.amount) for p in batch.payouts] == [(a, 1_550_000)]
    rows = list(csv.reader(io.StringIO(ledger.batch_csv(batch))))
    assert rows[0][0] == "payout_id" and rows[1][1:] == [str(a), "Gốm Minh", "Vietcombank", "0011001234567",
                                                         "NGUYEN VAN MINH", "1550000", f"CLN chi tra {batch.payouts[0].id}"]
    assert ledger.create_payout_batch(admin) is None  # nothing left available (A's is pending)
    assert ledger.mark_batch_paid(admin, batch, "VCB-BATCH-1") == 1
    assert ledger.mark_batch_paid(admin, batch, "VCB-BATCH-1") == 0  # once
    db.session.commit()
    assert ledger.balance(a) == 0

    assert ledger.record_receipt(admin, shop_c, 40_000, "VCB-IN-C", token="rc-c-1")
    db.session.commit()
    assert ledger.balance(c) == -6_545

    # the platform's totals for the month, per method and kind
    totals = {(t.method, t.kind): t.amount for t in ledger.platform_totals(ledger.parse_month(None))}
    assert totals[("vnpay", "sale")] == 1_050_000 + 865_000
    assert totals[("stripe", "sale")] == 380_000 + 445_000
    assert totals[("vietqr", "sale")] == 730_000
    assert totals[("cod", "cod_sale")] == 380_000 + 420_000 + 220_000
    assert totals[("cod", "commission")] == 28_000 + 32_000 + 16_000
    assert totals[("stripe", "refund")] == 95_000 + 445_000
    assert totals[("vnpay", "vat")] == 10_500 and totals[("vnpay", "pit")] == 5_250
    assert totals[(None, "payout")] == 700_000 + 1_550_000
    assert totals[(None, "receipt")] == 40_000 and totals[(None, "adjustment")] == 17_671
    # money never appears from nowhere: every shop's balance is the sum of its lines' effects
    assert sum(ledger.balances().values()) == 0 + 37_850 - 6_545


def test_replays_book_nothing_twice(client, fake_stripe, platform_gateways):
    shop = make_shop(name="Mây tre Phú Vinh")
    variant = make_product(shop, price=100_000, stock=5).variants[0].id
    db.session.commit()
    checkout = place({variant: 1}, method="vietqr")
    assert platform_gateways["vietqr"].pay(checkout, event_id="evt-1") == "paid"
    db.session.commit()
    with pytest.raises(payments.DuplicateEvent):
        platform_gateways["vietqr"].pay(checkout, event_id="evt-1")
    db.session.rollback()
    assert platform_gateways["vietqr"].pay(checkout, event_id="evt-2") == "already"  # another event, same payment
    db.session.commit()
    assert ledger.post_sale(db.session.get(Order, checkout.orders[0].id)) is False
    # 130.000 − 8.000 − 1.000 − 500
    assert ledger.balance(shop.id) == 120_500
    assert len(lines_of(shop.id)) == 4


def test_payout_rules_in_the_service(client, fake_stripe, platform_gateways):
    """Issue #19: the service itself refuses a non-admin; a payout pays only a positive balance, once."""
    shop = make_shop()
    variant = make_product(shop, price=100_000, stock=5).variants[0].id
    db.session.commit()
    platform_gateways["vnpay"].pay(place({variant: 1}, method="vnpay"))
    db.session.commit()
    owner = shop.owner
    with pytest.raises(NotAllowed):
        ledger.record_payout(owner, shop, 1_000, "X")
    with pytest.raises(NotAllowed):
        ledger.create_payout(make_user("official"), shop, 1_000)
    db.session.rollback()
    admin = make_user("admin")
    db.session.commit()
    with pytest.raises(InvalidInput):
        ledger.record_payout(admin, shop, 1_000, "")  # a bank reference is required
    db.session.rollback()
    payout = ledger.create_payout(admin, shop)  # all that is available: 120.500
    assert payout.amount == 120_500
    db.session.commit()
    with pytest.raises(InvalidInput):
        ledger.create_payout(admin, shop, 1)  # nothing left: the pending payout holds it
    db.session.rollback()
    assert ledger.pay_payout(admin, db.session.get(Payout, payout.id), "VCB-7")
    assert not ledger.pay_payout(admin, db.session.get(Payout, payout.id), "VCB-7")  # idempotent by payout id
    db.session.commit()
    assert ledger.balance(shop.id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine).where(LedgerLine.kind == "payout")) == 1


def test_a_refund_that_fails_after_success_is_reversed_by_a_mirror_entry(client, fake_stripe, platform_gateways):
    shop = make_shop()
    variant = make_product(shop, price=100_000, stock=5).variants[0].id
    db.session.commit()
    checkout = place({variant: 1}, method="vietqr")
    platform_gateways["vietqr"].pay(checkout)
    db.session.commit()
    order = db.session.get(Order, checkout.orders[0].id)
    refund = _refund(order, 65_000)
    after_refund = ledger.balance(shop.id)
    # 120.500 − 65.000 + commission 4.000 + VAT 500 + PIT 250 (half of each: 65.000 / 130.000)
    assert after_refund == 120_500 - 65_000 + 4_000 + 500 + 250
    assert orders.mark_refund_failed(db.session.get(Refund, refund.id))
    db.session.commit()
    assert ledger.balance(shop.id) == 120_500
    void = db.session.scalars(sa.select(LedgerLine).where(LedgerLine.entry == f"refund-{refund.id}-void")).all()
    assert len(void) == 4 and {line.reverses for line in void} == {f"refund-{refund.id}"}
    # refunding it again later reverses the commission again, from what is net reversed (0)
    _refund(db.session.get(Order, order.id), 130_000)
    assert ledger.balance(shop.id) == 0


def test_statement_pages_show_the_amounts(client, login, fake_stripe, platform_gateways, monkeypatch):
    """The seller's page, CSV and XLSX, and the admin's page, checked for their amounts (issue #19)."""
    shop = make_shop(name="Nón Chuông")
    variant = make_product(shop, price=100_000, stock=5).variants[0].id
    admin = make_user("admin")
    db.session.commit()
    # an adjustment last month gives this month its opening balance
    start, _end = ledger.month_bounds(ledger.parse_month(None))
    with monkeypatch.context() as patch:
        patch.setattr(ledger, "utcnow", lambda: start - timedelta(seconds=1))
        ledger.adjust(admin, shop, 5_000, "Bù phí vận chuyển", token="adj-open")
    db.session.commit()
    platform_gateways["vnpay"].pay(place({variant: 1}, method="vnpay"))
    db.session.commit()
    # 5.000 + 130.000 − 8.000 − 1.000 − 500 = 125.500
    login(client, shop.owner)
    page = client.get("/seller/statement").get_data(as_text=True)
    assert 'data-amount="opening">5.000 ₫' in page
    assert 'data-amount="sales">130.000 ₫' in page
    assert 'data-amount="commission">-8.000 ₫' in page
    assert 'data-amount="vat">-1.000 ₫' in page and 'data-amount="pit">-500 ₫' in page
    assert 'data-amount="cod">0 ₫' in page and 'data-amount="payouts">0 ₫' in page
    assert 'data-amount="closing"><strong>125.500 ₫' in page
    assert "Sàn nợ cửa hàng 125.500 ₫" in page
    rows = list(csv.reader(io.StringIO(client.get("/seller/statement.csv").get_data(as_text=True))))
    assert rows[1][2] == "số dư đầu kỳ" and rows[1][-1] == "5000"
    assert [r[-2] for r in rows[2:-1]] == ["130000", "-8000", "-1000", "-500"]
    assert rows[-1][2] == "số dư cuối kỳ" and rows[-1][-1] == "125500"
    book = load_workbook(io.BytesIO(client.get("/seller/statement.xlsx").data))
    sheet = book.active
    assert sheet.cell(row=sheet.max_row, column=9).value == 125_500
    assert sheet.cell(row=2, column=9).value == 5_000
    # another artisan cannot read it
    other = make_shop()
    db.session.commit()
    login(client, other.owner)
    assert client.get(f"/seller/statement?shop={shop.id}").status_code == 404
    # the admin's overview and the shop's statement
    login(client, admin)
    overview = client.get("/admin/ledger").get_data(as_text=True)
    assert f'data-shop="{shop.id}"' in overview and "Sàn nợ cửa hàng 125.500 ₫" in overview
    assert 'data-method="vnpay" data-kind="sale"><td>test vnpay</td>' in overview and "130.000 ₫" in overview
    detail = client.get(f"/admin/ledger/shops/{shop.id}").get_data(as_text=True)
    assert 'data-amount="closing"><strong>125.500 ₫' in detail
    assert client.get("/admin/ledger?month=2026-13").status_code == 404
    assert client.get(f"/admin/ledger/shops/{shop.id}.pdf").status_code == 404
