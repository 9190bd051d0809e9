"""Checkout: one order per shop, snapshots, stock all-or-nothing, double submit, addresses, CSRF."""
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.orders import addresses
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, two_shop_products


def _stock(variant_id):
    db.session.expire_all()
    return db.session.get(Variant, variant_id).stock


def test_cod_checkout_creates_one_order_per_shop(client):
    vase, scarf = two_shop_products()
    add_to_cart(client, vase.variants[0].id, 2)
    add_to_cart(client, scarf.variants[0].id, 1)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert r.status_code == 303 and "/orders/c/" in r.headers["Location"]
    checkout = db.session.scalar(sa.select(Checkout))
    assert checkout.total == 700_000 + 30_000 + 420_000 + 25_000
    orders = checkout.orders
    assert [(o.shop_id, o.status, o.subtotal, o.shipping_fee) for o in orders] == [
        (vase.shop_id, "awaiting_shipment", 700_000, 30_000), (scarf.shop_id, "awaiting_shipment", 420_000, 25_000)]
    line = orders[0].lines[0]
    assert (line.title, line.variant_name, line.unit_price, line.quantity, line.village_id) == (
        "Bình gốm men lam", "Tiêu chuẩn", 350_000, 2, vase.shop.village_id)
    assert orders[0].ward == "Xã Bát Tràng" and orders[0].province == "Thành phố Hà Nội"
    assert orders[0].phone == "0912345678"
    assert _stock(vase.variants[0].id) == 8 and _stock(scarf.variants[0].id) == 9
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)) == 2
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "CLN-" in page and "1.175.000 ₫" in page
    with client.session_transaction() as s:
        assert not s.get("cart")
    mails = read_outbox()
    buyer = [m for m in mails if m["To"] == "lan@example.vn"]
    assert len(buyer) == 1 and "/orders/c/" in buyer[0].get_content()
    # each shop is told of its new order (shops.alerts)
    shop_subjects = sorted(m["Subject"].split(" (")[0] for m in mails if m["To"] != "lan@example.vn")
    assert len(mails) == 3 and all(s.startswith("Đơn hàng mới CLN-") for s in shop_subjects)


def test_double_submit_creates_one_set_of_orders(client):
    """T-S7: two identical POSTs with the same checkout token → one set of orders."""
    vase, _ = two_shop_products()
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    first = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    second = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert _stock(vase.variants[0].id) == 9


def test_partial_failure_takes_nothing(client):
    """T-S2: artisan A's item in stock, B's sold out meanwhile → nothing taken, message names the item."""
    vase, scarf = two_shop_products(stock_b=2)
    add_to_cart(client, vase.variants[0].id, 1)
    add_to_cart(client, scarf.variants[0].id, 2)
    token = checkout_token(client)
    db.session.execute(sa.update(Variant).where(Variant.id == scarf.variants[0].id).values(stock=1))
    db.session.commit()
    # the cart page would flag it; post anyway with a stale cart view (bypassing the cart check)
    import pytest

    from marketplace.errors import OutOfStock
    from marketplace.orders import services
    from tests.orders.helpers import address

    with pytest.raises(OutOfStock) as info:
        services.place_checkout(None, {vase.variants[0].id: 1, scarf.variants[0].id: 2}, address(), "cod", token)
    db.session.rollback()
    assert "Khăn lụa Vạn Phúc" in info.value.message and "chỉ còn 1" in info.value.message
    assert _stock(vase.variants[0].id) == 10 and _stock(scarf.variants[0].id) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checkout)) == 0


def test_out_of_stock_at_checkout_shows_item_and_count(client):
    vase, scarf = two_shop_products(stock_b=3)
    add_to_cart(client, vase.variants[0].id, 1)
    add_to_cart(client, scarf.variants[0].id, 3)
    token = checkout_token(client)
    # another buyer takes 2 between the cart page and "Place order": the cart now flags the shortage
    db.session.execute(sa.update(Variant).where(Variant.id == scarf.variants[0].id).values(stock=1))
    db.session.commit()
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/cart")
    page = client.get("/cart").get_data(as_text=True)
    assert "Chỉ còn 1 sản phẩm." in page
    assert _stock(vase.variants[0].id) == 10


def test_race_between_cart_check_and_stock_update(client, monkeypatch):
    """The conditional UPDATE is the guard even when the cart looked fine."""
    vase, _ = two_shop_products(stock_a=2)
    add_to_cart(client, vase.variants[0].id, 2)
    token = checkout_token(client)
    from marketplace.orders import services

    real = services.take_stock

    def sneaky(quantities, titles=None):
        db.session.execute(sa.text("UPDATE variants SET stock = 1 WHERE id = :i"), {"i": vase.variants[0].id})
        return real(quantities, titles)

    monkeypatch.setattr(services, "take_stock", sneaky)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "Bình gốm men lam – Tiêu chuẩn" in page and "chỉ còn 1" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 0
    assert _stock(vase.variants[0].id) == 2  # the sneaky write was rolled back with everything else


def test_field_errors_next_to_fields(client):
    vase, _ = two_shop_products()
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    bad = {**ADDRESS, "token": token, "phone": "12345", "ward": "Phường Không Có", "email": ""}
    r = client.post("/checkout", data=bad)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Số di động Việt Nam gồm 10 chữ số" in page
    assert "Không có xã/phường này" in page
    assert "Vui lòng nhập email" not in page  # phone only: guests need no e-mail (issue 16)
    assert 'class="error-summary"' in page and 'href="#phone"' in page  # the summary links to the field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_address_data_is_post_2025():
    provinces = addresses.provinces()
    assert len(provinces) == 34
    assert provinces[0] == ("01", "Thành phố Hà Nội")
    hanoi = addresses.wards("01")
    assert len(hanoi) == 126 and "Xã Bát Tràng" in hanoi and "Phường Hoàn Kiếm" in hanoi
    assert addresses.match_ward("01", "bát tràng") == "Xã Bát Tràng"
    assert addresses.match_ward("79", "Bát Tràng") is None
    assert addresses.normalize_phone("+84 912 345 678") == "0912345678"
    assert addresses.normalize_phone("0862.123.456") == "0862123456"
    assert addresses.normalize_phone("0212345678") is None
    assert addresses.normalize_phone("091234567") is None


def test_csrf_is_enforced_on_checkout(tmp_path, backend):
    from tests.conftest import make_app

    app = make_app(tmp_path, backend, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        vase, _ = two_shop_products()
        assert client.post("/cart/add", data={"variant_id": vase.variants[0].id}).status_code == 400
        page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
        assert 'name="csrf_token"' in page
        if backend == "postgresql":
            from tests.conftest import truncate_all

            truncate_all()
        db.session.remove()
        db.engine.dispose()
