"""Seller pages: dashboard, editor, status buttons, CSRF, mass assignment, and the IDOR walk."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog.models import ImportRun, Product, ProductImage, ProductStatus, Variant
from marketplace.extensions import db
from marketplace.makers.models import Maker
from tests.factories import make_product, make_user
from tests.seller.imagegen import jpeg_bytes

FORM = {
    "title_vi": "Nón lá bài thơ",
    "description_vi": "Nón lá làng Chuông, chằm tay ba lớp lá, có tranh bài thơ giữa các lớp.",
    "variants-0-name": "Tiêu chuẩn",
    "variants-0-price": "150.000",
    "variants-0-stock": "20",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_and_shopper_are_kept_out(client, login, app):
    response = client.get("/seller/")
    # anonymous: a page (not /api/) → 302 to the sign-in form, coming back here afterwards
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Fseller%2F"
    assert "Vui lòng đăng nhập để tiếp tục." in client.get(response.headers["Location"]).get_data(as_text=True)
    shopper = make_user(Role.SHOPPER)
    db.session.commit()
    login(client, shopper)
    assert client.get("/seller/").status_code == 403
    assert client.post("/seller/products/new", data=FORM).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_every_seller_route_declares_access(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("seller."):
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "access", None) == ("artisan", "official", "admin"), rule.endpoint


def test_artisan_without_shop_sees_the_way_to_open_one(client, login, app):
    artisan = make_user(Role.ARTISAN)
    db.session.commit()
    login(client, artisan)
    response = client.get("/seller/")
    assert response.status_code == 200
    assert "chưa có cửa hàng" in text(response)
    assert 'href="/seller/shop/new"' in text(response)
    assert client.get("/seller/products/new").status_code == 302


def test_create_publish_and_edit_a_product(seller, shop):
    # the first save carries the photo (one multipart form, no JavaScript): published at once
    response = seller.post("/seller/products/new", data=dict(
        FORM, action="publish", photos=(io.BytesIO(jpeg_bytes()), "non.jpg")), content_type="multipart/form-data")
    assert response.status_code == 303
    product = db.session.scalars(sa.select(Product)).one()
    assert response.location.endswith(f"/seller/products/{product.id}/edit")
    assert product.status == ProductStatus.ACTIVE and product.published_at is not None
    assert len(product.images) == 1
    assert [(v.name, v.price, v.stock) for v in product.variants] == [("Tiêu chuẩn", 150_000, 20)]

    page = seller.get(f"/seller/products/{product.id}/edit")
    assert page.status_code == 200
    assert 'value="Nón lá bài thơ"' in text(page)
    assert 'name="csrf_token"' in text(page)
    variant = product.variants[0]
    response = seller.post(f"/seller/products/{product.id}/edit", data={
        **FORM, "title_en": "Poem conical hat",
        "variants-0-id": str(variant.id), "variants-0-price": "165.000", "variants-0-stock": "18",
        "variants-1-name": "Cỡ trẻ em", "variants-1-price": "90.000", "variants-1-stock": "5",
        "variants-2-name": "", "variants-2-price": "", "variants-2-stock": "",
    })
    assert response.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.title_en == "Poem conical hat"
    assert [(v.name, v.price, v.stock) for v in product.variants] == [("Tiêu chuẩn", 165_000, 18), ("Cỡ trẻ em", 90_000, 5)]
    # delete the second variant via its checkbox
    second = product.variants[1]
    seller.post(f"/seller/products/{product.id}/edit", data={
        **FORM, "variants-0-id": str(variant.id), "variants-1-id": str(second.id), "variants-1-name": second.name,
        "variants-1-price": "90.000", "variants-1-stock": "5", "variants-1-delete": "1"})
    db.session.expire_all()
    assert [v.name for v in db.session.get(Product, product.id).variants] == ["Tiêu chuẩn"]


def test_field_errors_are_shown_next_to_fields_and_nothing_saved(seller, shop):
    response = seller.post("/seller/products/new", data={
        "title_vi": "", "description_vi": "x", "variants-0-price": "12.5", "variants-0-stock": "-2",
        "ocop_stars": "2"})
    assert response.status_code == 400
    html = text(response)
    assert re.search(r'id="e-title_vi">Bắt buộc', html)
    assert "Giá là số đồng nguyên" in html
    assert "Tồn kho là số nguyên từ 0" in html
    assert "chỉ có thể là 3, 4 hoặc 5 sao" in html
    assert 'value="12.5"' in html  # what the artisan typed stays in the form
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_mass_assignment_is_ignored(seller, shop, other_shop):
    theirs = other_shop.products[0]
    response = seller.post("/seller/products/new", data=dict(
        FORM, status="active", shop_id=str(other_shop.id), owner_id="1", published_at="2020-01-01",
        id=str(theirs.id), featured="1"))
    assert response.status_code == 303
    mine = db.session.scalars(sa.select(Product).where(Product.shop_id == shop.id)).one()
    assert mine.status == ProductStatus.DRAFT and mine.published_at is None and mine.id != theirs.id
    # a variant id of another product in my form is refused, not re-parented
    response = seller.post(f"/seller/products/{mine.id}/edit", data={
        **FORM, "variants-0-id": str(theirs.variants[0].id), "variants-0-price": "1.000"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Variant, theirs.variants[0].id).price == 350_000


def test_status_buttons(seller, shop):
    product = make_product(shop=shop, status=ProductStatus.DRAFT, images=1)
    product.variants.clear()
    db.session.commit()
    response = seller.post(f"/seller/products/{product.id}/publish", follow_redirects=True)
    assert "Cần ít nhất một phân loại" in text(response)
    db.session.add(Variant(product_id=product.id, name="A", sku="SKU-BTN-1", price=10_000, stock=1))
    db.session.commit()
    seller.post(f"/seller/products/{product.id}/publish")
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == ProductStatus.ACTIVE
    seller.post(f"/seller/products/{product.id}/unpublish")
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == ProductStatus.DRAFT
    seller.post(f"/seller/products/{product.id}/archive")
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == ProductStatus.ARCHIVED
    assert seller.get(f"/seller/products/{product.id}/publish").status_code == 405


def test_dashboard_low_stock_drafts_and_digitized(seller, shop, app):
    long_text = "Sản phẩm làm thủ công tại làng, men rạn cổ, vẽ tay."
    make_product(shop=shop, title_vi="Đủ ảnh", images=1, description_vi=long_text, stock=50)
    make_product(shop=shop, title_vi="Không ảnh", images=0, description_vi=long_text, stock=50)
    make_product(shop=shop, title_vi="Mô tả ngắn", images=1, description_vi="Đẹp", stock=50)
    make_product(shop=shop, title_vi="Sắp hết", variants=[("Bộ 6 chén", 120_000, 2)])
    make_product(shop=shop, title_vi="Nháp dở", status=ProductStatus.DRAFT).variants.clear()
    make_product(shop=shop, title_vi="Lưu trữ", status=ProductStatus.ARCHIVED, images=1, description_vi=long_text, stock=0)
    db.session.commit()
    html = text(seller.get("/seller/"))
    assert re.search(r'class="digitized">1<', html)
    low = html.split("Sắp hết hàng", 1)[1].split("Bản nháp", 1)[0]
    assert "Sắp hết" in low and "Bộ 6 chén" in low and "Đủ ảnh" not in low and "Lưu trữ" not in low
    drafts = html.split("Bản nháp cần hoàn thiện", 1)[1]
    assert "Nháp dở" in drafts and "thiếu giá" in drafts and "thiếu ảnh" in drafts
    if "orders.seller_queue" in app.view_functions:
        assert "Đơn hàng" in html


def test_quick_stock_update_from_dashboard(seller, shop):
    product = make_product(shop=shop, variants=[("A", 10_000, 1)])
    db.session.commit()
    variant = product.variants[0]
    response = seller.post(f"/seller/products/{product.id}/variants/{variant.id}/stock", data={"stock": "25"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Variant, variant.id).stock == 25
    seller.post(f"/seller/products/{product.id}/variants/{variant.id}/stock", data={"stock": "-4"})
    db.session.expire_all()
    assert db.session.get(Variant, variant.id).stock == 25


def test_product_list_shows_only_my_products(seller, shop, other_shop):
    make_product(shop=shop, title_vi="Của tôi")
    db.session.commit()
    html = text(seller.get("/seller/products"))
    assert "Của tôi" in html and other_shop.products[0].title_vi not in html
    assert "Của tôi" not in text(seller.get("/seller/products?status=draft"))


def test_forms_carry_a_csrf_token_and_posts_without_it_are_refused(seller, shop, app):
    product = make_product(shop=shop, stock=1, images=1)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for url in ("/seller/products/new", f"/seller/products/{product.id}/edit",
                    f"/seller/products/{product.id}/photos", "/seller/import", "/seller/"):
            html = text(seller.get(url))
            forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
            assert forms, url
            for body in forms:
                assert 'name="csrf_token"' in body, url
        response = seller.post(f"/seller/products/{product.id}/archive")
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Product, product.id).status == ProductStatus.ACTIVE
        token = re.search(r'name="csrf_token" value="([^"]+)"', text(seller.get(f"/seller/products/{product.id}/edit"))).group(1)
        assert seller.post(f"/seller/products/{product.id}/archive", data={"csrf_token": token}).status_code == 303
        db.session.expire_all()
        assert db.session.get(Product, product.id).status == ProductStatus.ARCHIVED
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _url_for_rule(rule, ids: dict) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", str(ids[arg]))
    return url


def test_every_seller_route_with_another_artisans_ids_is_404(seller, shop, other_shop, app):
    """Walk the URL map: each seller route, called with the second artisan's ids, answers 404 and changes nothing."""
    mine = make_product(shop=shop, images=1)
    their_run = ImportRun(shop_id=other_shop.id, status=ImportRun.FAILED, csv_data=b"x")  # a background import
    their_maker = Maker(shop_id=other_shop.id, name="Nghệ nhân khác")
    db.session.add_all([their_run, their_maker])
    db.session.commit()
    theirs = other_shop.products[0]
    their_ids = {"product_id": theirs.id, "variant_id": theirs.variants[0].id, "image_id": theirs.images[0].id,
                 "run_id": their_run.id, "maker_id": their_maker.id}
    mixed_ids = {"product_id": mine.id, "variant_id": theirs.variants[0].id, "image_id": theirs.images[0].id,
                 "run_id": their_run.id, "maker_id": their_maker.id}
    before = (theirs.title_vi, theirs.status, theirs.variants[0].price, theirs.variants[0].stock, len(theirs.images))
    payload = dict(FORM, stock="0", alt_text="x", direction="up", photos=(io.BytesIO(jpeg_bytes()), "a.jpg"))
    walked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("seller."):
            continue
        id_sets = [their_ids] + ([mixed_ids] if {"variant_id", "image_id"} & set(rule.arguments) else [])
        for ids in id_sets:
            url = _url_for_rule(rule, ids)
            if not rule.arguments:
                url += f"?shop={other_shop.id}"
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = dict(payload, photos=(io.BytesIO(jpeg_bytes()), "a.jpg")) if method == "POST" else None
                response = seller.open(url, method=method, data=data,
                                       content_type="multipart/form-data" if data else None)
                assert response.status_code == 404, (method, url, response.status_code)
                walked += 1
    assert walked >= 15
    db.session.expire_all()
    theirs = db.session.get(Product, theirs.id)
    assert (theirs.title_vi, theirs.status, theirs.variants[0].price, theirs.variants[0].stock, len(theirs.images)) == before
    assert db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.shop_id == other_shop.id)) == 1
    assert db.session.get(ImportRun, their_run.id).status == ImportRun.FAILED
    assert db.session.get(Maker, their_maker.id).name == "Nghệ nhân khác"
    assert db.session.scalar(sa.select(sa.func.count(ProductImage.id))) == 2


def test_unknown_ids_are_404(seller, shop):
    product = make_product(shop=shop)
    db.session.commit()
    assert seller.get("/seller/products/999999/edit").status_code == 404
    assert seller.post("/seller/products/999999/photos/1/delete").status_code == 404
    # a real product with a photo id that is not its own: 404, and its photos are untouched
    own = seller.post(f"/seller/products/{product.id}/photos/999999/delete")
    assert own.status_code == 404 and "Không tìm thấy trang" in own.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProductImage.id))) == 0


def test_odd_input_never_gives_a_500(seller, shop):
    huge = 2**40
    assert seller.get(f"/seller/products/{huge}/edit").status_code == 404
    assert seller.get(f"/seller/?shop={huge}").status_code == 404
    product = make_product(shop=shop)
    db.session.commit()
    response = seller.post(f"/seller/products/{product.id}/edit", data={
        **FORM, "title_vi": "Bình\x00 gốm", "ip_protection_id": str(huge), "weight_grams": str(huge),
        "ocop_stars": str(huge), "variants-0-id": str(product.variants[0].id), "variants-0-stock": str(huge)})
    assert response.status_code == 400
    response = seller.post(f"/seller/products/{product.id}/edit", data={**FORM, "variants-0-id": str(huge)})
    assert response.status_code == 404
    title = product.title_vi
    response = seller.post(f"/seller/products/{product.id}/edit", data={
        **FORM, "title_vi": "Bình\x00 gốm", "variants-0-id": str(product.variants[0].id)})
    assert response.status_code == 400 and "title_vi" in response.get_data(as_text=True)  # refused, named
    db.session.expire_all()
    assert db.session.get(Product, product.id).title_vi == title


def test_official_manages_an_assisted_shop_through_the_seller_pages(client, login, app):
    from marketplace.core.time import utcnow
    from marketplace.shops.models import ShopConsent
    from tests.factories import make_shop

    official = make_user(Role.OFFICIAL)
    assisted = make_shop(owner=make_user(Role.ARTISAN))
    plain = make_shop(owner=make_user(Role.ARTISAN))
    db.session.add(ShopConsent(shop_id=assisted.id, artisan_name="Cụ Lan", method="in_person_signed",
                               given_at=utcnow(), recorded_by_id=official.id))
    db.session.commit()
    login(client, official)
    assert client.get(f"/seller/?shop={assisted.id}").status_code == 200
    response = client.post(f"/seller/products/new?shop={assisted.id}", data=FORM)
    assert response.status_code == 303
    product = db.session.scalars(sa.select(Product)).one()
    assert product.shop_id == assisted.id
    assert client.get(f"/seller/products/{product.id}/edit").status_code == 200
    assert client.get(f"/seller/?shop={plain.id}").status_code == 404
    assert client.post(f"/seller/products/new?shop={plain.id}", data=FORM).status_code == 404


def test_duplicate_sku_is_a_field_error_and_threshold_is_configurable(seller, shop, other_shop, app):
    taken = other_shop.products[0].variants[0].sku
    response = seller.post("/seller/products/new", data={**FORM, "variants-0-sku": taken,
                                                         "variants-1-price": "10.000", "variants-1-sku": "NEW-1",
                                                         "variants-2-price": "10.000", "variants-2-sku": "new-1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count("Mã SKU này đã được dùng.") == 2
    assert db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.shop_id == shop.id)) == 0
    make_product(shop=shop, title_vi="Còn năm", stock=5)
    db.session.commit()
    assert "Còn năm" not in seller.get("/seller/").get_data(as_text=True).split("Bản nháp")[0]
    app.config["LOW_STOCK_THRESHOLD"] = 5
    assert "Còn năm" in seller.get("/seller/").get_data(as_text=True).split("Bản nháp")[0]
