"""Seller operations (issue 17): shop alerts (mail at once or daily digest, dashboard counts), the order
queue (default "to ship", tabs, counts, search, paging, packing slips), cancel with a required reason,
order messages (buyer, guest through the signed link, shop, admin; IDOR → 404), history words and times."""
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderMessage
from marketplace.shops import alerts
from marketplace.shops import services as shop_services
from marketplace.shops.models import ShopAlert
from tests.factories import make_product, make_shop, make_user
from tests.orders.helpers import place, shopper


def _mails(to: str) -> list:
    return [m for m in read_outbox() if m["To"] == to]


def _shop_with_product(stock: int = 10, **shop_kw):
    shop = make_shop(**shop_kw)
    product = make_product(shop, title_vi="Bình gốm men lam", price=350_000, stock=stock, images=1)
    db.session.commit()
    return shop, product


def _order(product, qty: int = 1, buyer=None, **kw):
    checkout = place({product.variants[0].id: qty}, buyer=buyer, **kw)
    return checkout, checkout.orders[0]


# --- alerts ------------------------------------------------------------------------------------------

def test_new_order_mails_the_shop_in_its_language_and_counts_on_dashboard(client, login):
    shop, product = _shop_with_product()
    shop.owner.locale = "en"
    db.session.commit()
    _checkout, order = _order(product, 2)
    mails = _mails(shop.owner.email)
    assert len(mails) == 1 and mails[0]["Subject"].startswith(f"New order {services.order_number(order.id)}")
    assert f"/seller/orders/{order.id}" in mails[0].get_content()
    login(client, shop.owner)
    page = client.get("/seller/").get_data(as_text=True)
    assert '<strong class="to-ship">1</strong>' in page


def test_dashboard_statement_count(client, login, app):
    """The figure for the report: SQL statements of one seller dashboard request (constant in orders)."""
    shop, product = _shop_with_product()
    for _i in range(3):
        _order(product)
    login(client, shop.owner)
    client.get("/seller/")  # warm-up (first request loads what is cached per process)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/seller/")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200 and '<strong class="to-ship">3</strong>' in response.get_data(as_text=True)
    print(f"\nseller dashboard: {len(statements)} SQL statements per request")
    assert len(statements) <= 12, statements


def test_digest_shop_gets_one_mail_a_day_not_one_per_alert(app):
    shop, product = _shop_with_product(alert_digest=True)
    _order(product)
    _order(product)
    assert _mails(shop.owner.email) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopAlert)
                             .where(ShopAlert.shop_id == shop.id, ShopAlert.mailed_at.is_(None))) == 2
    assert alerts.send_digests() == 1
    db.session.commit()
    mails = _mails(shop.owner.email)
    assert len(mails) == 1 and "2 thông báo" in mails[0]["Subject"]
    assert alerts.send_digests() == 0  # each alert is mailed once
    db.session.commit()
    assert len(_mails(shop.owner.email)) == 1


def test_low_stock_alert_when_a_sale_crosses_the_shops_threshold(app):
    shop, product = _shop_with_product(stock=6, low_stock_threshold=5)
    _order(product, 1)  # 6 → 5: crosses the threshold
    _order(product, 1)  # 5 → 4: already below, no second alert
    subjects = [m["Subject"] for m in _mails(shop.owner.email)]
    assert [s for s in subjects if s.startswith("Sắp hết hàng")] == ["Sắp hết hàng: Bình gốm men lam – Tiêu chuẩn"]


def test_verification_decision_reaches_the_shop(app):
    shop = make_shop(verified=False)
    admin = make_user("admin")
    db.session.commit()
    shop_services.verify_shop(admin, shop)
    db.session.commit()
    assert [m["Subject"] for m in _mails(shop.owner.email)] == [f"Cửa hàng {shop.name} đã được xác minh"]


def test_alert_settings_refuse_a_bad_threshold(client, login):
    shop, _product = _shop_with_product()
    login(client, shop.owner)
    assert client.post("/seller/alerts", data={"low_stock_threshold": "-1", "alert_digest": "1"}).status_code == 303
    db.session.refresh(shop)
    assert (shop.low_stock_threshold, shop.alert_digest) == (None, False)
    client.post("/seller/alerts", data={"low_stock_threshold": "7", "alert_digest": "1"})
    db.session.refresh(shop)
    assert (shop.low_stock_threshold, shop.alert_digest) == (7, True)


# --- the queue ---------------------------------------------------------------------------------------

def test_queue_defaults_to_ship_with_tab_counts_search_and_paging(client, login, app):
    shop, product = _shop_with_product()
    _c1, first = _order(product)
    _c2, second = _order(product)
    services.ship_order(shop.owner, first, "VNPost", "EB1VN")
    db.session.commit()
    login(client, shop.owner)
    page = client.get("/seller/orders").get_data(as_text=True)
    assert services.order_number(second.id) in page and services.order_number(first.id) not in page
    assert 'tab=to_ship" aria-current="page">Cần gửi hàng <span class="count">1</span>' in page
    shipped = client.get("/seller/orders?tab=shipped").get_data(as_text=True)
    assert services.order_number(first.id) in shipped and "EB1VN" in shipped
    assert services.order_number(second.id) not in shipped
    found = client.get(f"/seller/orders?q={services.order_number(first.id)}").get_data(as_text=True)
    assert services.order_number(first.id) in found and services.order_number(second.id) not in found
    by_phone = client.get("/seller/orders?q=%2B84 912 345 678").get_data(as_text=True)
    assert services.order_number(first.id) in by_phone and services.order_number(second.id) in by_phone
    assert "Không tìm thấy đơn nào" in client.get("/seller/orders?q=0999999999").get_data(as_text=True)
    app.config["SELLER_ORDERS_PER_PAGE"] = 1
    one = client.get("/seller/orders?tab=all").get_data(as_text=True)
    two = client.get("/seller/orders?tab=all&page=2").get_data(as_text=True)
    assert services.order_number(second.id) in one and services.order_number(first.id) not in one
    assert services.order_number(first.id) in two and "Trang 2 / 2" in two
    assert client.get("/seller/orders?tab=nonsense&page=abc").status_code == 200


def test_packing_slips_one_per_order_and_404_for_another_shops_order(client, login):
    shop, product = _shop_with_product()
    other, other_product = _shop_with_product()
    _c1, a = _order(product)
    _c2, b = _order(product, 3)
    _c3, foreign = _order(other_product)
    login(client, shop.owner)
    page = client.get(f"/seller/orders/slips?ids={a.id}&ids={b.id}").get_data(as_text=True)
    assert page.count('class="slip"') == 2 and "Số 5, thôn 3" in page and "css/slips.css" in page
    assert "Bình gốm men lam – Tiêu chuẩn" in page
    assert client.get(f"/seller/orders/slips?ids={a.id}&ids={foreign.id}").status_code == 404
    assert client.get("/seller/orders/slips?ids=x").status_code == 404


def test_tracking_and_vietnamese_history_on_seller_and_buyer_pages(client, login):
    shop, product = _shop_with_product()
    buyer = shopper()
    _checkout, order = _order(product, buyer=buyer)
    services.ship_order(shop.owner, order, "GHN", "GHN12345")
    db.session.commit()
    login(client, shop.owner)
    page = client.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    assert "GHN12345" in page and "Người mua" in page and "Cửa hàng" in page
    assert "shopper" not in page and "artisan" not in page
    login(client, buyer)
    mine = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert "GHN12345" in mine and "Đơn hàng của tôi" in mine


# --- cancel with care --------------------------------------------------------------------------------

def test_cancel_needs_a_confirmation_step_and_a_reason(client, login):
    shop, product = _shop_with_product(stock=5)
    _checkout, order = _order(product, 2)
    login(client, shop.owner)
    page = client.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    assert f'href="/seller/orders/{order.id}/cancel"' in page and f'action="/seller/orders/{order.id}/cancel"' not in page
    confirm = client.get(f"/seller/orders/{order.id}/cancel").get_data(as_text=True)
    assert "Xác nhận hủy đơn" in confirm and 'value="out_of_stock"' in confirm
    before = len(read_outbox())
    for data in ({}, {"reason_code": "other"}, {"reason_code": "other", "reason": "   "}, {"reason_code": "bogus"}):
        r = client.post(f"/seller/orders/{order.id}/cancel", data=data)
        assert r.status_code == 400, data
    db.session.refresh(order)
    assert order.status == "awaiting_shipment" and order.cancel_reason is None
    assert db.session.get(Variant, product.variants[0].id).stock == 3
    assert len(read_outbox()) == before
    r = client.post(f"/seller/orders/{order.id}/cancel", data={"reason_code": "out_of_stock", "reason": "men bị nứt"})
    assert r.status_code == 303
    db.session.refresh(order)
    assert (order.status, order.cancel_reason) == ("cancelled", "Hết hàng — men bị nứt")
    db.session.expire_all()
    assert db.session.get(Variant, product.variants[0].id).stock == 5
    buyer_mail = [m for m in read_outbox() if m["To"] == "lan@example.vn" and "Đã hủy" in m["Subject"]]
    assert len(buyer_mail) == 1 and "Lý do: Hết hàng — men bị nứt" in buyer_mail[0].get_content()
    guest_page = client.get(services.checkout_url(order.checkout)).get_data(as_text=True)
    assert "Hết hàng — men bị nứt" in guest_page


def test_cancel_service_refuses_without_reason(app):
    shop, product = _shop_with_product()
    _checkout, order = _order(product)
    try:
        services.cancel_order(shop.owner, order)
    except services.InvalidInput as exc:
        assert exc.field == "reason"
    else:
        raise AssertionError("cancelled without a reason")
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "awaiting_shipment"


# --- order messages ----------------------------------------------------------------------------------

def test_messages_between_buyer_and_shop_with_mail_and_idor(client, login):
    shop, product = _shop_with_product()
    buyer, intruder = shopper(), shopper()
    other_shop, _p = _shop_with_product()
    _checkout, order = _order(product, buyer=buyer)
    login(client, buyer)
    assert client.post(f"/account/orders/{order.id}/messages", data={"body": "Khi nào gửi hàng ạ?"}).status_code == 303
    shop_mail = [m for m in _mails(shop.owner.email) if m["Subject"].startswith("Tin nhắn mới")]
    assert len(shop_mail) == 1 and "Khi nào gửi hàng ạ?" in shop_mail[0].get_content()
    login(client, shop.owner)
    dash = client.get("/seller/").get_data(as_text=True)
    assert '<strong class="new-messages">1</strong>' in dash
    page = client.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    assert "Khi nào gửi hàng ạ?" in page
    assert '<strong class="new-messages">0</strong>' in client.get("/seller/").get_data(as_text=True)
    assert client.post(f"/seller/orders/{order.id}/messages", data={"body": "<b>Mai</b> ạ"}).status_code == 303
    assert any("<b>Mai</b> ạ" in m.get_content() for m in _mails("lan@example.vn"))
    assert "&lt;b&gt;Mai&lt;/b&gt;" in client.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(OrderMessage))
    login(client, intruder)
    assert client.get(f"/account/orders/{order.id}").status_code == 404
    assert client.post(f"/account/orders/{order.id}/messages", data={"body": "xin chào"}).status_code == 404
    login(client, other_shop.owner)
    assert client.get(f"/seller/orders/{order.id}").status_code == 404
    assert client.post(f"/seller/orders/{order.id}/messages", data={"body": "xin chào"}).status_code == 404
    assert client.post("/seller/orders/2147483647/messages", data={"body": "x"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderMessage)) == count
    admin = make_user("admin")
    db.session.commit()
    login(client, admin)
    admin_page = client.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    assert "Khi nào gửi hàng ạ?" in admin_page


def test_guest_messages_through_the_signed_link_only(client, app):
    shop, product = _shop_with_product()
    checkout, order = _order(product)
    other_checkout, other_order = _order(product)
    token = services.checkout_link_token(checkout.id)
    r = client.post(f"/orders/c/{token}/{order.id}/messages", data={"body": "Giao giờ hành chính giúp em"})
    assert r.status_code == 303
    assert client.post(f"/orders/c/{token}/{other_order.id}/messages", data={"body": "x"}).status_code == 404
    assert client.post(f"/orders/c/forged/{order.id}/messages", data={"body": "x"}).status_code == 404
    app.config["ORDER_MESSAGE_MAX_CHARS"] = 10
    client.post(f"/orders/c/{token}/{order.id}/messages", data={"body": "quá dài quá dài quá dài"})
    rows = db.session.scalars(sa.select(OrderMessage).order_by(OrderMessage.id)).all()
    assert [(m.order_id, m.author, m.body) for m in rows] == [(order.id, "buyer", "Giao giờ hành chính giúp em")]
    assert "Giao giờ hành chính giúp em" in client.get(f"/orders/c/{token}").get_data(as_text=True)
