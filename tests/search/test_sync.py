"""The index follows committed changes to products, variants, shops and villages (SQLite and PostgreSQL)."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog.models import Product, ProductStatus, Variant
from marketplace.extensions import db
from marketplace.search import maintenance
from marketplace.search.maintenance import check_index
from marketplace.search.models import SearchDirty
from marketplace.search.services import get_backend, search_products
from marketplace.shops.models import Shop, ShopStatus
from tests.factories import make_product, make_shop, make_user, make_village


def found(q: str, **filters) -> set[int]:
    return set(search_products(q, filters, per_page=100).ids)


def dirty_ids() -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(sa.select(SearchDirty.product_id)))


def test_new_product_reaches_the_index_after_commit(app):
    product = make_product(title_vi="Bình gốm men lam Thử Nghiệm", title_en="Test vase")
    assert product.id not in found("thu nghiem")  # flushed, not committed: not yet
    db.session.commit()
    assert product.id in found("thu nghiem")
    assert product.id in found("Thử Nghiệm")
    assert product.id in found("test vase")


def test_edit_and_delete(app):
    product = make_product(title_vi="Khay tre đan Cũ")
    db.session.commit()
    product.title_vi = "Khay tre đan Mới"
    db.session.commit()
    assert product.id not in found("cu") and product.id in found("khay moi")
    pid = product.id
    db.session.delete(product)
    db.session.commit()
    assert pid not in found("khay")
    assert get_backend().doc_count() == 0


def test_drafts_and_archived_stay_out(app):
    product = make_product(title_vi="Nón lá Bản Nháp", status=ProductStatus.DRAFT)
    db.session.commit()
    assert product.id not in found("nón lá")
    product.status = ProductStatus.ACTIVE
    db.session.commit()
    assert product.id in found("nón lá")
    product.status = ProductStatus.ARCHIVED
    db.session.commit()
    assert product.id not in found("nón lá")


def test_suspended_shop_vanishes_at_once(app):
    shop = make_shop(name="Xưởng Lụa Hà Đông")
    products = [make_product(shop=shop, title_vi=f"Khăn lụa tơ tằm {i}") for i in range(3)]
    other = make_product(title_vi="Khăn lụa khác")
    db.session.commit()
    assert {p.id for p in products} | {other.id} <= found("khăn lụa")
    shop.status = ShopStatus.SUSPENDED  # what the admin's "suspend shop" does
    db.session.commit()
    assert found("khăn lụa") == {other.id}
    assert found("") == {other.id}
    shop.status = ShopStatus.ACTIVE
    db.session.commit()
    assert {p.id for p in products} <= found("khăn lụa")


def test_bulk_update_statement_is_noticed(app):
    shop = make_shop()
    product = make_product(shop=shop, title_vi="Đèn đá sân vườn")
    db.session.commit()
    db.session.execute(sa.update(Shop).where(Shop.id == shop.id).values(status=ShopStatus.SUSPENDED))
    db.session.commit()
    assert product.id not in found("đèn đá")


def test_village_and_shop_renames_reach_their_products(app):
    village = make_village(name_vi="Làng Cũ")
    shop = make_shop(village=village, name="Xưởng A")
    product = make_product(shop=shop, title_vi="Tượng gỗ")
    db.session.commit()
    village.name_vi = "Làng Thạch Xá Mới"
    db.session.commit()
    assert product.id in found("thach xa moi")
    shop.name = "Xưởng Hoa Sen"
    db.session.commit()
    assert product.id in found("tượng hoa sen")


def test_variant_price_changes_the_price_facet(app):
    product = make_product(title_vi="Tủ gỗ chạm khắc", price=900_000)
    db.session.commit()
    assert product.id in found("tủ gỗ", price="500k-1tr")
    product.variants[0].price = 5_000_000
    db.session.commit()
    assert product.id in found("tủ gỗ", price="tren-3tr")
    assert product.id not in found("tủ gỗ", price="500k-1tr")


def test_commit_without_indexed_change_opens_no_writer(app, monkeypatch):
    product = make_product(title_vi="Dao bếp rèn tay")
    db.session.commit()
    opened = []
    backend = get_backend()
    real = backend.writer
    monkeypatch.setattr(backend, "writer", lambda *a, **k: opened.append(1) or real(*a, **k))
    product.variants[0].stock = 3  # stock is not indexed
    make_user(name="Khách mới")
    db.session.commit()
    assert opened == []
    product.title_en = "Forged kitchen knife"
    db.session.commit()
    assert opened == [1]


def test_bulk_stock_update_opens_no_writer_but_a_price_update_does(app, monkeypatch):
    """Checkouts and cancellations change stock with UPDATE statements: the index holds no stock, so no
    full sync; a bulk price change (indexed: price facet and sort) is still applied."""
    product = make_product(title_vi="Bình gốm men lam", price=450_000)
    db.session.commit()
    opened = []
    backend = get_backend()
    real = backend.writer
    monkeypatch.setattr(backend, "writer", lambda *a, **k: opened.append(1) or real(*a, **k))
    variant_id = product.variants[0].id
    db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(stock=Variant.stock - 1))
    db.session.commit()
    assert opened == []
    db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(price=3_500_000))
    db.session.commit()
    assert opened == [1]
    assert product.id in found("bình gốm men lam", price="tren-3tr")


def test_locked_index_never_fails_a_save_and_loses_nothing(app):
    backend = get_backend()
    backend.open()
    holder = backend.open().writer()  # another process writing, as far as the lock is concerned
    try:
        product = make_product(title_vi="Chuồn chuồn tre Thạch Xá")
        db.session.commit()  # must not raise, must not wait for the holder
        assert dirty_ids() == {product.id}
        assert product.id not in found("chuồn chuồn")
    finally:
        holder.cancel()
    assert maintenance.sync_pending() == 1
    assert product.id in found("chuồn chuồn")
    assert dirty_ids() == set()


def test_next_writer_applies_dirty_products(app):
    backend = get_backend()
    holder = backend.open().writer()
    try:
        first = make_product(title_vi="Tò he Xuân La")
        db.session.commit()
    finally:
        holder.cancel()
    second = make_product(title_vi="Tò he Bá Dương Nội")
    db.session.commit()
    assert {first.id, second.id} <= found("tò he")
    assert dirty_ids() == set()


def test_index_failure_is_logged_not_raised(app, monkeypatch, caplog):
    backend = get_backend()

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(backend, "writer", broken)
    product = make_product(title_vi="Hương quế")
    db.session.commit()
    assert db.session.get(Product, product.id) is not None
    assert "search index update failed" in caplog.text
    monkeypatch.undo()
    report = check_index()
    assert report["missing"] == [product.id]
