"""Service errors (orders, cart, payments) follow the shopper's language; Vietnamese stays the default
(also outside a request: CLI, webhooks)."""
import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.errors import OutOfStock
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import OrderLine
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, two_shop_products

EXPECTED = {
    "vi": ("“Bình gốm men lam – Tiêu chuẩn” chỉ còn 1 sản phẩm.", "Chưa có sản phẩm nào bị trừ kho"),
    "en": ("“Bình gốm men lam – Tiêu chuẩn” has only 1 left.", "No stock has been taken"),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_out_of_stock_checkout_speaks_the_shoppers_language(client, monkeypatch, lang):
    vase, _ = two_shop_products(stock_a=3)
    client.get(f"/cart?lang={lang}")  # the language switch (remembered in a cookie)
    add_to_cart(client, vase.variants[0].id, 3)
    token = checkout_token(client)
    real = services.take_stock

    def sold_meanwhile(quantities, titles=None):  # another buyer wins the race after the cart check
        db.session.execute(sa.update(Variant).where(Variant.id == vase.variants[0].id).values(stock=1))
        return real(quantities, titles)

    monkeypatch.setattr(services, "take_stock", sold_meanwhile)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    message, hint = EXPECTED[lang]
    assert message in page and hint in page
    other, other_hint = EXPECTED["en" if lang == "vi" else "vi"]
    assert other not in page and other_hint not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 0


def test_sold_out_and_unlisted_messages_in_english(client):
    vase, scarf = two_shop_products(stock_a=1)
    client.get("/cart?lang=en")
    db.session.execute(sa.update(Variant).where(Variant.id == vase.variants[0].id).values(stock=0))
    db.session.commit()
    client.post("/cart/add", data={"variant_id": vase.variants[0].id, "quantity": 1})
    page = client.get("/cart").get_data(as_text=True)
    assert "“Bình gốm men lam – Tiêu chuẩn” is sold out." in page and "đã hết hàng" not in page


def test_outside_a_request_messages_are_vietnamese(app):
    vase, _ = two_shop_products(stock_a=0)
    with pytest.raises(OutOfStock) as info:
        services.take_stock({vase.variants[0].id: 1}, {vase.variants[0].id: "Bình gốm"})
    db.session.rollback()
    assert info.value.message == "“Bình gốm” đã hết hàng."
    assert info.value.details == {"variant_id": vase.variants[0].id, "available": 0, "title": "Bình gốm"}
