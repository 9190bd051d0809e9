"""Payment journeys in a real browser (Chromium through Playwright), on their own served site configured
for VietQR and VNPay (the latter pointed at the local fake VNPay server, which sends its IPN to this site).

1. A shopper pays by VietQR: the test decodes the QR image the page shows with a real QR decoder
   (zxing-cpp) and checks the EMVCo payload field by field, CRC included; an admin uploads the bank
   statement; the order is paid (once) and the transfer page says so. The page fits 360 px.
2. A shopper pays by VNPay on the fake's payment page; the IPN fulfils the order once and the shopper
   lands on the order page, paid.
"""
from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from marketplace.payments import emvco
from tests.browser.conftest import shot, sign_in
from tests.payments.fake_vnpay import FakeVNPay

pytestmark = pytest.mark.browser
BIN, ACCOUNT, NAME = "970436", "0011001234567", "CONG TY CHO LANG NGHE"


@pytest.fixture(scope="module")
def pay_site(tmp_path_factory, chromium_path):
    """(base URL, app, fake VNPay, product ids, admin email) of a small served site."""
    from werkzeug.serving import make_server

    from marketplace.extensions import db
    from tests.conftest import demo_password_hash, make_app
    from tests.factories import make_product, make_shop, make_user

    fake = FakeVNPay().start()
    base = tmp_path_factory.mktemp("pay-live")
    app = make_app(base, "sqlite", WTF_CSRF_ENABLED=True, SEARCH_ENABLED=False,
                   VIETQR_BANK_BIN=BIN, VIETQR_ACCOUNT_NUMBER=ACCOUNT, VIETQR_ACCOUNT_NAME=NAME,
                   VIETQR_WEBHOOK_SECRET="browser-hook-secret-0123456789",
                   VNPAY_TMN_CODE=fake.tmn_code, VNPAY_HASH_SECRET=fake.secret,
                   VNPAY_PAYMENT_URL=fake.payment_url, VNPAY_API_URL=fake.api_url)
    with app.app_context():
        db.create_all()
        shop = make_shop(shipping_fee=30_000)
        products = [make_product(shop, title_vi=f"Bình gốm men lam {i}", price=350_000 + i * 1000, stock=20).id
                    for i in range(2)]
        make_user("admin", email="admin-pay@example.vn", password_hash=demo_password_hash())
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = url
    fake.ipn_url = f"{url}/payments/vnpay/ipn"
    thread = threading.Thread(target=server.serve_forever, name="pay-live-server", daemon=True)
    thread.start()
    try:
        yield url, app, fake, products, "admin-pay@example.vn"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        fake.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def pay_page(browser, pay_site):
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=pay_site[0], viewport={"width": width, "height": height},
                                      locale="vi-VN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.csp_errors = []
        page.on("console", lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    yield make
    for context in contexts:
        context.close()


def _buy(page, product_id: int, method: str) -> None:
    page.goto(f"/products/{product_id}")
    page.click("form.buy-form button[type=submit]")
    page.wait_for_load_state()
    page.goto("/checkout")
    page.fill("input[name=recipient_name]", "Nguyễn Thị Lan")
    page.fill("input[name=phone]", "0912345678")
    page.fill("input[name=email]", "lan@example.vn")
    page.fill("input[name=ward]", "Bát Tràng")
    page.fill("input[name=street]", "Số 5, thôn 3")
    page.check(f"input[name=payment_method][value={method}]")
    page.click("form.checkout-form button[type=submit]")


def _checkout_of(app, reference: str):
    from marketplace.extensions import db
    from marketplace.orders.models import Checkout

    with app.app_context():
        checkout = db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == reference))
        result = (checkout.id, checkout.total, [(o.status, o.paid_at is not None) for o in checkout.orders])
        db.session.remove()
    return result


def _shop_of(app, product_id: int) -> int:
    from marketplace.catalog.models import Product
    from marketplace.extensions import db

    with app.app_context():
        shop_id = db.session.get(Product, product_id).shop_id
        db.session.remove()
    return shop_id


def _count_paid_events(app, checkout_id: int) -> int:
    from marketplace.extensions import db
    from marketplace.orders.models import Order, OrderEvent

    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).join(Order, Order.id == OrderEvent.order_id)
                              .where(Order.checkout_id == checkout_id, OrderEvent.to_status == "paid"))
        db.session.remove()
    return n


def test_journey_5_shopper_pays_by_vietqr_and_a_statement_settles_it(pay_page, pay_site, artifacts, tmp_path):
    _url, app, _fake, products, admin_email = pay_site
    page = pay_page(width=360, height=800)
    _buy(page, products[0], "vietqr")
    page.wait_for_url(re.compile(r"/payments/vietqr/pay/"))
    shot(page, artifacts, "pay-1-vietqr-page")
    reference = page.inner_text("#reference").strip()
    amount = int(page.inner_text("#amount").strip())
    checkout_id, total, orders = _checkout_of(app, reference)
    assert amount == total and orders == [("pending_payment", False)]
    assert page.inner_text("#account").strip() == ACCOUNT and NAME in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal overflow at 360 px"
    # the QR code as the browser drew it, decoded by a real QR decoder
    image_path = tmp_path / "qr.png"
    page.locator("figure.vietqr img").screenshot(path=str(image_path))
    decoded = zxingcpp.read_barcodes(Image.open(image_path))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    payload = decoded[0].text
    fields = emvco.parse(payload)  # raises when the CRC (63) does not match
    assert fields["00"] == "01" and fields["01"] == "12"
    assert fields["38"]["00"] == "A000000727" and fields["38"]["02"] == "QRIBFTTA"
    assert fields["38"]["01"] == {"00": BIN, "01": ACCOUNT}
    assert fields["53"] == "704" and fields["54"] == str(total) and fields["58"] == "VN"
    assert fields["62"] == {"08": reference}
    assert payload[-8:-4] == "6304" and fields["63"] == f"{emvco.crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert page.csp_errors == []

    # the admin uploads the bank statement: preview, then import
    statement = tmp_path / "saoke.csv"
    statement.write_text("SAO KE TAI KHOAN\nNgày giao dịch,Số tiền ghi có,Nội dung,Mã giao dịch\n"
                         f"07/12/2026 10:15,\"{total:,}\",NGUYEN THI LAN CK {reference},FT26341900001\n"
                         "07/12/2026 10:20,\"50,000\",tien nuoc,FT26341900002\n", encoding="utf-8")
    admin = pay_page()
    sign_in(admin, admin_email)
    admin.goto("/admin/payments/bank")
    admin.set_input_files("input[name=statement]", str(statement))
    admin.click("form[action$='/preview'] button[type=submit]")
    admin.wait_for_load_state()
    preview = admin.inner_text("table.statement-preview")
    assert "Khớp đơn" in preview and "Không khớp mã đơn" in preview
    assert _checkout_of(app, reference)[2] == [("pending_payment", False)]  # a preview writes nothing
    shot(admin, artifacts, "pay-2-statement-preview")
    admin.click("form[action$='/import'] button[type=submit]")
    admin.wait_for_load_state()
    assert "2 giao dịch mới" in admin.inner_text("body")
    assert "FT26341900002" in admin.inner_text("table.bank-review")  # unmatched: left for review
    assert _checkout_of(app, reference)[2] == [("paid", True)]
    # uploading the same statement again changes nothing
    admin.set_input_files("input[name=statement]", str(statement))
    admin.click("form[action$='/preview'] button[type=submit]")
    admin.wait_for_load_state()
    admin.click("form[action$='/import'] button[type=submit]")
    admin.wait_for_load_state()
    assert "0 giao dịch mới" in admin.inner_text("body")
    assert _count_paid_events(app, checkout_id) == 1
    shot(admin, artifacts, "pay-3-statement-imported")

    # the shop's statement shows the lines the settlement booked (8 % commission, VAT 1 % and PIT 0.5 % of
    # the goods withheld from a household seller, since the platform collected the money)
    shop_id = _shop_of(app, products[0])
    admin.goto(f"/admin/ledger/shops/{shop_id}")
    statement_text = admin.inner_text("main")
    goods = total - 30_000
    assert (total, goods) == (380_000, 350_000)
    for label, amount in (("Bán hàng – sàn thu hộ", "380.000 ₫"), ("Phí sàn", "28.000 ₫"),
                          ("Khấu trừ thuế GTGT", "3.500 ₫"), ("Khấu trừ thuế TNCN", "1.750 ₫")):
        row = admin.locator("tr", has_text=label).first.inner_text()
        assert amount in row, (label, row)
    assert "Sàn nợ cửa hàng 346.750 ₫" in statement_text
    shot(admin, artifacts, "pay-3b-shop-statement")

    page.reload()
    assert "Đã nhận được thanh toán" in page.inner_text("main")
    shot(page, artifacts, "pay-4-vietqr-paid")


def test_journey_6_shopper_pays_by_vnpay_and_the_ipn_fulfils_once(pay_page, pay_site, artifacts):
    url, app, fake, products, _admin = pay_site
    page = pay_page()
    answers_before = len(fake.ipn_answers)
    _buy(page, products[1], "vnpay")
    page.wait_for_url(re.compile(re.escape(fake.payment_url)))
    assert fake.errors == [], fake.errors  # the fake accepted the signature and the amount
    reference = re.search(r"vnp_TxnRef=([A-Za-z0-9]+)", page.url).group(1)
    checkout_id, total, orders = _checkout_of(app, reference)
    assert page.inner_text("#amount").strip() == str(total) and orders == [("pending_payment", False)]
    shot(page, artifacts, "pay-5-vnpay-page")
    page.click("#pay")
    page.wait_for_url(re.compile(re.escape(url) + r"/orders/c/"))
    assert fake.ipn_answers[answers_before:] == [{"RspCode": "00", "Message": "Confirm Success"}]
    assert _checkout_of(app, reference)[2] == [("paid", True)]
    assert _count_paid_events(app, checkout_id) == 1
    assert "Đã thanh toán" in page.inner_text("main")
    # VNPay's retry of the same IPN changes nothing
    params = fake.pay(reference)
    assert fake.send_ipn(params)["RspCode"] == "02"
    assert _count_paid_events(app, checkout_id) == 1
    assert page.csp_errors == []
    shot(page, artifacts, "pay-6-vnpay-paid")
