"""Cart: guest session cart, stored cart merged at login, grouping by shop with shipping fees, stock caps."""
import pytest
import sqlalchemy as sa
from flask_login import login_user

from marketplace.cart import services as cart
from marketplace.cart.models import CartItem, Favourite
from marketplace.extensions import db
from tests.factories import make_product
from tests.orders.helpers import add_to_cart, shopper, two_shop_products


def test_guest_cart_groups_by_shop_with_fees(client):
    vase, scarf = two_shop_products()
    assert add_to_cart(client, vase.variants[0].id, 2).status_code == 303
    add_to_cart(client, scarf.variants[0].id, 1)
    page = client.get("/cart").get_data(as_text=True)
    assert "Bình gốm men lam" in page and "Khăn lụa Vạn Phúc" in page
    assert "700.000 ₫" in page          # 2 × 350.000
    assert "30.000 ₫" in page and "25.000 ₫" in page
    assert "1.175.000 ₫" in page        # 700.000 + 30.000 + 420.000 + 25.000


def test_free_shipping_over_threshold(app):
    vase, _ = two_shop_products()
    with app.test_request_context():
        built = cart.build_cart({vase.variants[0].id: 3})  # 1.050.000 ≥ 1.000.000
        assert built.groups[0].shipping_fee == 0
        assert built.total == 1_050_000


def test_quantity_capped_at_stock_and_price_from_db(client):
    vase, _ = two_shop_products(stock_a=3)
    r = client.post("/cart/add", data={"variant_id": vase.variants[0].id, "quantity": 9, "price": 1})
    assert r.status_code == 303
    with client.session_transaction() as s:
        assert s["cart"] == {str(vase.variants[0].id): 3}
    page = client.get("/cart").get_data(as_text=True)
    assert "1.050.000 ₫" in page and "Chỉ còn 3 sản phẩm, giỏ hàng đã được điều chỉnh" in page


def test_sold_out_and_bad_input_never_500(client):
    vase = make_product(stock=0)
    db.session.commit()
    assert client.post("/cart/add", data={"variant_id": vase.variants[0].id}).status_code == 303
    assert client.post("/cart/add", data={"variant_id": "abc", "quantity": "x"}).status_code == 303
    assert client.post("/cart/add", data={"variant_id": 999999}).status_code == 303
    assert client.post("/cart/update", data={"qty-abc": "1", "qty-5": "-3"}).status_code == 303
    with client.session_transaction() as s:
        assert not s.get("cart")


def test_update_and_remove(client):
    vase, scarf = two_shop_products()
    vid = vase.variants[0].id
    add_to_cart(client, vid, 1)
    add_to_cart(client, scarf.variants[0].id, 1)
    client.post("/cart/update", data={f"qty-{vid}": "4"})
    with client.session_transaction() as s:
        assert s["cart"][str(vid)] == 4
    client.post("/cart/update", data={"remove": str(vid)})
    with client.session_transaction() as s:
        assert str(vid) not in s["cart"]


def test_signed_in_cart_is_stored(client, login):
    vase, _ = two_shop_products()
    user = shopper()
    login(client, user)
    add_to_cart(client, vase.variants[0].id, 2)
    stored = db.session.scalars(sa.select(CartItem).where(CartItem.user_id == user.id)).all()
    assert [(i.variant_id, i.quantity) for i in stored] == [(vase.variants[0].id, 2)]


def test_guest_cart_merges_at_login(app):
    vase, scarf = two_shop_products()
    user = shopper()
    db.session.add(CartItem(user_id=user.id, variant_id=vase.variants[0].id, quantity=1))
    db.session.commit()
    with app.test_request_context():
        from flask import session

        session["cart"] = {str(vase.variants[0].id): 3, str(scarf.variants[0].id): 1}
        login_user(user)  # fires user_logged_in → merge
        assert "cart" not in session
    items = dict(db.session.execute(sa.select(CartItem.variant_id, CartItem.quantity)
                                    .where(CartItem.user_id == user.id)).all())
    assert items == {vase.variants[0].id: 3, scarf.variants[0].id: 1}


def test_favourites(client, login):
    vase, _ = two_shop_products()
    user = shopper()
    login(client, user)
    assert client.post(f"/favourites/product/{vase.id}").status_code == 303
    assert client.post(f"/favourites/shop/{vase.shop_id}").status_code == 303
    page = client.get("/account/favourites").get_data(as_text=True)
    assert "Bình gốm men lam" in page and vase.shop.name in page
    client.post(f"/favourites/product/{vase.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Favourite).where(Favourite.product_id.is_not(None))) == 0


def test_favourites_need_login(client):
    response = client.get("/account/favourites")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_product_page_has_buy_form(client):
    vase, _ = two_shop_products()
    page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    assert 'action="/cart/add"' in page and "Thêm vào giỏ" in page


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/"])
def test_cart_next_stays_on_the_site(app, client, target):
    product = make_product()
    db.session.commit()
    variant_id = product.variants[0].id
    # added: always the cart page (303), whatever ``next`` says
    response = client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert f"/products/{product.id}" in client.get("/cart").get_data(as_text=True)  # and it is in the cart
    # refused (no variant chosen): back to ``next`` only when it is a path on this site, else to the cart
    refused = client.post("/cart/add", data={"variant_id": "", "quantity": 1, "next": target})
    assert refused.status_code == 303 and refused.headers["Location"] == "/cart"
    assert "Vui lòng chọn phân loại và số lượng." in client.get("/cart").get_data(as_text=True)
    on_site = client.post("/cart/add", data={"variant_id": "", "quantity": 1, "next": "/products?page=2"})
    assert on_site.status_code == 303 and on_site.headers["Location"] == "/products?page=2"
