"""A query fuzz of the public pages: hypothesis draws a page (home, catalog, search, villages, shops, products,
the transparency page, the JSON API's public reads), its path parameters (real slugs and ids, out-of-range
numbers, arbitrary text) and its query string (the parameters the pages read, with real, boundary and
arbitrary values: any Unicode, control characters, NUL, huge numbers, malformed percent-escapes), and every
answer must be below 500. On the seeded demo database (SQLite) with its search index; deterministic.
"""
from __future__ import annotations

import collections
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.catalog.models import CraftVillage, Product
from marketplace.extensions import db
from marketplace.search import reindex_all
from marketplace.shops.models import Shop

REQUESTS = 1_200
PAGES = ("/", "/products", "/search", "/search/suggest", "/villages", "/villages/{village}", "/shops/{shop}",
         "/products/{id}", "/products/{id}-{text}", "/minh-bach", "/transparency", "/api/v1/products",
         "/api/v1/products/{id}", "/api/v1/villages", "/api/v1/villages/{village}", "/api/v1/shops",
         "/api/v1/shops/{shop}")
PARAMS = ("q", "page", "per_page", "category", "village", "commune", "recognition", "sort", "price", "ocop", "lang",
          "dir", "by", "only", "shop", "next", "tourism")
KNOWN = ("ceramics", "textiles", "bat-trang", "van-phuc", "xã Bát Tràng", "relevance", "newest", "price_asc",
         "price_desc", "duoi-200k", "500k-1tr", "traditional", "none", "en", "vi", "1", "3", "5", "100", "gốm",
         "\"gốm men\"", "gom bat trang", "-", "*", "?", "%", "OR", "AND NOT", "title:gốm", "/", "//evil.example")
NUMBERS = st.one_of(st.integers(-2**70, 2**70), st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63, 10**30]))
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # any code point but surrogates, control ones included
VALUES = st.one_of(st.sampled_from(KNOWN), NUMBERS.map(str), TEXT, st.text(max_size=300).map(lambda t: t * 3))


@pytest.fixture
def fuzz_client(demo_app):
    reindex_all()
    slugs = {
        "village": list(db.session.scalars(sa.select(CraftVillage.slug).order_by(CraftVillage.id).limit(8))),
        "shop": list(db.session.scalars(sa.select(Shop.slug).order_by(Shop.id).limit(8))),
        "id": [str(i) for i in db.session.scalars(sa.select(Product.id).order_by(Product.id).limit(8))],
    }
    db.session.remove()
    return demo_app.test_client(), slugs


@st.composite
def requests(draw, slugs):
    page = draw(st.sampled_from(PAGES))
    for name in ("village", "shop", "id"):
        token = "{" + name + "}"
        if token in page:
            value = draw(st.one_of(st.sampled_from(slugs[name]), NUMBERS.map(str), TEXT))
            page = page.replace(token, quote(value, safe=""))
    if "{text}" in page:
        page = page.replace("{text}", quote(draw(TEXT), safe="/"))
    pairs = draw(st.lists(st.tuples(st.one_of(st.sampled_from(PARAMS), TEXT), VALUES), max_size=6))
    query = urlencode(pairs)
    if draw(st.booleans()) and draw(st.booleans()):  # raw, possibly malformed, escapes and bytes
        query += "&" + draw(st.sampled_from(("q=%ZZ", "q=%C3%28", "q=%FF%FE", "page=%00", "q=%", "%=1", "q=a%2",
                                             "=&&==", "village=%E0%A4%A", "commune=%C0%AF")))
    return page + ("?" + query if query else "")


def test_public_pages_answer_every_query_without_a_server_error(fuzz_client):
    client, slugs = fuzz_client
    statuses: collections.Counter = collections.Counter()
    errors = []

    @settings(max_examples=REQUESTS, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(url=requests(slugs))
    def fetch(url):
        response = client.get(url)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            errors.append((url, response.status_code))
        assert response.status_code < 500, url

    fetch()
    total = sum(statuses.values())
    print(f"query fuzz: {total} requests, statuses {dict(sorted(statuses.items()))}")
    assert not errors, errors[:5]
    assert total >= 1_000
