"""flask search reindex | check | sync (the seed-demo hook: tests/demo/test_cli.py)."""
from __future__ import annotations

from marketplace.extensions import db
from marketplace.search import reindex_all
from marketplace.search.services import get_backend, search_products
from tests.factories import make_product


def make_catalog(n: int = 4):
    products = [make_product(title_vi=f"Bát ăn cơm men lam {i}") for i in range(n)]
    db.session.commit()
    return products


def test_reindex_with_progress_bar(app, runner):
    make_catalog()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 4 products." in result.output
    assert "Indexing products" in result.output  # the progress bar (stderr is mixed in)
    again = runner.invoke(args=["search", "reindex"])
    assert "Search index rebuilt: 4 products." in again.output  # idempotent
    assert get_backend().doc_count() == 4


def test_reindex_if_stale(app, runner):
    make_catalog()
    assert "up to date" in runner.invoke(args=["search", "reindex", "--if-stale"]).output
    get_backend().remove([make_catalog(1)[0].id])
    result = runner.invoke(args=["search", "reindex", "--if-stale"])
    assert "Search index rebuilt: 5 products." in result.output


def test_check_reports_missing_stale_and_extra(app, runner):
    products = make_catalog()
    ok = runner.invoke(args=["search", "check"])
    assert ok.exit_code == 0 and "OK" in ok.output
    backend = get_backend()
    backend.remove([products[0].id])
    doc = {"id": str(999_999), "pid": 999_999, "title": "ma", "village": "", "body": "", "category": b"",
           "village_id": 0, "ocop": 0, "ocop_until": 0, "price": 0, "published": 0, "stamp": "x"}
    backend.index({999_999: doc})
    from marketplace.search.documents import documents_for_ids
    stale = documents_for_ids(db.session, [products[1].id])[products[1].id]
    stale["stamp"] = "old"
    backend.index({products[1].id: stale})
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"1 missing from the index: {products[0].id}" in result.output
    assert f"1 stale in the index: {products[1].id}" in result.output
    assert "1 in the index but not visible: 999999" in result.output
    fixed = runner.invoke(args=["search", "sync", "--full"])
    assert "Fixed 3 drifted document(s)." in fixed.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_sync_applies_dirty(app, runner):
    backend = get_backend()
    holder = backend.open().writer()
    try:
        product = make_catalog(1)[0]
    finally:
        holder.cancel()
    assert "Applied 1 pending update(s)." in runner.invoke(args=["search", "sync"]).output
    assert product.id in search_products("bát ăn cơm").ids


def test_reindex_all_contract(app):
    make_catalog(3)
    get_backend().remove([p for p in search_products("").ids])
    assert search_products("").total == 0
    assert reindex_all() == 3
    assert search_products("").total == 3
