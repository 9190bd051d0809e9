"""Assisted listing: an official or admin opens a shop for an artisan who is not online, with consent,
audited, and hands it over later. ``can_manage_shop`` is the one rule."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.core.audit import AuditEntry
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.shops import services as shop_services
from marketplace.shops.access import can_manage_shop
from marketplace.shops.models import Shop, ShopConsent
from tests.accounts.helpers import field_error, make_account
from tests.factories import make_shop, make_village
from tests.shops.helpers import consent_form, shop_form


def _create(client, village):
    data = shop_form(village.id, name="Nón lá bà Hoa", maker_name="Bà Hoa")
    data.update(consent_form())
    return client.post("/assisted/new", data=data)


def test_official_creates_assisted_shop_with_consent(app, client, login):
    village = make_village(name_vi="Chuông")
    official = make_account("official")
    login(client, official)
    response = _create(client, village)
    assert response.status_code == 303
    shop = db.session.scalar(sa.select(Shop).where(Shop.name == "Nón lá bà Hoa"))
    assert shop.owner_id is None
    consent = db.session.scalar(sa.select(ShopConsent).where(ShopConsent.shop_id == shop.id))
    assert consent.artisan_name == "Bà Hoa" and consent.method == "in_person_signed"
    assert consent.recorded_by_id == official.id and consent.given_at.date().isoformat() == "2026-11-20"
    assert consent.artisan_phone == "0988111222"
    actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_id == str(shop.id))))
    assert {"shop.assisted_create", "shop.consent_record"} <= actions
    assert can_manage_shop(official, shop)
    detail = client.get(f"/assisted/{shop.id}")
    assert detail.status_code == 200 and "Bà Hoa" in detail.get_data(as_text=True)
    assert "Gặp trực tiếp, có chữ ký" in detail.get_data(as_text=True)
    assert official.email in detail.get_data(as_text=True)  # the change log names who did it


def test_consent_is_required(app, client, login):
    village = make_village()
    login(client, make_account("official"))
    data = shop_form(village.id)
    data.update(consent_form(artisan_name="", method="", given_at="2999-01-01", evidence="", confirmed=""))
    response = client.post("/assisted/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for name in ("artisan_name", "method", "given_at", "evidence", "confirmed"):
        assert field_error(html, name), name
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopConsent)) == 0


@pytest.mark.parametrize("role", ["shopper", "artisan"])
def test_only_officials_and_admins_reach_assisted_pages(app, client, login, role):
    login(client, make_account(role))
    assert client.get("/assisted").status_code == 403
    assert client.get("/assisted/new").status_code == 403
    # a complete, valid form is refused the same way, and nothing is created
    assert _create(client, make_village()).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopConsent)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_can_manage_shop_rule(app):
    owner = make_account("artisan")
    official, admin, stranger = make_account("official"), make_account("admin"), make_account("artisan")
    own_shop = make_shop(owner=owner)
    village = make_village()
    assisted = shop_services.create_assisted_shop(official, consent_form(), **shop_form(village.id, name="Hỗ trợ"))
    db.session.commit()
    assert can_manage_shop(owner, own_shop)
    assert not can_manage_shop(stranger, own_shop)
    assert not can_manage_shop(official, own_shop)  # not assisted: only its owner
    assert not can_manage_shop(admin, own_shop)
    assert can_manage_shop(official, assisted) and can_manage_shop(admin, assisted)
    assert not can_manage_shop(stranger, assisted)
    assert not can_manage_shop(None, assisted)


def test_official_edits_assisted_shop_audited(app, client, login):
    official = make_account("official")
    village = make_village()
    shop = shop_services.create_assisted_shop(official, consent_form(), **shop_form(village.id, name="Nón lá bà Hoa"))
    db.session.commit()
    other_official = make_account("official")
    login(client, other_official)
    response = client.post(f"/assisted/{shop.id}/edit", data=shop_form(village.id, name="Nón lá Chuông bà Hoa"))
    assert response.status_code == 303
    db.session.refresh(shop)
    assert shop.name == "Nón lá Chuông bà Hoa"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "shop.update"))
    assert entry.actor_id == other_official.id
    assert entry.before == {"name": "Nón lá bà Hoa"} and entry.after == {"name": "Nón lá Chuông bà Hoa"}


def test_hand_over_to_artisans_own_account(app, client, login):
    official = make_account("official")
    village = make_village()
    shop = shop_services.create_assisted_shop(official, consent_form(), **shop_form(village.id))
    hoa = make_account("artisan", email="hoa@example.vn")
    shopper = make_account("shopper", email="khach@example.vn")
    db.session.commit()
    login(client, official)
    for email, fragment in [("nobody@example.vn", "Không có tài khoản"), ("khach@example.vn", "không phải tài khoản nghệ nhân")]:
        response = client.post(f"/assisted/{shop.id}/handover", data={"email": email})
        assert response.status_code == 400
        assert fragment in field_error(response.get_data(as_text=True), "email")
    response = client.post(f"/assisted/{shop.id}/handover", data={"email": "HOA@example.vn"})
    assert response.status_code == 303
    db.session.refresh(shop)
    assert shop.owner_id == hoa.id
    consent = db.session.scalar(sa.select(ShopConsent).where(ShopConsent.shop_id == shop.id))
    assert consent.handed_over_to_id == hoa.id and consent.handed_over_by_id == official.id and consent.handed_over_at
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "shop.hand_over"))
    assert entry.before == {"owner_id": None} and entry.after["owner_id"] == hoa.id
    # the artisan now manages it; officials no longer do
    assert can_manage_shop(hoa, shop) and not can_manage_shop(official, shop)
    assert client.get(f"/assisted/{shop.id}/edit").status_code == 404
    assert client.post(f"/assisted/{shop.id}/handover", data={"email": "hoa@example.vn"}).status_code == 404
    with pytest.raises(NotFound):
        shop_services.update_shop(official, shop, name="Không được")
    assert shopper.id != hoa.id


def test_hand_over_refuses_artisan_who_already_has_a_shop(app):
    official = make_account("official")
    village = make_village()
    shop = shop_services.create_assisted_shop(official, consent_form(), **shop_form(village.id))
    busy = make_account("artisan")
    make_shop(owner=busy)
    with pytest.raises(InvalidInput):
        shop_services.hand_over_shop(official, shop, busy.email)


def test_non_assisted_shop_has_no_assisted_pages(app, client, login):
    shop = make_shop()
    db.session.commit()
    login(client, make_account("admin"))
    assert client.get(f"/assisted/{shop.id}").status_code == 404
    assert client.get(f"/assisted/{shop.id}/edit").status_code == 404
    assert client.get("/assisted/999999").status_code == 404
    # nor can its owner's shop be edited or handed over through them
    name = shop.name
    assert client.post(f"/assisted/{shop.id}/edit", data=shop_form(shop.village_id, name="Đổi tên")).status_code == 404
    assert client.post(f"/assisted/{shop.id}/handover", data={"email": "x@example.vn"}).status_code == 404
    db.session.expire_all()
    kept = db.session.get(Shop, shop.id)
    assert (kept.name, kept.owner_id) == (name, shop.owner_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
