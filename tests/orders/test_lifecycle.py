"""Order lifecycle through the artisan's queue: ship, deliver (COD paid), cancel (stock back), refunds,
ledger, reviews; each transition recorded and mailed."""
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Payout
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent, Review
from marketplace.payments.models import Refund
from tests.factories import make_user
from tests.orders.helpers import place, shopper, two_shop_products


def _setup():
    vase, scarf = two_shop_products()
    buyer = shopper()
    checkout = place({vase.variants[0].id: 2, scarf.variants[0].id: 1}, buyer=buyer)
    order_a, order_b = checkout.orders
    return vase, scarf, buyer, order_a, order_b


def test_queue_shows_only_own_shop(client, login):
    vase, scarf, buyer, order_a, order_b = _setup()
    login(client, vase.shop.owner)
    page = client.get("/seller/orders").get_data(as_text=True)
    assert services.order_number(order_a.id) in page and services.order_number(order_b.id) not in page
    assert client.get(f"/seller/orders/{order_b.id}").status_code == 404
    assert client.post(f"/seller/orders/{order_b.id}/ship", data={"carrier": "x", "tracking_number": "y"}).status_code == 404


def test_queue_requires_artisan(client, login):
    _setup()
    response = client.get("/seller/orders")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(client, shopper())
    assert client.get("/seller/orders").status_code == 403


def test_ship_deliver_cod_marks_paid_and_books_commission(client, login, app):
    vase, scarf, buyer, order_a, _ = _setup()
    login(client, vase.shop.owner)
    r = client.post(f"/seller/orders/{order_a.id}/ship", data={"carrier": "", "tracking_number": ""})
    assert r.status_code == 400 and "Vui lòng nhập mã vận đơn" in r.get_data(as_text=True)
    r = client.post(f"/seller/orders/{order_a.id}/ship", data={"carrier": "VNPost", "tracking_number": "EB123VN"})
    assert r.status_code == 303
    order = db.session.get(Order, order_a.id)
    db.session.refresh(order)
    assert (order.status, order.carrier, order.tracking_number, order.paid_at) == ("shipped", "VNPost", "EB123VN", None)
    client.post(f"/seller/orders/{order_a.id}/deliver")
    db.session.refresh(order)
    assert order.status == "delivered" and order.paid_at is not None
    assert order.commission == 700_000 * app.config["PLATFORM_COMMISSION_PERCENT"] // 100
    events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).all()
    assert [(e.from_status, e.to_status, e.actor_id) for e in events] == [
        (None, "awaiting_shipment", buyer.id), ("awaiting_shipment", "shipped", vase.shop.owner_id),
        ("shipped", "delivered", vase.shop.owner_id)]
    subjects = [m["Subject"] for m in read_outbox()]
    assert any("Đang giao" in s for s in subjects) and any("Đã giao" in s for s in subjects)
    # delivering twice is refused, not a 500, and changes nothing: no new event, no mail, same dates
    delivered_at, paid_at, mails = order.delivered_at, order.paid_at, len(read_outbox())
    r = client.post(f"/seller/orders/{order_a.id}/deliver", follow_redirects=True)
    assert r.status_code == 200 and "Chỉ đơn đang giao mới có thể xác nhận đã giao." in r.get_data(as_text=True)
    db.session.refresh(order)
    assert (order.status, order.delivered_at, order.paid_at) == ("delivered", delivered_at, paid_at)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                             .where(OrderEvent.order_id == order.id)) == 3
    assert len(read_outbox()) == mails


def test_cancel_returns_stock(client, login):
    vase, scarf, buyer, order_a, _ = _setup()
    login(client, vase.shop.owner)
    assert client.post(f"/seller/orders/{order_a.id}/cancel", data={"reason": "Hết men"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order_a.id).status == "cancelled"
    assert db.session.get(Variant, vase.variants[0].id).stock == 10
    client.post(f"/seller/orders/{order_a.id}/cancel")  # twice: no second return
    db.session.expire_all()
    assert db.session.get(Variant, vase.variants[0].id).stock == 10


def test_cod_refund_limits_and_ledger(client, login, app):
    vase, scarf, buyer, order_a, _ = _setup()
    owner = vase.shop.owner
    order = db.session.get(Order, order_a.id)
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    login(client, owner)
    r = client.post(f"/seller/orders/{order.id}/refund", data={"amount": 800_000})
    assert r.status_code == 400 and "Chỉ có thể hoàn tối đa 730.000 ₫" in r.get_data(as_text=True)
    assert client.post(f"/seller/orders/{order.id}/refund", data={"amount": 100_000, "reason": "vỡ"}).status_code == 303
    db.session.expire_all()
    refund = db.session.scalar(sa.select(Refund))
    assert (refund.amount, refund.method, refund.status) == (100_000, "cod", "succeeded")
    # Cash on delivery: the shop holds the buyer's cash, so the platform owes it nothing; the shop owes the
    # commission (8 % of the 700.000 ₫ subtotal = 56.000 ₫). The shop paid the 100.000 ₫ refund back itself;
    # the refunded share of the commission comes back to it: round(56.000 × 100.000 / 730.000) = 7.671 ₫.
    assert app.config["PLATFORM_COMMISSION_PERCENT"] == 8
    assert ledger.balance(vase.shop_id) == -56_000 + 7_671
    assert client.post(f"/seller/orders/{order.id}/refund", data={"amount": 630_000}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "refunded"
    r = client.post(f"/seller/orders/{order.id}/refund", data={"amount": 1})
    assert r.status_code == 400 and "Chỉ có thể hoàn tối đa 0 ₫" in r.get_data(as_text=True)  # nothing left
    assert db.session.scalar(sa.select(sa.func.sum(Refund.amount))) == 730_000
    assert ledger.balance(vase.shop_id) == 0  # fully refunded: the whole commission is reversed
    page = client.get("/seller/statement").get_data(as_text=True)
    assert vase.shop.name in page and 'data-amount="closing"><strong>0 ₫' in page


def test_refund_before_payment_refused(app):
    vase, scarf, buyer, order_a, _ = _setup()
    import pytest

    from marketplace.errors import Conflict

    with pytest.raises(Conflict):
        services.refund_order(vase.shop.owner, db.session.get(Order, order_a.id), 1000)
    db.session.rollback()


def test_cod_shop_cannot_be_paid_out_and_owes_the_commission(client, login):
    """The old rule paid a COD shop 'its balance' — the cash it had already collected. Now a COD-only shop
    owes the commission: no payout is possible, its statement is a 'commission due' notice, and the admin
    books the shop's transfer as a receipt."""
    vase, scarf, buyer, order_a, _ = _setup()
    owner = vase.shop.owner
    order = db.session.get(Order, order_a.id)
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    assert ledger.balance(vase.shop_id) == -56_000
    admin = make_user("admin")
    db.session.commit()
    login(client, admin)
    r = client.post("/admin/ledger", data={"shop_id": vase.shop_id, "amount": 1, "reference": "VCB-1"})
    assert r.status_code == 400 and "lớn hơn số dư" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0
    login(client, owner)
    page = client.get("/seller/statement").get_data(as_text=True)
    assert "Phí sàn cần nộp" in page and "Cửa hàng nợ sàn 56.000 ₫" in page
    login(client, admin)
    form = {"amount": 56_000, "reference": "VCB-IN-9", "token": "t-56"}
    assert client.post(f"/admin/ledger/shops/{vase.shop_id}/receipt", data=form).status_code == 303
    assert client.post(f"/admin/ledger/shops/{vase.shop_id}/receipt", data=form).status_code == 303  # replay
    assert ledger.balance(vase.shop_id) == 0


def test_reviews_after_delivery_once_and_reply_once(client, login):
    vase, scarf, buyer, order_a, _ = _setup()
    login(client, buyer)
    client.post(f"/products/{vase.id}/reviews", data={"rating": "5", "body": "Đẹp"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0  # not delivered yet
    owner = vase.shop.owner
    order = db.session.get(Order, order_a.id)
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    # a refused review re-renders the page with the typed text (400 bad stars, 409 already reviewed)
    assert client.post(f"/products/{vase.id}/reviews", data={"rating": "9"}).status_code == 400
    assert client.post(f"/products/{vase.id}/reviews", data={"rating": "4", "body": "Men đẹp"}).status_code == 303
    assert client.post(f"/products/{vase.id}/reviews", data={"rating": "1"}).status_code == 409
    reviews = db.session.scalars(sa.select(Review)).all()
    assert [(r.rating, r.body) for r in reviews] == [(4, "Men đẹp")]
    page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    assert "4.0" in page and "1 đánh giá" in page and "Men đẹp" in page
    login(client, owner)
    client.post(f"/reviews/{reviews[0].id}/reply", data={"reply": "Cảm ơn bạn"})
    client.post(f"/reviews/{reviews[0].id}/reply", data={"reply": "Lần hai"})
    db.session.expire_all()
    assert db.session.get(Review, reviews[0].id).reply == "Cảm ơn bạn"


def test_shopper_history_and_guest_link(client, login):
    vase, scarf, buyer, order_a, order_b = _setup()
    login(client, buyer)
    page = client.get("/account/orders").get_data(as_text=True)
    assert services.order_number(order_a.id) in page and services.order_number(order_b.id) in page
    assert client.get(f"/account/orders/{order_a.id}").status_code == 200
    login(client, shopper())
    assert client.get(f"/account/orders/{order_a.id}").status_code == 404
    assert client.get("/orders/c/forged-token").status_code == 404


def test_buyer_confirms_receipt(client, login):
    vase, scarf, buyer, order_a, _ = _setup()
    owner = vase.shop.owner
    order = db.session.get(Order, order_a.id)
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    login(client, buyer)
    page = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert "Đã nhận hàng" in page
    assert client.post(f"/account/orders/{order.id}/complete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "completed"


def test_ledger_page_is_admin_only(client, login):
    vase, scarf, buyer, order_a, _ = _setup()
    login(client, vase.shop.owner)
    assert client.get("/admin/ledger").status_code == 403
    login(client, make_user("admin"))
    db.session.commit()
    page = client.get("/admin/ledger").get_data(as_text=True)
    assert vase.shop.name in page and scarf.shop.name in page
