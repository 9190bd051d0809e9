"""The /search page (no JavaScript needed) and /search/suggest."""
from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.catalog.models import CraftVillage, Product
from marketplace.extensions import db
from marketplace.search.services import search_products

ID_RE = re.compile(r'href="/products/(\d+)[-"]')


def ids_on(response) -> list[int]:
    seen = []
    for i in ID_RE.findall(response.get_data(as_text=True)):
        if int(i) not in seen:
            seen.append(int(i))
    return seen


def products(ids) -> list[Product]:
    rows = {p.id: p for p in db.session.scalars(sa.select(Product).where(Product.id.in_(ids)))}
    return [rows[i] for i in ids]


def test_results_page(shared_search_app):
    client = shared_search_app.test_client()
    response = client.get("/search?q=gom+bat+trang")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kết quả cho “gom bat trang”" in html
    assert 'value="gom bat trang"' in html  # the box keeps the query
    assert re.search(r"\d{1,3}(\.\d{3})+ ₫", html)  # prices through the vnd filter
    assert "Danh mục" in html and "Làng nghề" in html and "Khoảng giá" in html
    shown = products(ids_on(response))
    assert shown and all("Bát Tràng" in p.title_vi or p.shop.village.slug == "bat-trang" for p in shown[:5])


def test_page_has_no_inline_script_and_works_without_js(shared_search_app):
    html = shared_search_app.test_client().get("/search?q=lụa").get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None  # nothing between script tags
    assert 'action="/search"' in html and 'method="get"' in html
    assert " on" not in "".join(re.findall(r"<[^>]+ on[a-z]+=", html))


def test_facet_filters(shared_search_app):
    client = shared_search_app.test_client()
    r = client.get("/search?q=lua&category=textiles")
    assert all(p.category == "textiles" for p in products(ids_on(r)))
    r = client.get("/search?q=gom&village=kim-lan")
    shown = products(ids_on(r))
    assert shown and all(p.shop.village.slug == "kim-lan" for p in shown)
    assert "Kim Lan ✕" in r.get_data(as_text=True)
    r = client.get("/search?q=&price=200k-500k")
    assert all(200_000 <= p.min_price < 500_000 for p in products(ids_on(r)))
    r = client.get("/search?q=&ocop=3")
    shown = products(ids_on(r))
    assert shown and all(p.ocop_stars >= 3 and p.ocop_state == "valid" for p in shown)
    r = client.get("/search?q=&ocop=4")
    shown = products(ids_on(r))
    assert shown and all(p.ocop_stars >= 4 and p.ocop_state == "valid" for p in shown)


def test_facet_counts_match_results(shared_search_app):
    result = search_products("gốm")
    assert sum(n for _, n in result.facets["category"]) == result.total
    assert sum(n for _, n in result.facets["price"]) == result.total
    for key, n in result.facets["category"]:
        assert search_products("gốm", {"category": key}).total == n
    for stars, n in search_products("").facets["ocop"]:  # cumulative: N stars or more
        assert search_products("", {"ocop": stars}).total == n
    village_id, n = result.facets["village"][0]
    assert search_products("gốm", {"village_id": village_id}).total == n


def test_sorting_and_paging(shared_search_app):
    client = shared_search_app.test_client()
    asc = products(ids_on(client.get("/search?q=gom&sort=price_asc")))
    assert [p.min_price for p in asc] == sorted(p.min_price for p in asc)
    desc = products(ids_on(client.get("/search?q=gom&sort=price_desc")))
    assert [p.min_price for p in desc] == sorted((p.min_price for p in desc), reverse=True)
    newest = products(ids_on(client.get("/search?q=&sort=newest")))
    assert [p.published_at for p in newest] == sorted((p.published_at for p in newest), reverse=True)
    first = ids_on(client.get("/search?q="))
    second = ids_on(client.get("/search?q=&page=2"))
    assert first and second and not set(first) & set(second)
    everything = search_products("", per_page=100)
    assert everything.total == db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(Product.id).where(__import__("marketplace.catalog.models", fromlist=["x"])
                                    .visible_products_clause()).subquery()))


def test_did_you_mean_and_fallback_are_shown(shared_search_app):
    html = shared_search_app.test_client().get("/search?q=gom+bat+trag").get_data(as_text=True)
    assert "Có phải bạn muốn tìm" in html and "gốm bát tràng" in html
    assert "search-fallback" in html


def test_no_results_and_symbol_only_queries(shared_search_app):
    client = shared_search_app.test_client()
    html = client.get("/search?q=xyzzyqwerty").get_data(as_text=True)
    assert "Không tìm thấy sản phẩm phù hợp" in html
    html = client.get("/search?q=((((").get_data(as_text=True)
    assert "Hãy gõ tên sản phẩm" in html


def test_english_locale(shared_search_app):
    client = shared_search_app.test_client()
    response = client.get("/search?q=silk+scarf&lang=en")
    assert response.status_code == 200
    assert "scarf" in response.get_data(as_text=True).lower()


def test_suggest(shared_search_app):
    client = shared_search_app.test_client()
    data = client.get("/search/suggest?q=bat+tr").get_json()
    assert data["suggestions"][0] == {"type": "village", "label": "Bát Tràng", "url": "/villages/bat-trang"}
    assert any(s["type"] == "product" and "Bát Tràng" in s["label"] for s in data["suggestions"])
    data = client.get("/search/suggest?q=n%C3%B3n").get_json()
    assert data["suggestions"] and all(s["url"].startswith("/") for s in data["suggestions"])
    assert client.get("/search/suggest?q=").get_json()["suggestions"] == []
    assert client.get("/search/suggest").get_json()["suggestions"] == []


def test_village_facet_labels(shared_search_app):
    html = shared_search_app.test_client().get("/search?q=gốm").get_data(as_text=True)
    bat_trang = db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == "bat-trang"))
    assert f"village={bat_trang.slug}" in html
