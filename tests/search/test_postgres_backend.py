"""SEARCH_BACKEND=postgres: refused without PostgreSQL; documents written inside the change's own transaction
(committed with it, rolled back with it, seen by another app instance at once); the same totals, facets,
filters, sorts and "did you mean" as the Whoosh backend over the demo catalog."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import ProductStatus, Variant
from marketplace.core import uow
from marketplace.core.cache import STOCK_CHECKED
from marketplace.extensions import db
from marketplace.search import pg_index
from marketplace.search.backend import WhooshBackend
from marketplace.search.maintenance import check_index, reindex_all
from marketplace.search.models import SearchDocument
from marketplace.search.parsing import parse_query
from marketplace.search.pg_backend import PostgresBackend
from marketplace.search.services import get_backend, search_products
from marketplace.shops.models import ShopStatus
from tests.conftest import PG_URL, make_app, pg_url, truncate_all
from tests.factories import make_product

needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set (CI=true requires it)")


def found(q: str, **filters) -> set[int]:
    return set(search_products(q, filters, per_page=100).ids)


# --- choosing the backend -------------------------------------------------------------------------------

def test_whoosh_is_the_default(tmp_path):
    app = make_app(tmp_path, "sqlite")
    assert app.config["SEARCH_BACKEND"] == "whoosh"
    assert isinstance(app.extensions["search"], WhooshBackend)


def test_postgres_backend_is_refused_on_sqlite(tmp_path):
    with pytest.raises(RuntimeError, match="SEARCH_BACKEND=postgres needs DATABASE_URL on PostgreSQL"):
        make_app(tmp_path, "sqlite", SEARCH_BACKEND="postgres")


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="not a search backend"):
        make_app(tmp_path, "sqlite", SEARCH_BACKEND="elastic")


# --- the write side: the same words as Whoosh, as a tsvector literal ------------------------------------

def test_tsvector_has_exact_and_folded_forms_at_the_same_position():
    doc = {"title": "Lụa Vạn Phúc\nSilk", "village": "Vạn Phúc", "body": "đũi"}
    tsv, per_field = pg_index.analyse(doc)
    lexemes = dict(part.split(":", 1) for part in tsv.split(" "))
    assert lexemes["'lụa'"] == "1A" and lexemes["'lua'"] == "1A"
    assert lexemes["'vạn'"] == "2A,6B" and lexemes["'van'"] == "2A,6B"
    assert lexemes["'silk'"] == "4A"
    assert lexemes["'dui'"] == "9C" and lexemes["'đũi'"] == "9C"  # đ folds to d
    assert per_field["title"] == {"lụa", "lua", "vạn", "van", "phúc", "phuc", "silk"}


# --- in the transaction ---------------------------------------------------------------------------------

@pytest.fixture
def pg_app(tmp_path):
    if not PG_URL:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true requires TEST_DATABASE_URL (the PostgreSQL search backend must be tested)")
        pytest.skip("TEST_DATABASE_URL not set (CI=true requires it)")
    app = make_app(tmp_path, "postgresql", SEARCH_BACKEND="postgres")
    with app.app_context():
        db.create_all()
        truncate_all()
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        truncate_all()
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


def doc_ids() -> set[int]:
    with db.engine.connect() as conn:  # what another connection (another instance) sees
        return set(conn.scalars(sa.select(SearchDocument.product_id)))


@needs_pg
def test_saved_product_is_found_at_commit_not_before(pg_app):
    assert isinstance(get_backend(), PostgresBackend)
    product = make_product(title_vi="Bình gốm men lam Thử Nghiệm", title_en="Test vase")
    assert product.id not in found("thu nghiem")  # flushed, not committed: other connections don't see it
    db.session.commit()
    assert product.id in found("thu nghiem") and product.id in found("Thử Nghiệm") and product.id in found("test vase")
    assert doc_ids() == {product.id}


@needs_pg
def test_rolled_back_change_leaves_no_document(pg_app):
    kept = make_product(title_vi="Khay tre đan Alpha")
    db.session.commit()
    with pytest.raises(RuntimeError), uow.transaction():
        kept.title_vi = "Khay tre đan Omega"
        make_product(title_vi="Nón lá Bỏđi")
        db.session.flush()
        raise RuntimeError("the request failed")
    assert doc_ids() == {kept.id}
    assert found("khay alpha") == {kept.id} and not found("omega") and not found("bodi")


@needs_pg
def test_edits_shop_suspension_and_prices_follow_in_the_same_transaction(pg_app):
    product = make_product(title_vi="Khay sơn mài Cũ", price=150_000)
    db.session.commit()
    product.title_vi = "Khay sơn mài Mới"
    db.session.commit()
    assert product.id not in found("cu") and product.id in found("khay moi")
    variant = db.session.scalar(sa.select(Variant).where(Variant.product_id == product.id))
    variant.price = 2_500_000
    db.session.commit()
    assert product.id in found("khay", price="1tr-3tr") and product.id not in found("khay", price="duoi-200k")
    product.shop.status = ShopStatus.SUSPENDED
    db.session.commit()
    assert product.id not in found("khay") and doc_ids() == set()
    product.shop.status = ShopStatus.ACTIVE
    product.status = ProductStatus.DRAFT
    db.session.commit()
    assert doc_ids() == set()


@needs_pg
def test_stock_statements_write_no_document(pg_app):
    product = make_product(title_vi="Giỏ mây đan tay")
    db.session.commit()
    before = db.session.scalar(sa.select(SearchDocument.stamp).where(SearchDocument.product_id == product.id))
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, stmt, *a: statements.append(stmt) if "search_documents" in stmt else None)
    with uow.transaction():
        db.session.execute(sa.update(Variant).where(Variant.product_id == product.id)
                           .values(stock=Variant.stock - 1).execution_options(**{STOCK_CHECKED: True}))
    assert statements == []
    assert db.session.scalar(sa.select(SearchDocument.stamp).where(SearchDocument.product_id == product.id)) == before


@needs_pg
def test_another_instance_finds_a_save_at_once(pg_app):
    engine = sa.create_engine(pg_url())  # another process's engine: no shared state but the database
    try:
        other = PostgresBackend(engine)
        product = make_product(title_vi="Tượng gỗ Sơn Đồng Mới Lưu")
        assert other.search(parse_query("moi luu")).ids == []
        db.session.commit()
        assert other.search(parse_query("moi luu")).ids == [product.id]
    finally:
        engine.dispose()


@needs_pg
def test_reindex_and_check_agree(pg_app):
    products = [make_product(title_vi=f"Đèn lồng {i}") for i in range(3)]
    hidden = make_product(title_vi="Đèn lồng nháp", status=ProductStatus.DRAFT)
    db.session.commit()
    assert reindex_all() == 3
    report = check_index()
    assert report["missing"] == report["stale"] == report["extra"] == [] and report["indexed"] == 3
    assert doc_ids() == {p.id for p in products} and hidden.id not in doc_ids()
    db.session.execute(sa.text("UPDATE search_documents SET stamp = 'x' WHERE product_id = :i"), {"i": products[0].id})
    db.session.commit()
    assert check_index()["stale"] == [products[0].id]


# --- the same answers as Whoosh over the demo catalog -------------------------------------------------

QUERIES = ["gốm bát tràng", "gom bat trang", "lụa", "lua", "nón lá", "men rạn", '"bình hoa men rạn"',
           "silk scarf", "gom bat trag", "nón đàn bầu", "tranh thêu", "xyzzy", "", "kim lan"]
FILTERS = [{}, {"category": "ceramics"}, {"ocop": 3}, {"price": "200k-500k"}, {"category": "textiles", "ocop": 4}]
SORTS = ["relevance", "price_asc", "price_desc", "newest"]


@pytest.fixture(scope="module")
def both(tmp_path_factory, demo_template, demo_index):
    if not PG_URL:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true requires TEST_DATABASE_URL (the PostgreSQL search backend must be tested)")
        pytest.skip("TEST_DATABASE_URL not set (CI=true requires it)")
    import shutil

    base = tmp_path_factory.mktemp("search-both")
    shutil.copy(demo_template, base / "test.sqlite")
    whoosh = make_app(base, "sqlite")
    shutil.copytree(demo_index, whoosh.config["SEARCH_INDEX_DIR"])
    return whoosh


def answers(app, q, filters, sort, page=1):
    with app.app_context():
        r = search_products(q, filters, sort=sort, page=page, per_page=10)
        return {"total": r.total, "facets": r.facets, "fallback": r.fallback, "did_you_mean": r.did_you_mean,
                "ids": r.ids, "scores": [round(s, 6) for s in r.scores]}


@needs_pg
@pytest.mark.parametrize("sort", SORTS)
def test_same_answers_as_whoosh(both, pg_search_app, sort):
    checked = 0
    for q in QUERIES:
        for filters in FILTERS:
            whoosh, pg = answers(both, q, filters, sort), answers(pg_search_app, q, filters, sort)
            assert pg == whoosh, (q, filters, sort)
            checked += 1
    assert checked == len(QUERIES) * len(FILTERS)
    assert answers(pg_search_app, "gốm", {}, sort, page=2) == answers(both, "gốm", {}, sort, page=2)
