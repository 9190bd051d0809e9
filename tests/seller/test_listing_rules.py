"""Listing editor rules (issue 17): no publishing without a photo and an in-stock variant, duplicate a
product, bulk price/stock edit (all or nothing, another shop's variant → 404)."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog.models import Product, ProductStatus, Variant
from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from tests.factories import make_product
from tests.seller.test_seller_pages import FORM


def test_save_and_publish_without_photo_is_refused_with_a_clear_message(seller, shop):
    response = seller.post("/seller/products/new", data=dict(FORM, action="publish"))
    assert response.status_code == 400
    assert "Cần ít nhất một ảnh sản phẩm trước khi đăng bán." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Product)).all() == []  # nothing saved half-way


def test_publish_button_refuses_no_photo_and_no_stock(seller, shop):
    no_photo = make_product(shop=shop, status=ProductStatus.DRAFT, images=0)
    no_stock = make_product(shop=shop, status=ProductStatus.DRAFT, images=1, stock=0)
    db.session.commit()
    r = seller.post(f"/seller/products/{no_photo.id}/publish", follow_redirects=True)
    assert "Cần ít nhất một ảnh sản phẩm" in r.get_data(as_text=True)
    r = seller.post(f"/seller/products/{no_stock.id}/publish", follow_redirects=True)
    assert "Cần ít nhất một phân loại còn hàng" in r.get_data(as_text=True)
    db.session.expire_all()
    assert {p.status for p in db.session.scalars(sa.select(Product))} == {ProductStatus.DRAFT}


def test_duplicate_makes_a_draft_copy_with_new_skus_and_the_photos(seller, shop, other_shop):
    product = make_product(shop=shop, images=2, variants=[("Nhỏ", 100_000, 3), ("Lớn", 200_000, 1)])
    db.session.commit()
    r = seller.post(f"/seller/products/{product.id}/duplicate")
    assert r.status_code == 303
    copy = db.session.scalars(sa.select(Product).where(Product.id != product.id, Product.shop_id == shop.id)).one()
    assert copy.status == ProductStatus.DRAFT and copy.title_vi == product.title_vi + " (bản sao)"
    assert [(v.name, v.price, v.stock) for v in copy.variants] == [("Nhỏ", 100_000, 3), ("Lớn", 200_000, 1)]
    assert not {v.sku for v in copy.variants} & {v.sku for v in product.variants}
    assert [i.storage_key for i in copy.images] == [i.storage_key for i in product.images]
    foreign = other_shop.products[0]
    assert seller.post(f"/seller/products/{foreign.id}/duplicate").status_code == 404


def test_bulk_price_and_stock_edit(seller, shop, other_shop):
    a = make_product(shop=shop, price=100_000, stock=1)
    b = make_product(shop=shop, price=200_000, stock=2)
    db.session.commit()
    va, vb = a.variants[0].id, b.variants[0].id
    page = seller.get("/seller/products/bulk").get_data(as_text=True)
    assert f'name="price-{va}"' in page and f'name="stock-{vb}"' in page
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    # one bad cell: nothing changes
    r = seller.post("/seller/products/bulk", data={f"price-{va}": "120.000", f"stock-{va}": "5",
                                                   f"price-{vb}": "abc", f"stock-{vb}": "2"})
    assert r.status_code == 400 and "Giá là số đồng nguyên" in r.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Variant, va).price, db.session.get(Variant, va).stock) == (100_000, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audits
    r = seller.post("/seller/products/bulk", data={f"price-{va}": "120.000", f"stock-{va}": "5",
                                                   f"price-{vb}": "200000", f"stock-{vb}": "9"})
    assert r.status_code == 303
    db.session.expire_all()
    assert [(v.price, v.stock) for v in (db.session.get(Variant, va), db.session.get(Variant, vb))] == [
        (120_000, 5), (200_000, 9)]
    foreign = other_shop.products[0].variants[0]
    r = seller.post("/seller/products/bulk", data={f"price-{va}": "1", f"stock-{foreign.id}": "0"})
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Variant, foreign.id).stock == 10
    assert db.session.get(Variant, va).price == 120_000
