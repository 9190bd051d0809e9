import re

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.time import today_vn
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus
from tests.factories import make_product, make_shop, make_village


def test_home_lists_villages_and_new_products(demo_client):
    r = demo_client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<title>" in html and 'name="description"' in html
    assert "Bát Tràng" in html
    assert html.count('class="card"') == 12


def test_village_handbook_page(demo_client):
    r = demo_client.get("/villages/bat-trang")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Làng nghề truyền thống" in html
    assert "gốm sứ" in html
    assert "Cửa hàng trong làng" in html
    assert re.search(r"\d{1,3}(\.\d{3})+ ₫", html)


def test_village_directory_filters(demo_client):
    all_html = demo_client.get("/villages").get_data(as_text=True)
    ceramics = demo_client.get("/villages?category=ceramics").get_data(as_text=True)
    assert all_html.count('class="village-row') == 59
    assert ceramics.count('class="village-row') == 3
    # unknown values are ignored, not errors
    r = demo_client.get("/villages?category=nope&recognition=x&commune=%27%3B--")
    assert r.status_code == 200
    assert r.get_data(as_text=True).count('class="village-row') == 59
    trad = demo_client.get("/villages?recognition=lang_nghe_truyen_thong").get_data(as_text=True)
    assert trad.count('class="village-row') == 47


def test_product_page_shows_price_village_shop_and_ocop(demo_app, demo_client):
    product = db.session.scalars(
        sa.select(Product).join(Shop).where(Product.status == "active", Shop.status == "active",
                                            Product.ocop_stars.is_not(None))
    ).first()
    r = demo_client.get(f"/products/{product.id}-{product.slug}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert product.title_vi in html
    assert product.shop.village.name_vi in html
    assert product.shop.name in html
    assert f"{product.min_price:,}".replace(",", ".") + " ₫" in html
    assert product.ocop_certificate_number in html
    _assert_ocop_state_shown(product, html)


def _assert_ocop_state_shown(product, html: str) -> None:
    """Valid through its expiry day (3+ stars): "hiệu lực đến <expiry>"; from the day after: "đã hết hạn ngày"."""
    expiry = product.ocop_expiry
    valid = product.ocop_stars >= 3 and expiry >= today_vn()
    shown = "hiệu lực đến" if valid else "đã hết hạn ngày"
    other = "đã hết hạn ngày" if valid else "hiệu lực đến"
    assert f"{shown} {expiry.strftime('%d/%m/%Y')}" in html and other not in html, (product.id, expiry, valid)


def test_product_pages_show_valid_and_expired_ocop_each_as_it_is(demo_app, demo_client):
    """One product whose certificate is valid today and one whose certificate has expired, each with the
    right words (the demo data has both)."""
    products = db.session.scalars(
        sa.select(Product).join(Shop).where(Product.status == "active", Shop.status == "active",
                                            Product.ocop_stars >= 3).order_by(Product.id)).all()
    valid = [p for p in products if p.ocop_expiry and p.ocop_expiry >= today_vn()]
    expired = [p for p in products if p.ocop_expiry and p.ocop_expiry < today_vn()]
    assert valid and expired
    for product in (valid[0], expired[0]):
        html = demo_client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
        _assert_ocop_state_shown(product, html)


def test_bare_and_wrong_slug_product_urls_redirect_to_the_canonical_one(demo_client):
    product = db.session.get(Product, 3)
    canonical = f"/products/3-{product.slug}"
    assert product.slug and product.slug != "binh-gom"
    for url in ("/products/3", "/products/3-binh-gom", f"/products/3-{product.slug}-x"):
        r = demo_client.get(url)
        assert r.status_code == 301, url
        assert r.headers["Location"].endswith(canonical), url
    assert demo_client.get(canonical).status_code == 200


@pytest.mark.parametrize("url", ["/villages/khong-co", "/products/999999", "/shops/khong-co", "/khong-co-trang",
                                 "/products/abc"])
def test_unknown_things_are_404_pages(demo_client, url):
    r = demo_client.get(url)
    assert r.status_code == 404
    assert "Không tìm thấy trang" in r.get_data(as_text=True)


@pytest.mark.parametrize("query, status, same_as", [
    ("page=-5", 200, ""), ("page=0", 200, ""), ("page=abc", 200, ""), ("page=1.5", 200, ""),
    ("page=999999999999", 404, None), ("sort=bogus", 200, ""), ("category=bogus", 200, ""),
    ("sort=price_asc&page=2", 200, "sort=price_asc&page=2"), ("page=%00", 400, None),
])
def test_product_list_bad_input_never_500(demo_client, query, status, same_as):
    """An unreadable page number or choice is ignored (the first page, unfiltered, in the default order); a page
    past the end is 404, a control character 400."""
    response = demo_client.get(f"/products?{query}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    if same_as is None:
        assert "card-price" not in page  # an error page, not a list
        assert ("Không tìm thấy trang" if status == 404 else "ký tự điều khiển") in page
        return
    cards = re.findall(r'href="(/products/\d+)[-"]', page)
    assert cards and cards == re.findall(r'href="(/products/\d+)[-"]', demo_client.get(f"/products?{same_as}")
                                         .get_data(as_text=True))
    if query == "sort=price_asc&page=2":
        assert cards != re.findall(r'href="(/products/\d+)[-"]', demo_client.get("/products").get_data(as_text=True))


def test_product_list_sorts_by_price_with_stable_order(demo_client):
    def prices(sort, page):
        html = demo_client.get(f"/products?sort={sort}&page={page}").get_data(as_text=True)
        return [int(p.replace(".", "")) for p in re.findall(r'card-price price">([\d.]+) ₫', html)]

    up = prices("price_asc", 1) + prices("price_asc", 2)
    assert up == sorted(up) and len(up) == 48
    down = prices("price_desc", 1)
    assert down == sorted(down, reverse=True)
    # pages do not overlap: ids on page 1 and 2 are disjoint
    ids = lambda p: set(re.findall(r'/products/(\d+)"', demo_client.get(f"/products?sort=price_asc&page={p}").get_data(as_text=True)))  # noqa: E731
    assert not ids(1) & ids(2)


def test_drafts_archived_and_suspended_shops_are_hidden(app, client):
    village = make_village(slug="bat-trang")
    shop = make_shop(village=village)
    suspended = make_shop(village=village, status=ShopStatus.SUSPENDED, slug="bi-khoa")
    visible = make_product(shop=shop, title_vi="Bình hiện")
    draft = make_product(shop=shop, status=ProductStatus.DRAFT, title_vi="Bình nháp")
    archived = make_product(shop=shop, status=ProductStatus.ARCHIVED, title_vi="Bình lưu trữ")
    hidden = make_product(shop=suspended, title_vi="Bình của shop bị khóa")
    db.session.commit()
    listing = client.get("/products").get_data(as_text=True)
    assert "Bình hiện" in listing
    for p in (draft, archived, hidden):
        assert p.title_vi not in listing
        assert client.get(f"/products/{p.id}").status_code == 404
    assert client.get(f"/products/{visible.id}", follow_redirects=True).status_code == 200
    assert client.get("/shops/bi-khoa").status_code == 404
    village_html = client.get("/villages/bat-trang").get_data(as_text=True)
    assert "Bình hiện" in village_html and "Bình nháp" not in village_html
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"/products/{visible.id}-binh-hien<" in sitemap and f"/products/{draft.id}-" not in sitemap


def test_healthz_checks_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_broken_database(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, "sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.sqlite")
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["database"] == "error"


def test_english_switch_is_remembered(demo_client):
    r = demo_client.get("/villages/bat-trang?lang=en")
    assert "lang=en" in r.headers.get("Set-Cookie", "")
    assert '<html lang="en">' in r.get_data(as_text=True)
    r2 = demo_client.get("/villages/bat-trang")
    assert '<html lang="en">' in r2.get_data(as_text=True)


def test_500_page_in_site_look_and_rolls_back(app):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("boom")

    r = app.test_client().get("/boom-test")
    assert r.status_code == 500
    assert "Có lỗi xảy ra" in r.get_data(as_text=True)
    assert "RuntimeError" not in r.get_data(as_text=True)
