"""Helpers shared by the cart, orders and payments tests."""
from __future__ import annotations

import uuid

from marketplace.extensions import db
from marketplace.orders import services
from tests.factories import make_product, make_shop, make_user

ADDRESS = {"recipient_name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.vn",
           "province": "01", "ward": "Bát Tràng", "street": "Số 5, thôn 3", "note": ""}


def address(**kw) -> services.Address:
    data = dict(recipient_name="Nguyễn Thị Lan", phone="0912345678", province="Thành phố Hà Nội",
                ward="Xã Bát Tràng", street="Số 5, thôn 3", email="lan@example.vn")
    data.update(kw)
    return services.Address(**data)


def two_shop_products(stock_a: int = 10, stock_b: int = 10):
    shop_a = make_shop(shipping_fee=30_000, free_shipping_over=1_000_000)
    shop_b = make_shop(shipping_fee=25_000)
    vase = make_product(shop_a, title_vi="Bình gốm men lam", price=350_000, stock=stock_a)
    scarf = make_product(shop_b, title_vi="Khăn lụa Vạn Phúc", price=420_000, stock=stock_b)
    db.session.commit()
    return vase, scarf


def place(items: dict[int, int], method: str = "cod", buyer=None, token: str | None = None):
    checkout = services.place_checkout(buyer, items, address(), method, token or uuid.uuid4().hex)
    db.session.commit()
    return checkout


def add_to_cart(client, variant_id: int, quantity: int = 1):
    return client.post("/cart/add", data={"variant_id": variant_id, "quantity": quantity})


def checkout_token(client) -> str:
    r = client.get("/checkout")
    assert r.status_code == 200, r.status_code
    with client.session_transaction() as s:
        return s["checkout_token"]


def shopper():
    user = make_user("shopper")
    db.session.commit()
    return user
