"""An artisan's own shop: /seller/shop/new and /seller/shop/edit, and the shop services."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.core.audit import AuditEntry
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.shops import services as shop_services
from marketplace.shops.models import Shop
from tests.accounts.helpers import field_error, make_account
from tests.factories import make_shop, make_village
from tests.shops.helpers import shop_form


def test_artisan_creates_shop(app, client, login):
    village = make_village(name_vi="Bát Tràng")
    artisan = make_account("artisan", email="quy@example.vn")
    login(client, artisan)
    page = client.get("/seller/shop/new")
    assert page.status_code == 200 and "Bát Tràng" in page.get_data(as_text=True)
    response = client.post("/seller/shop/new", data=shop_form(village.id))
    assert response.status_code == 303
    shop = db.session.scalar(sa.select(Shop).where(Shop.owner_id == artisan.id))
    assert shop.name == "Gốm Quý Bát Tràng" and shop.slug == "gom-quy-bat-trang"
    assert shop.village_id == village.id and shop.phone == "0912345678"
    assert shop.shipping_fee == 30_000 and shop.free_shipping_over == 500_000
    assert shop.maker_title == "Nghệ nhân ưu tú" and not shop.verified and shop.status == "active"
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.target_id == str(shop.id))) == "shop.create"
    # a second visit goes to the edit page; one shop per artisan
    assert client.get("/seller/shop/new").headers["Location"].endswith("/seller/shop/edit")
    with pytest.raises(Conflict):
        shop_services.create_shop(artisan, **shop_form(village.id))


def test_validation_errors_shown_next_to_fields(app, client, login):
    make_village()
    login(client, make_account("artisan"))
    response = client.post("/seller/shop/new", data=shop_form("999999", name="", phone="024 3825 1234",
                                                             shipping_fee="30.5", free_shipping_over="-1"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "tên cửa hàng" in field_error(html, "name")
    assert "làng nghề" in field_error(html, "village_id")
    assert "10 chữ số" in field_error(html, "phone")
    assert field_error(html, "shipping_fee")
    assert field_error(html, "free_shipping_over")
    assert field_error(html, "story") is None
    assert 'value="024 3825 1234"' in html  # what the person typed is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0


def test_missing_phone_and_fee(app):
    village = make_village()
    artisan = make_account("artisan")
    with pytest.raises(InvalidInput) as info:
        shop_services.create_shop(artisan, **shop_form(village.id, phone="", shipping_fee=""))
    assert set(info.value.details["errors"]) == {"phone", "shipping_fee"}


def test_shopper_cannot_open_a_shop(app, client, login):
    shopper = make_account("shopper")
    village = make_village()
    login(client, shopper)
    assert client.get("/seller/shop/new").status_code == 403
    assert client.post("/seller/shop/new", data=shop_form(village.id)).status_code == 403
    # nothing happened: no shop, no audit entry, the account is still a shopper's
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    assert db.session.get(type(shopper), shopper.id).role == "shopper"


def test_anonymous_is_sent_to_login(app, client):
    response = client.get("/seller/shop/edit")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_edit_own_shop_only_allowed_fields(app, client, login):
    artisan = make_account("artisan")
    other_owner = make_account("artisan")
    shop = make_shop(owner=artisan, verified=False)
    other = make_shop(owner=other_owner, name="Xưởng khác")
    db.session.commit()
    login(client, artisan)
    page = client.get("/seller/shop/edit").get_data(as_text=True)
    assert shop.name in page and "Xưởng khác" not in page
    data = shop_form(shop.village_id, name="Tên mới", verified="1", status="suspended", owner_id=str(other_owner.id))
    response = client.post("/seller/shop/edit", data=data)
    assert response.status_code == 303
    db.session.refresh(shop)
    db.session.refresh(other)
    assert shop.name == "Tên mới" and shop.verified is False and shop.status == "active"
    assert shop.owner_id == artisan.id and other.name == "Xưởng khác"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "shop.update"))
    assert entry.before["name"] != "Tên mới" and entry.after["name"] == "Tên mới"
    with pytest.raises(NotFound):
        shop_services.update_shop(artisan, other, name="Chiếm quyền")


def test_artisan_without_shop_is_sent_to_new(app, client, login):
    login(client, make_account("artisan"))
    assert client.get("/seller/shop/edit").headers["Location"].endswith("/seller/shop/new")


def test_slug_is_unique(app):
    village = make_village()
    a, b = make_account("artisan"), make_account("artisan")
    first = shop_services.create_shop(a, **shop_form(village.id, name="Gốm Sứ"))
    second = shop_services.create_shop(b, **shop_form(village.id, name="Gốm sứ"))
    assert first.slug == "gom-su" and second.slug == "gom-su-2"
