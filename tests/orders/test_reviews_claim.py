"""Reviews that can happen: guest orders join the account that proves the same e-mail or phone, the signed
review link of the "delivered" mail, who sees the review form, and the rating / sold figures (hand-computed)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Product
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.orders import reviews, services
from marketplace.orders.models import Order, Review
from tests.factories import make_product, make_shop, make_user
from tests.orders.helpers import place, shopper

PASSWORD = "nón lá làng Chuông 2030"


@pytest.fixture(autouse=True)
def _outbox_empty(app):
    read_outbox()  # start each test with nothing queued


def _deliver(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    owner = order.shop.owner
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    return order


def _guest_order(product, quantity: int = 1, **address):
    checkout = place({product.variants[0].id: quantity})
    if address:
        for order in checkout.orders:
            for key, value in address.items():
                setattr(order, key, value)
        db.session.commit()
    return checkout, checkout.orders[0].id


def _links(pattern: str) -> list[str]:
    found = []
    for message in read_outbox():
        body = message.get_body(("plain",)).get_content()
        found += re.findall(r"https?://\S*" + pattern + r"\S*", body)
    return found


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _register(client, email: str, phone: str = ""):
    return client.post("/account/register", data={"name": "Nguyễn Thị Lan", "email": email, "phone": phone,
                                                  "password": PASSWORD, "confirm": PASSWORD, "role": "shopper"})


def test_guest_order_joins_the_account_that_verifies_its_email_then_may_be_reviewed(app, client):
    vase = make_product(make_shop(), title_vi="Bình gốm men lam")
    db.session.commit()
    _, order_id = _guest_order(vase)
    _deliver(order_id)
    other = app.test_client()
    assert _register(other, "someone@example.vn").status_code == 303  # another address: nothing joins

    assert _register(client, "LAN@example.vn").status_code == 303
    history = client.get("/account/orders").get_data(as_text=True)
    assert services.order_number(order_id) not in history  # not before the owner of the address proves it
    assert db.session.get(Order, order_id).buyer_id is None
    links = _links("/account/orders/claim/")
    assert len(links) == 1  # only to the address the orders were placed with
    assert client.get(_path(links[0])).status_code == 303
    history = client.get("/account/orders").get_data(as_text=True)
    assert services.order_number(order_id) in history
    page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    assert "Gửi đánh giá" in page
    r = client.post(f"/products/{vase.id}/reviews", data={"rating": "5", "body": "Men lam rất đẹp"})
    assert r.status_code == 303
    review = db.session.scalar(sa.select(Review))
    assert (review.rating, review.order_id, review.author_name) == (5, order_id, "Lan N.")
    assert "Gửi đánh giá" not in client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)  # once per order
    # a forged or foreign verification link changes nothing
    assert client.get("/account/orders/claim/forged").status_code == 404


def test_guest_order_joins_by_phone_only_with_the_orders_link_in_this_browser(app, client):
    vase = make_product(make_shop())
    db.session.commit()
    checkout, order_id = _guest_order(vase, email=None)
    link = services.checkout_url(checkout)
    stranger = app.test_client()  # same phone typed, but never held the order's link
    assert _register(stranger, "stranger@example.vn", "0912 345 678").status_code == 303
    assert db.session.get(Order, order_id).buyer_id is None
    wrong = app.test_client()  # holds the link, other phone and e-mail
    wrong.get(_path(link))
    assert _register(wrong, "wrong@example.vn", "0987 654 321").status_code == 303
    assert db.session.get(Order, order_id).buyer_id is None

    assert client.get(_path(link)).status_code == 200  # the guest's own browser opened its link
    assert _register(client, "lan.moi@example.vn", "0912 345 678").status_code == 303
    db.session.expire_all()
    owner = db.session.scalar(sa.select(Order.buyer_id).where(Order.id == order_id))
    assert owner is not None
    assert services.order_number(order_id) in client.get("/account/orders").get_data(as_text=True)


def test_review_link_valid_refused_reused_forged_expired(app, client):
    vase = make_product(make_shop(), title_vi="Bình gốm men rạn")
    db.session.commit()
    checkout, order_id = _guest_order(vase, quantity=2)
    early = reviews.review_token(order_id, vase.id)
    r = client.get(f"/reviews/new/{early}")  # before delivery: a clear refusal
    assert r.status_code == 409 and "sau khi đã nhận hàng" in r.get_data(as_text=True)
    _deliver(order_id)
    links = _links("/reviews/new/")
    assert len(links) == 1
    path = _path(links[0])
    page = client.get(path)
    assert page.status_code == 200 and "Gửi đánh giá" in page.get_data(as_text=True)
    r = client.post(path, data={"body": "Men rạn rất đều"})  # no stars: refused, the text stays
    assert r.status_code == 400 and "Men rạn rất đều" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
    assert client.post(path, data={"rating": "4", "body": "Men rạn rất đều"}).status_code == 303
    review = db.session.scalar(sa.select(Review))
    assert (review.rating, review.buyer_id, review.order_id, review.author_name) == (4, None, order_id, "Lan N.")
    again = client.post(path, data={"rating": "1", "body": "lần hai"})
    assert again.status_code == 409 and "đã được đánh giá" in again.get_data(as_text=True)
    assert client.get(path).status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 1
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    r = client.get(f"/reviews/new/{forged}")
    assert r.status_code == 404 and "không hợp lệ" in r.get_data(as_text=True)
    other = make_product(make_shop())
    db.session.commit()
    assert client.get(f"/reviews/new/{reviews.review_token(order_id, other.id)}").status_code == 404  # not in the order
    app.config["REVIEW_LINK_MAX_AGE"] = -1
    fresh = reviews.review_token(order_id, vase.id)
    r = client.post(f"/reviews/new/{fresh}", data={"rating": "5"})
    assert r.status_code == 410 and "hết hạn" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 1
    db.session.expire_all()
    assert db.session.get(Product, vase.id).rating_count == 1


def test_review_form_only_for_who_may_review_and_keeps_text_on_refusal(app, client, login):
    vase = make_product(make_shop())
    buyer = shopper()
    checkout = place({vase.variants[0].id: 1}, buyer=buyer)
    order_id = checkout.orders[0].id
    assert "Gửi đánh giá" not in client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)  # anonymous
    login(client, buyer)
    assert "Gửi đánh giá" not in client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)  # not delivered
    r = client.post(f"/products/{vase.id}/reviews", data={"rating": "5", "body": "Chưa nhận mà"})
    assert r.status_code == 403 and "Chưa nhận mà" in r.get_data(as_text=True)
    _deliver(order_id)
    assert "Gửi đánh giá" in client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    r = client.post(f"/products/{vase.id}/reviews", data={"rating": "9", "body": "Giữ nguyên chữ tôi gõ"})
    assert r.status_code == 400 and "Giữ nguyên chữ tôi gõ" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
    login(client, shopper())
    assert "Gửi đánh giá" not in client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)  # another shopper


def test_ratings_sold_counts_and_response_rate_hand_computed(app, client, login):
    shop = make_shop()
    vase = make_product(shop, title_vi="Bình hoa sen")
    bowl = make_product(shop, title_vi="Bát men ngọc")
    db.session.commit()
    stars = {}
    for rating, product, quantity in ((5, vase, 2), (4, vase, 1), (2, vase, 1), (3, bowl, 3)):
        buyer = shopper()
        order_id = place({product.variants[0].id: quantity}, buyer=buyer).orders[0].id
        _deliver(order_id)
        stars[order_id] = reviews.add_review(buyer, db.session.get(Product, product.id), rating, "ok")
        db.session.commit()
    db.session.expire_all()
    v, b = db.session.get(Product, vase.id), db.session.get(Product, bowl.id)
    assert (v.rating_count, v.rating_sum, v.rating_average, v.sold_count) == (3, 11, 3.7, 4)  # 11 / 3 = 3.67
    assert (b.rating_count, b.rating_average, b.sold_count) == (1, 3.0, 3)
    owner = shop.owner
    first = next(iter(stars.values()))
    reviews.reply_review(owner, first, "Cảm ơn anh chị")
    db.session.commit()
    shop_page = client.get(f"/shops/{shop.slug}").get_data(as_text=True)
    assert "★ 3.7 (3)" in shop_page and "đã bán 4" in shop_page  # the cards
    assert "★ 3.0 (1)" in shop_page and "đã bán 3" in shop_page
    assert "<strong>3.5</strong>/5" in shop_page and "4 đánh giá" in shop_page  # (11 + 3) / 4
    assert "Tỉ lệ phản hồi đánh giá: 25%" in shop_page  # 1 reply of 4
    product_page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    assert "<strong>3.7</strong>/5" in product_page and "3 đánh giá" in product_page and "đã bán 4" in product_page
    listing = client.get("/products").get_data(as_text=True)
    assert "★ 3.7 (3)" in listing
    assert reviews.shop_review_stats(shop.id) == {"count": 4, "average": 3.5, "response_rate": 25}
    # a delivered order refunded in full is no longer sold
    order = db.session.get(Order, next(iter(stars)))
    services.refund_order(owner, order, order.total, "vỡ")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, vase.id).sold_count == 2
    make_user()  # counters untouched by unrelated writes
    db.session.commit()
    reviews.recount_products()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, vase.id).sold_count == 2 and db.session.get(Product, vase.id).rating_sum == 11
