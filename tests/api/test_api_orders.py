"""/api/v1/me/orders: an artisan ships and delivers through the same order services as the seller pages."""
from __future__ import annotations

from marketplace.api.services import issue_token
from marketplace.extensions import db
from marketplace.orders.models import Order
from tests.orders.helpers import place, shopper, two_shop_products


def _auth(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_ship_and_deliver_own_orders_only(client):
    vase, scarf = two_shop_products()
    checkout = place({vase.variants[0].id: 1, scarf.variants[0].id: 1}, buyer=shopper())
    order_a, order_b = sorted(checkout.orders, key=lambda o: o.shop_id == scarf.shop_id)
    _, secret = issue_token(vase.shop.owner, "t")
    db.session.commit()
    headers = _auth(secret)

    listed = client.get("/api/v1/me/orders", headers=headers).get_json()
    assert [o["id"] for o in listed["items"]] == [order_a.id]
    assert listed["items"][0]["lines"][0]["title"] == "Bình gốm men lam"
    assert client.get("/api/v1/me/orders?status=shipped", headers=headers).get_json()["total"] == 0
    # another shop's order: 404, unchanged
    assert client.post(f"/api/v1/me/orders/{order_b.id}/ship", headers=headers,
                       json={"carrier": "VNPost", "tracking_number": "X1"}).status_code == 404
    assert client.get(f"/api/v1/me/orders/{order_b.id}", headers=headers).status_code == 404
    # deliver before ship: the service's state rule answers 409
    early = client.post(f"/api/v1/me/orders/{order_a.id}/deliver", headers=headers)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "conflict"
    bad = client.post(f"/api/v1/me/orders/{order_a.id}/ship", headers=headers, json={"carrier": "VNPost"})
    assert bad.status_code == 400
    shipped = client.post(f"/api/v1/me/orders/{order_a.id}/ship", headers=headers,
                          json={"carrier": "VNPost", "tracking_number": "EB123456789VN"})
    assert shipped.status_code == 200 and shipped.get_json()["status"] == "shipped"
    again = client.post(f"/api/v1/me/orders/{order_a.id}/ship", headers=headers,
                        json={"carrier": "VNPost", "tracking_number": "EB1"})
    assert again.status_code == 409
    delivered = client.post(f"/api/v1/me/orders/{order_a.id}/deliver", headers=headers)
    assert delivered.get_json()["status"] == "delivered"
    db.session.expire_all()
    assert db.session.get(Order, order_a.id).paid_at is not None  # COD counts as paid on delivery (service rule)
    assert db.session.get(Order, order_b.id).status == order_b.status
