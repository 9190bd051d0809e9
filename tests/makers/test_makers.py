"""Makers with a face: CRUD in the seller area (another shop's maker is 404), portraits through the photo
pipeline, the product's maker, the profile page and the village page."""
from __future__ import annotations

import io
import os

import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from marketplace.makers.models import Maker
from marketplace.media.storage import derivative_key, get_storage
from tests.factories import make_product, make_shop, make_user
from tests.seller.imagegen import SVG, gps_rotated_jpeg, jpeg_bytes, png_bomb_header, truncated_jpeg

FORM = {"name": "Nguyễn Văn Quý", "honour_title": "nghe_nhan_ha_noi",
        "honour_decision": "Quyết định 123/QĐ-UBND ngày 12/03/2019 của UBND TP Hà Nội", "years_in_craft": "42",
        "story_vi": "Ông Quý theo nghề gốm từ năm 12 tuổi.", "story_en": "Mr Quy has thrown pots since he was 12."}


def maker_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Maker.id)))


def add_maker(shop, **kw) -> Maker:
    values = {"name": "Trần Thị Hoa", **kw}
    maker = Maker(shop_id=shop.id, **values)
    db.session.add(maker)
    db.session.commit()
    return maker


def test_artisan_adds_a_maker_with_portrait(seller, shop):
    data = {**FORM, "portrait": (io.BytesIO(gps_rotated_jpeg()), "chan-dung.jpg")}
    response = seller.post("/seller/makers/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    maker = db.session.scalar(sa.select(Maker))
    assert (maker.shop_id, maker.name, maker.honour_title, maker.years_in_craft) == (
        shop.id, "Nguyễn Văn Quý", "nghe_nhan_ha_noi", 42)
    assert maker.portrait_key.startswith("m/")
    # through the photo pipeline: re-encoded derivatives, rotated by its EXIF (200×400 after rotation)
    assert (maker.portrait_width, maker.portrait_height) == (200, 400)
    stored = get_storage().open(derivative_key(maker.portrait_key, 320, "jpg"))
    assert b"GPS" not in stored and b"home of the artisan" not in stored
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "maker.create")) is not None


def test_portrait_upload_checks_refuse_and_store_nothing(seller, shop, app):
    for name, payload in (("x.svg", SVG), ("bomb.png", png_bomb_header()), ("cut.jpg", truncated_jpeg()),
                          ("note.txt", b"hello")):
        data = {**FORM, "portrait": (io.BytesIO(payload), name)}
        response = seller.post("/seller/makers/new", data=data, content_type="multipart/form-data")
        assert response.status_code == 400, name
        assert "field-error" in response.get_data(as_text=True)
        assert maker_count() == 0
    media = app.config["MEDIA_ROOT"]
    stored = [f for _root, _dirs, files in os.walk(media) for f in files] if os.path.isdir(media) else []
    assert stored == []


def test_field_errors(seller, shop):
    bad = {**FORM, "name": "", "honour_title": "vua", "years_in_craft": "-3"}
    response = seller.post("/seller/makers/new", data=bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Hãy nhập tên nghệ nhân." in page and "Số năm làm nghề là một số từ 0 đến 90." in page
    assert maker_count() == 0
    # a title without the decision that conferred it
    response = seller.post("/seller/makers/new", data={**FORM, "honour_decision": ""})
    assert response.status_code == 400 and maker_count() == 0


def test_another_shops_maker_is_404(seller, shop, other_shop):
    theirs = add_maker(other_shop, story_vi="gốc")
    assert seller.get(f"/seller/makers/{theirs.id}/edit").status_code == 404
    assert seller.post(f"/seller/makers/{theirs.id}/edit", data=FORM).status_code == 404
    assert seller.post(f"/seller/makers/{theirs.id}/delete").status_code == 404
    assert seller.get("/seller/makers/2147483648/edit").status_code == 404
    db.session.expire_all()
    maker = db.session.get(Maker, theirs.id)
    assert (maker.name, maker.story_vi) == ("Trần Thị Hoa", "gốc")
    assert "Trần Thị Hoa" not in seller.get("/seller/makers").get_data(as_text=True)


def test_shoppers_and_anonymous_cannot_manage(client, login, shop):
    mine = add_maker(shop)
    assert client.get("/seller/makers").status_code == 302  # to the login page
    login(client, make_user(Role.SHOPPER))
    db.session.commit()
    assert client.get("/seller/makers").status_code == 403
    assert client.post(f"/seller/makers/{mine.id}/delete").status_code == 403
    assert db.session.get(Maker, mine.id) is not None


def test_edit_and_delete_own_maker(seller, shop):
    mine = add_maker(shop)
    product = make_product(shop=shop, maker_id=mine.id)
    db.session.commit()
    maker_id, product_id = mine.id, product.id
    response = seller.post(f"/seller/makers/{maker_id}/edit", data={**FORM, "name": "Trần Thị Hoà"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Maker, maker_id).name == "Trần Thị Hoà"
    assert seller.post(f"/seller/makers/{maker_id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Maker, maker_id) is None
    assert db.session.get(Product, product_id).maker_id is None


def test_official_manages_an_assisted_shops_makers_only_through_the_rule(client, login, shop):
    official = make_user(Role.OFFICIAL)
    db.session.commit()
    login(client, official)
    # not an assisted shop: the official may not manage it (shops.access), so its makers are 404
    mine = add_maker(shop)
    assert client.get(f"/seller/makers/{mine.id}/edit").status_code == 404


def test_product_form_names_the_maker(seller, shop, other_shop):
    mine = add_maker(shop)
    theirs = add_maker(other_shop, name="Người khác")
    product = make_product(shop=shop)
    db.session.commit()
    page = seller.get(f"/seller/products/{product.id}/edit").get_data(as_text=True)
    assert f'value="{mine.id}"' in page and "Người khác" not in page
    form = {"title_vi": product.title_vi, "description_vi": product.description_vi, "category": "ceramics",
            "variants-0-id": str(product.variants[0].id), "variants-0-name": "Tiêu chuẩn",
            "variants-0-sku": product.variants[0].sku, "variants-0-price": "350000", "variants-0-stock": "10"}
    assert seller.post(f"/seller/products/{product.id}/edit", data={**form, "maker_id": str(mine.id)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product.id).maker_id == mine.id
    # another shop's maker is refused with a field error, nothing changes
    response = seller.post(f"/seller/products/{product.id}/edit", data={**form, "maker_id": str(theirs.id)})
    assert response.status_code == 400
    assert "Hãy chọn một nghệ nhân của cửa hàng." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Product, product.id).maker_id == mine.id
    assert seller.post(f"/seller/products/{product.id}/edit", data={**form, "maker_id": ""}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product.id).maker_id is None


def test_profile_product_and_village_pages(client, shop):
    maker = add_maker(shop, honour_title="nghe_nhan_uu_tu", honour_decision="QĐ 45/QĐ-CTN", years_in_craft=30,
                      story_vi="Bà Hoa vẽ men lam.", story_en="Mrs Hoa paints blue glaze.")
    product = make_product(shop=shop, maker_id=maker.id, title_vi="Bình hút lộc men lam")
    db.session.commit()
    page = client.get(f"/makers/{maker.id}").get_data(as_text=True)
    assert "Trần Thị Hoa" in page and "Nghệ nhân Ưu tú" in page and "QĐ 45/QĐ-CTN" in page
    assert "Bà Hoa vẽ men lam." in page and "Bình hút lộc men lam" in page and "30 năm trong nghề" in page
    english = client.get(f"/makers/{maker.id}?lang=en").get_data(as_text=True)
    assert "Mrs Hoa paints blue glaze." in english and "Meritorious Artisan" in english
    detail = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert f'href="/makers/{maker.id}"' in detail
    village = client.get(f"/villages/{shop.village.slug}").get_data(as_text=True)
    assert 'id="makers"' in village and f'href="/makers/{maker.id}"' in village
    assert client.get("/makers/999999").status_code == 404


def test_makers_of_a_suspended_shop_are_not_shown(client, app):
    shop = make_shop(status="suspended")
    maker = add_maker(shop)
    assert client.get(f"/makers/{maker.id}").status_code == 404
    assert 'id="makers"' not in client.get(f"/villages/{shop.village.slug}").get_data(as_text=True)


def test_portrait_is_served_on_the_profile(seller, shop, client):
    data = {**FORM, "portrait": (io.BytesIO(jpeg_bytes(size=(400, 500))), "p.jpg")}
    assert seller.post("/seller/makers/new", data=data, content_type="multipart/form-data").status_code == 303
    maker = db.session.scalar(sa.select(Maker))
    page = client.get(f"/makers/{maker.id}").get_data(as_text=True)
    assert derivative_key(maker.portrait_key, 320, "jpg") in page
