"""The index sync reads the change feed: which changes reach the index, which don't, and which mean a full
sync (SQLite and PostgreSQL)."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog.models import Product, Variant
from marketplace.core import changes
from marketplace.core.cache import STOCK_CHECKED
from marketplace.core.changes import ChangeSet, RowChange, StatementChange
from marketplace.extensions import db
from marketplace.search import maintenance, sync
from marketplace.search.services import get_backend, search_products
from tests.factories import make_product


def found(q: str, **filters) -> set[int]:
    return set(search_products(q, filters, per_page=100).ids)


def _count_writers(monkeypatch) -> list:
    opened = []
    backend = get_backend()
    real = backend.writer
    monkeypatch.setattr(backend, "writer", lambda *a, **k: opened.append(1) or real(*a, **k))
    return opened


def _count_full_syncs(monkeypatch) -> list:
    calls = []
    real = maintenance.sync_everything
    monkeypatch.setattr(maintenance, "sync_everything", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _changes(*items) -> ChangeSet:
    change_set = ChangeSet()
    for item in items:
        (change_set.rows if isinstance(item, RowChange) else change_set.statements).append(item)
    return change_set


def test_search_subscribes_to_the_apps_feed(app):
    assert changes.feed_of(app).subscribers["search"] is sync.on_change


def test_rules_read_from_a_change_set():
    def row(table, op, pk, columns, values=None, old=None):
        return RowChange(table, op, pk, frozenset(columns), values or {}, old or {})

    def stmt(table, op, columns, options=None):
        return StatementChange(table, op, None if columns is None else frozenset(columns), {}, options or {})

    pending = sync.pending_for(_changes(
        row("products", "update", 1, {"view_count"}),  # not indexed
        row("products", "update", 2, {"title_vi"}),
        row("products", "delete", 3, {"id", "title_vi"}),
        row("variants", "update", 10, {"stock"}, {"product_id": 4}),  # not indexed
        row("variants", "update", 11, {"product_id"}, {"product_id": 5}, {"product_id": 6}),  # moved
        row("variants", "insert", 12, {"id", "product_id", "price"}, {"product_id": 7}),
        row("shops", "insert", 20, {"id", "name"}),  # a new shop has no products yet
        row("shops", "update", 21, {"name"}),
        row("craft_villages", "update", 30, {"latitude"}),  # not indexed
        row("craft_villages", "update", 31, {"name_en"}),
        row("users", "update", 40, {"name"}),
        stmt("variants", "update", {"stock"}, {STOCK_CHECKED: True}),
    ))
    assert pending.products == {2, 3, 5, 6, 7}
    assert pending.shops == {21} and pending.villages == {31} and not pending.everything
    assert not sync.pending_for(_changes(stmt("variants", "update", {"stock"}), stmt("orders", "update", None)))
    assert not sync.pending_for(_changes(stmt("shops", "insert", {"id", "name"})))
    for full in (stmt("variants", "update", {"price"}), stmt("shops", "update", {"status"}),
                 stmt("products", "update", None), stmt("products", "delete", None),
                 stmt("products", "insert", {"id", "title_vi"})):
        assert sync.pending_for(_changes(full)).everything, full


def test_a_moved_variant_updates_its_old_and_new_product(app):
    cheap = make_product(title_vi="Lọ hoa gốm rẻ", price=150_000)
    dear = make_product(title_vi="Lọ hoa gốm đắt", price=2_500_000)
    db.session.commit()
    assert cheap.id in found("lọ hoa", price="duoi-200k") and dear.id in found("lọ hoa", price="1tr-3tr")
    variant = cheap.variants[0]
    db.session.add(Variant(product=cheap, name="Cỡ lớn", sku="MOVE-2", price=600_000, stock=1))
    db.session.flush()
    variant.product_id = dear.id  # the cheap variant moves to the dear product
    db.session.commit()
    assert cheap.id in found("lọ hoa", price="500k-1tr")
    assert dear.id in found("lọ hoa", price="duoi-200k")


def test_deleting_a_variant_after_commit_updates_its_product(app):
    product = make_product(title_vi="Bát đĩa men ngọc", price=120_000)
    db.session.add(Variant(product=product, name="Bộ lớn", sku="DEL-2", price=800_000, stock=2))
    db.session.commit()
    assert product.id in found("men ngọc", price="duoi-200k")
    cheap = db.session.scalar(sa.select(Variant).where(Variant.product_id == product.id, Variant.price == 120_000))
    db.session.commit()  # everything expired, as in a fresh request
    db.session.delete(cheap)
    db.session.commit()
    assert product.id in found("men ngọc", price="500k-1tr")


def test_core_and_text_statements_mean_a_full_sync(app, monkeypatch):
    product = make_product(title_vi="Quạt giấy Chàng Sơn", price=90_000)
    db.session.commit()
    full = _count_full_syncs(monkeypatch)
    db.session.execute(sa.update(Variant).where(Variant.product_id == product.id).values(price=1_200_000))
    db.session.commit()
    assert full == [1]
    assert product.id in found("quạt giấy", price="1tr-3tr")
    assert product.id not in found("thanh thuỳ")
    db.session.connection().execute(sa.text("UPDATE products SET title_vi = 'Quạt nan Thanh Thuỳ' WHERE id = :id"),
                                    {"id": product.id})  # text SQL: the columns are unknown
    db.session.commit()
    assert full == [1, 1]
    assert product.id in found("thanh thuỳ")


def test_statements_outside_the_session_reach_the_index(app, monkeypatch):
    product = make_product(title_vi="Quạt giấy Chàng Sơn", price=90_000)
    db.session.commit()
    full = _count_full_syncs(monkeypatch)
    with db.engine.begin() as conn:  # a Core UPDATE on the engine, no session involved
        conn.execute(sa.update(Variant).where(Variant.product_id == product.id).values(price=1_200_000))
    assert full == [1]
    assert product.id in found("quạt giấy", price="1tr-3tr")


def test_stock_statements_and_rollbacks_open_no_writer(app, monkeypatch):
    product = make_product(title_vi="Trống đồng mini", price=450_000)
    db.session.commit()
    opened = _count_writers(monkeypatch)
    variant_id = product.variants[0].id
    db.session.connection().execute(
        sa.update(Variant).where(Variant.id == variant_id).values(stock=Variant.stock - 1)
        .execution_options(**{STOCK_CHECKED: True}))
    db.session.commit()
    product.title_vi = "Trống đồng Đông Sơn"
    db.session.execute(sa.update(Product).where(Product.id == product.id).values(title_en="Bronze drum"))
    db.session.rollback()  # nothing committed: nothing published
    assert opened == []
    assert product.id in found("trống đồng mini")
