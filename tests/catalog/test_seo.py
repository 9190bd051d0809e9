"""Sharing and search engines: JSON-LD and Open Graph checked against the product, canonical URLs (301),
robots.txt, hreflang, the sitemap's lastmod and images."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import sqlalchemy as sa

from marketplace.catalog.models import ProductImage
from marketplace.extensions import db
from marketplace.orders.models import Review
from tests.factories import make_product, make_shop, make_user, make_village

HOST = "http://localhost"


class Head(HTMLParser):
    """What a crawler reads: <meta property/name>, <link rel>, and the JSON-LD blocks (parsed)."""

    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict] = []
        self.jsonld: list[dict] = []
        self._in_ld = False
        self._buffer = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta.setdefault(a.get("property") or a.get("name"), []).append(a.get("content"))
        elif tag == "link":
            self.links.append(a)
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld, self._buffer = True, ""

    def handle_data(self, data):
        if self._in_ld:
            self._buffer += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_ld:
            self.jsonld.append(json.loads(self._buffer))
            self._in_ld = False

    def one(self, key: str) -> str:
        values = self.meta.get(key) or []
        assert len(values) == 1, (key, values)
        return values[0]

    def typed(self, kind: str) -> dict:
        found = [d for d in self.jsonld if d.get("@type") == kind]
        assert len(found) == 1, (kind, self.jsonld)
        return found[0]

    def link(self, rel: str, hreflang: str | None = None) -> str:
        found = [x["href"] for x in self.links if x.get("rel") == rel and x.get("hreflang") == hreflang]
        assert len(found) == 1, (rel, hreflang, self.links)
        return found[0]


def _vase(**kw):
    village = make_village(slug="bat-trang", name_vi="Bát Tràng", name_en="Bat Trang")
    shop = make_shop(village=village, name="Gốm Minh Hải", slug="gom-minh-hai", phone="0912345678")
    return make_product(shop, title_vi="Bình gốm men lam vẽ hoa sen", title_en="Blue-glazed lotus vase",
                        description_vi="Bình vuốt tay, vẽ lam dưới men.", images=2,
                        variants=kw.pop("variants", [("Nhỏ", 350_000, 5), ("Lớn", 650_000, 0)]), **kw)


def test_product_page_json_ld_and_open_graph_match_the_product(app, client):
    product = _vase()
    db.session.commit()
    canonical = f"{HOST}/products/{product.id}-binh-gom-men-lam-ve-hoa-sen"
    assert product.slug == "binh-gom-men-lam-ve-hoa-sen"
    r = client.get(canonical)
    assert r.status_code == 200
    head = Head(r.get_data(as_text=True))

    data = head.typed("Product")
    assert data["@context"] == "https://schema.org"
    assert data["name"] == "Bình gốm men lam vẽ hoa sen" and data["url"] == canonical
    assert data["description"].startswith("Bình vuốt tay")
    assert data["sku"] == product.variants[0].sku
    assert data["brand"] == {"@type": "Brand", "name": "Gốm Minh Hải", "url": f"{HOST}/shops/gom-minh-hai"}
    offers = data["offers"]
    assert offers["@type"] == "AggregateOffer" and offers["priceCurrency"] == "VND"
    assert offers["lowPrice"] == 350_000 and offers["highPrice"] == 650_000 and offers["offerCount"] == 2
    assert type(offers["lowPrice"]) is int and type(offers["highPrice"]) is int
    assert offers["availability"] == "https://schema.org/InStock"  # one variant of two in stock
    keys = [img.storage_key for img in product.images]
    assert data["image"] == [f"{HOST}/media/{key}-800.jpg" for key in keys]  # absolute, every photo
    assert "aggregateRating" not in data  # no review yet

    assert head.one("og:type") == "product"
    assert head.one("og:title").startswith("Bình gốm men lam vẽ hoa sen")
    assert head.one("og:url") == canonical
    assert head.one("og:image") == f"{HOST}/media/{keys[0]}-800.jpg"
    assert head.one("og:locale") == "vi_VN" and head.one("og:locale:alternate") == "en_GB"
    assert head.one("og:description").startswith("Bình vuốt tay")
    assert head.one("product:price:amount") == "350000" and head.one("product:price:currency") == "VND"
    assert head.one("twitter:card") == "summary_large_image"
    assert head.one("twitter:image") == head.one("og:image")
    assert head.link("canonical") == canonical

    crumbs = head.typed("BreadcrumbList")["itemListElement"]
    assert [c["position"] for c in crumbs] == [1, 2, 3, 4]
    assert crumbs[0]["item"] == f"{HOST}/" and crumbs[2]["item"] == f"{HOST}/villages/bat-trang"
    assert crumbs[-1] == {"@type": "ListItem", "position": 4, "name": product.title_vi, "item": canonical}


def test_single_variant_out_of_stock_offer_and_rating_when_reviewed(app, client):
    product = _vase(variants=[("Tiêu chuẩn", 420_000, 0)])
    for rating in (5, 4):
        buyer = make_user()
        db.session.add(Review(product_id=product.id, buyer_id=buyer.id, shop_id=product.shop_id, rating=rating))
    db.session.commit()
    head = Head(client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True))
    data = head.typed("Product")
    assert data["offers"]["@type"] == "Offer" and data["offers"]["price"] == 420_000
    assert type(data["offers"]["price"]) is int and data["offers"]["priceCurrency"] == "VND"
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert data["aggregateRating"]["reviewCount"] == 2 and data["aggregateRating"]["ratingValue"] == 4.5


def test_english_page_shares_english_text(app, client):
    product = _vase()
    db.session.commit()
    r = client.get(f"/products/{product.id}-{product.slug}?lang=en")
    head = Head(r.get_data(as_text=True))
    assert head.typed("Product")["name"] == "Blue-glazed lotus vase"
    assert head.one("og:locale") == "en_GB" and head.one("og:locale:alternate") == "vi_VN"
    # the canonical address carries no language switch
    assert head.link("canonical") == f"{HOST}/products/{product.id}-{product.slug}"


def test_bare_id_and_wrong_slug_redirect_301_and_url_for_builds_the_canonical_url(app, client):
    product = _vase()
    hidden = make_product(title_vi="Bình ẩn", status="draft")
    db.session.commit()
    canonical = f"/products/{product.id}-{product.slug}"
    for url in (f"/products/{product.id}", f"/products/{product.id}-binh-cu", f"/products/{product.id}-BINH"):
        r = client.get(url + "?lang=en&ref=zalo")
        assert r.status_code == 301, url
        assert r.headers["Location"] in (canonical + "?lang=en&ref=zalo", HOST + canonical + "?lang=en&ref=zalo"), url
        assert client.get(url).headers["Location"] in (canonical, HOST + canonical), url
    assert client.get(canonical).status_code == 200
    assert client.get(f"/products/{hidden.id}").status_code == 404
    assert client.get(f"/products/{hidden.id}-{hidden.slug}").status_code == 404
    assert client.get("/products/999999-binh").status_code == 404
    # every card links to the canonical address
    listing = client.get("/products").get_data(as_text=True)
    assert f'href="{canonical}"' in listing and f'href="/products/{product.id}"' not in listing
    from flask import url_for

    with app.test_request_context():
        assert url_for("catalog.product_detail", product_id=product.id) == canonical
        assert url_for("catalog.product_detail", product_id=999_999) == "/products/999999"


def test_hreflang_alternates_on_every_public_page(app, client):
    product = _vase()
    make_product(product.shop)
    db.session.commit()
    app.config["PER_PAGE"] = 1
    for path in (f"/products/{product.id}-{product.slug}", "/shops/gom-minh-hai", "/villages/bat-trang", "/",
                 "/products?page=2&sort=price_asc", "/products?category=ceramics&sort=price_asc"):
        head = Head(client.get(path).get_data(as_text=True))
        canonical = head.link("canonical")
        assert canonical.startswith(HOST) and "sort=" not in canonical, path
        sep = "&" if "?" in canonical else "?"
        assert head.link("alternate", "vi") == f"{canonical}{sep}lang=vi", path
        assert head.link("alternate", "en") == f"{canonical}{sep}lang=en", path
        assert head.link("alternate", "x-default") == canonical, path
        assert head.one("og:url") == canonical and head.one("og:image").startswith(HOST), path
    assert Head(client.get("/products?page=2").get_data(as_text=True)).link("canonical") == f"{HOST}/products?page=2"
    assert Head(client.get("/products?category=ceramics&sort=price_asc&page=1").get_data(as_text=True)).link(
        "canonical") == f"{HOST}/products?category=ceramics"


def test_shop_village_and_home_structured_data(app, client):
    product = _vase()
    db.session.commit()
    cover = f"{HOST}/media/{product.images[0].storage_key}-800.jpg"
    shop = Head(client.get("/shops/gom-minh-hai").get_data(as_text=True))
    assert shop.one("og:image") == cover and shop.one("og:type") == "website"
    assert shop.typed("BreadcrumbList")["itemListElement"][-1]["item"] == f"{HOST}/shops/gom-minh-hai"
    village = Head(client.get("/villages/bat-trang").get_data(as_text=True))
    assert village.one("og:image") == cover
    assert village.typed("BreadcrumbList")["itemListElement"][-1]["item"] == f"{HOST}/villages/bat-trang"
    home = Head(client.get("/").get_data(as_text=True))
    org = home.typed("Organization")
    assert org["url"] == f"{HOST}/" and org["logo"].startswith(HOST)
    assert home.one("og:image") == f"{HOST}/static/img/og-default.png"  # the default card
    assert client.get("/static/img/og-default.png").status_code == 200


def test_json_ld_cannot_be_closed_by_a_title(app, client):
    product = make_product(title_vi="Bình </script><script>alert(1)</script>")
    db.session.commit()
    html = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert Head(html).typed("Product")["name"] == product.title_vi


def test_robots_txt(app, client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *" and "Allow: /" in lines
    for private in ("/account", "/cart", "/checkout", "/seller", "/admin", "/officials", "/orders", "/assisted"):
        assert f"Disallow: {private}" in lines, private
    assert not any(line in ("Disallow: /", "Disallow: /products", "Disallow: /villages") for line in lines)
    assert f"Sitemap: {HOST}/sitemap.xml" in lines


def test_sitemap_lastmod_and_images(app, client):
    from datetime import datetime

    product = _vase()
    db.session.add(ProductImage(product_id=product.id, storage_key="pending:abc", width=800, height=800, position=9))
    db.session.flush()
    db.session.execute(sa.text("UPDATE products SET updated_at = :t WHERE id = :id"),
                       {"t": datetime(2026, 10, 3, 23, 30), "id": product.id})
    db.session.commit()
    r = client.get("/sitemap.xml")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "i": "http://www.google.com/schemas/sitemap-image/1.1"}
    root = ET.fromstring(r.get_data())
    urls = {u.find("s:loc", ns).text: u for u in root.findall("s:url", ns)}
    entry = urls[f"{HOST}/products/{product.id}-{product.slug}"]
    assert entry.find("s:lastmod", ns).text == "2026-10-03"
    images = [i.find("i:loc", ns).text for i in entry.findall("i:image", ns)]
    assert images == [f"{HOST}/media/{img.storage_key}-800.jpg" for img in product.images[:2]]  # not the pending one
    assert entry.find("i:image/i:title", ns).text == product.title_vi
    assert urls[f"{HOST}/shops/gom-minh-hai"].find("s:lastmod", ns).text
    assert urls[f"{HOST}/villages/bat-trang"].find("s:lastmod", ns).text
    assert f"{HOST}/products/{product.id}" not in urls  # only canonical addresses


def test_error_pages_are_not_indexed(app, client):
    for url in ("/products/999999", "/no-such-page"):
        r = client.get(url)
        head = Head(r.get_data(as_text=True))
        assert r.status_code == 404 and head.one("robots") == "noindex", url
        assert not [x for x in head.links if x.get("rel") == "canonical"] and "og:url" not in head.meta, url
