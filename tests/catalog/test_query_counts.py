"""The list, village and product pages issue a constant number of SQL statements (no N+1)."""
import contextlib

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.shops.models import Shop


@contextlib.contextmanager
def count_statements():
    counter = {"n": 0}

    def before(conn, cursor, statement, params, context, executemany):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def statements_for(app, client, url, per_page):
    app.config["FRAGMENT_CACHE"] = False  # measure the queries, not the cache
    app.config["PER_PAGE"] = per_page
    client.get(url)  # warm-up (first-request work)
    with count_statements() as counter:
        r = client.get(url)
    assert r.status_code == 200
    return counter["n"]


@pytest.mark.parametrize("url", ["/products", "/products?sort=price_desc", "/villages/bat-trang",
                                 "/shops/{shop}", "/", "/villages"])
def test_statement_count_does_not_grow_with_page_size(demo_app, demo_client, url):
    shop_slug = db.session.scalar(sa.select(Shop.slug).where(Shop.status == "active").order_by(Shop.id))
    url = url.format(shop=shop_slug)
    small = statements_for(demo_app, demo_client, url, 2)
    large = statements_for(demo_app, demo_client, url, 60)
    assert small == large
    assert large <= 8


def test_product_page_statement_count_is_constant(demo_app, demo_client):
    ids = db.session.scalars(
        sa.select(Product.id).join(Shop).where(Product.status == "active", Shop.status == "active")
    ).all()
    counts = set()
    for pid in ids[:10]:
        canonical = demo_client.get(f"/products/{pid}").headers["Location"]  # /products/<id>-<slug>
        with count_statements() as counter:
            assert demo_client.get(canonical).status_code == 200
        counts.add(counter["n"])
    assert len(counts) == 1 and counts.pop() <= 8
