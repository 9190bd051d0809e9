"""Personal data (Law 91/2025/QH15): download as JSON, delete (erase identity, keep orders), privacy page."""
from __future__ import annotations

import json

import sqlalchemy as sa

from marketplace.accounts.passwords import hash_password
from marketplace.core.audit import AuditEntry
from marketplace.core.outbox import OutboxMail
from marketplace.extensions import db
from marketplace.orders.models import Checkout, Order
from tests.factories import make_user
from tests.orders.helpers import place, two_shop_products

PASSWORD = "một mật khẩu dài đủ"


def _shopper_with_orders():
    vase, scarf = two_shop_products()
    shopper = make_user("shopper", email="lan@example.vn", password_hash=hash_password(PASSWORD), phone="0912345678",
                        name="Nguyễn Thị Lan")
    db.session.commit()
    checkout = place({vase.variants[0].id: 1, scarf.variants[0].id: 1}, buyer=shopper)
    return shopper, checkout


def test_privacy_page_is_public_and_linked(client):
    page = client.get("/privacy")
    assert page.status_code == 200 and "91/2025/QH15" in page.get_data(as_text=True)
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_download_my_data(client, login):
    shopper, checkout = _shopper_with_orders()
    login(client, shopper)
    assert client.get("/account/privacy").status_code == 200
    response = client.get("/account/privacy/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "lan@example.vn" and data["account"]["phone"] == "0912345678"
    assert len(data["orders"]) == 2
    assert data["orders"][0]["delivery"]["recipient_name"] == "Nguyễn Thị Lan"
    assert "password_hash" not in json.dumps(data)


def test_anonymous_cannot_export(client):
    response = client.get("/account/privacy/export")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_delete_my_account_keeps_orders_without_identity(client, login):
    shopper, checkout = _shopper_with_orders()
    order_ids = [o.id for o in checkout.orders]
    login(client, shopper)
    wrong = client.post("/account/privacy/delete", data={"password": "sai", "confirm": "yes"})
    assert wrong.status_code == 400
    unconfirmed = client.post("/account/privacy/delete", data={"password": PASSWORD})
    assert unconfirmed.status_code == 400
    done = client.post("/account/privacy/delete", data={"password": PASSWORD, "confirm": "yes"})
    assert done.status_code == 303
    db.session.expire_all()
    user = db.session.get(type(shopper), shopper.id)
    assert user.email.endswith("@deleted.invalid") and user.name == "" and user.phone is None
    assert user.password_hash is None and not user.active and not user.marketing_consent
    orders = db.session.scalars(sa.select(Order).where(Order.id.in_(order_ids))).all()
    assert len(orders) == 2
    for order in orders:
        assert order.buyer_id is None and order.recipient_name is None and order.phone is None
        assert order.email is None and order.street is None and order.total > 0 and order.lines
    assert db.session.get(Checkout, checkout.id).email is None
    kept = sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.to_address == "lan@example.vn")
    assert db.session.scalar(kept) == 0  # the order confirmation, sent and kept a week, is erased too
    # the old session no longer works
    assert client.get("/account/privacy").status_code == 302
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.delete"))
    assert entry is not None and "lan@example.vn" not in json.dumps(entry.after)


def test_artisans_cannot_self_delete(client, login):
    artisan = make_user("artisan", password_hash=hash_password(PASSWORD))
    db.session.commit()
    login(client, artisan)
    assert client.post("/account/privacy/delete", data={"password": PASSWORD, "confirm": "yes"}).status_code == 403
    # nothing happened: the account keeps its data, no audit entry, no mail, the session still works
    db.session.expire_all()
    kept = db.session.get(type(artisan), artisan.id)
    assert kept is not None and kept.email == artisan.email and kept.password_hash == artisan.password_hash
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "account.delete")) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0
    assert client.get("/account/privacy").status_code == 200


def test_marketing_consent_is_never_pre_ticked(client):
    import re

    page = client.get("/account/register").get_data(as_text=True)
    boxes = re.findall(r"<input[^>]*name=\"marketing_consent\"[^>]*>", page)
    assert boxes, "the registration form asks for marketing consent"
    assert all("checked" not in box for box in boxes)
    from marketplace.accounts.models import User

    assert User(email="x@example.vn").marketing_consent in (None, False)
