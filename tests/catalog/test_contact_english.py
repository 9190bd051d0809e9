"""Contact the shop (phone and Zalo per the shop's choice) and English content with Vietnamese as the fallback."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.core.audit import AuditEntry
from marketplace.demo.english import shop_name_en, translate
from marketplace.extensions import db
from marketplace.officials.indicators import INDICATORS
from marketplace.shops.models import Shop
from tests.accounts.helpers import make_account
from tests.factories import make_product, make_shop, make_village
from tests.orders.helpers import place
from tests.shops.helpers import shop_form

PHONE_LINK = 'href="tel:0912345678"'
ZALO_LINK = 'href="https://zalo.me/0912345678"'


def _checked(html: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return re.search(r"\bchecked\b", tag) is not None


def _pages(client, product, token) -> dict[str, str]:
    return {
        "product": client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True),
        "shop": client.get(f"/shops/{product.shop.slug}").get_data(as_text=True),
        "order": client.get(f"/orders/c/{token}").get_data(as_text=True),
    }


@pytest.mark.parametrize("show_phone, show_zalo", [(True, True), (True, False), (False, True), (False, False)])
def test_contact_links_follow_the_shop_choice(app, client, show_phone, show_zalo):
    from marketplace.orders.services import checkout_link_token

    shop = make_shop(phone="0912345678", show_phone=show_phone, show_zalo=show_zalo)
    product = make_product(shop, stock=5)
    db.session.commit()
    checkout = place({product.variants[0].id: 1})
    pages = _pages(client, product, checkout_link_token(checkout.id))
    for name, html in pages.items():
        assert (PHONE_LINK in html) is show_phone, name
        assert ("0912 345 678" in html) is show_phone, name
        assert (ZALO_LINK in html) is show_zalo, name
        assert ('class="shop-contact"' in html) is (show_phone or show_zalo), name


def test_account_order_page_shows_the_contact(app, client, login):
    buyer = make_account("shopper")
    shop = make_shop(phone="0912345678", show_zalo=False)
    product = make_product(shop, stock=5)
    db.session.commit()
    order = place({product.variants[0].id: 1}, buyer=buyer).orders[0]
    login(client, buyer)
    html = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert PHONE_LINK in html and ZALO_LINK not in html


def test_zalo_link_is_the_phone_digits_and_absent_without_a_phone():
    assert Shop(phone="0912345678", show_zalo=True).contact_zalo == "https://zalo.me/0912345678"
    assert Shop(phone=None, show_zalo=True, show_phone=True).contact_zalo is None
    assert Shop(phone=None, show_phone=True).contact_phone is None


def test_seller_sets_contact_choices_and_english_in_the_shop_form(app, client, login):
    village = make_village()
    artisan = make_account("artisan")
    login(client, artisan)
    page = client.get("/seller/shop/new").get_data(as_text=True)
    assert _checked(page, "show_phone") and _checked(page, "show_zalo")
    data = shop_form(village.id, name_en="Quy Pottery", story_en="Three generations of blue glaze.")
    del data["show_phone"]
    assert client.post("/seller/shop/new", data=data).status_code == 303  # show_phone unticked: absent
    shop = db.session.scalar(sa.select(Shop).where(Shop.owner_id == artisan.id))
    assert shop.show_phone is False and shop.show_zalo is True
    assert shop.name_en == "Quy Pottery" and shop.story_en == "Three generations of blue glaze."
    edit = client.get("/seller/shop/edit").get_data(as_text=True)
    assert 'value="Quy Pottery"' in edit and not _checked(edit, "show_phone") and _checked(edit, "show_zalo")
    data = shop_form(village.id, name_en="", story_en="x" * 10_001)
    del data["show_zalo"]
    response = client.post("/seller/shop/edit", data=data)
    assert response.status_code == 400  # too long: nothing changes
    db.session.refresh(shop)
    assert shop.show_phone is False and shop.name_en == "Quy Pottery"
    data["story_en"] = ""
    assert client.post("/seller/shop/edit", data=data).status_code == 303
    db.session.refresh(shop)
    assert shop.show_phone is True and shop.show_zalo is False and shop.name_en is None and shop.story_en is None
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "shop.update"))
    assert entry.after["show_phone"] is True and entry.before["name_en"] == "Quy Pottery"


def test_english_fields_with_vietnamese_fallback(app, client):
    shop = make_shop(name="Gốm Minh Hải", name_en="Minh Hai Pottery", story="Ba đời làm gốm.",
                     story_en="Three generations of potters.")
    plain = make_shop(name="Nhà Lụa Hà", story="Dệt lụa tơ tằm.")
    product = make_product(shop, variants=[("Cỡ nhỏ", 300_000, 3)], materials="đất sét trắng",
                           technique="vẽ tay", ocop_stars=4)
    product.materials_en, product.technique_en = "white clay", "hand painted"
    product.ocop_issuer, product.ocop_issuer_en = "UBND thành phố Hà Nội", "Hanoi People's Committee"
    product.variants[0].name_en = "Small"
    other = make_product(plain, variants=[("Khổ 90", 500_000, 3)], materials="tơ tằm", technique="dệt tay",
                         ocop_stars=3)
    other.ocop_issuer = "UBND thành phố Hà Nội"
    db.session.commit()

    def page(url):
        return client.get(url, follow_redirects=True).get_data(as_text=True)

    en = page(f"/products/{product.id}?lang=en")
    for text in ("Minh Hai Pottery", "white clay", "hand painted", "Hanoi People&#39;s Committee", ">Small<"):
        assert text in en, text
    vi = page(f"/products/{product.id}?lang=vi")
    for text in ("Gốm Minh Hải", "đất sét trắng", "vẽ tay", "UBND thành phố Hà Nội", ">Cỡ nhỏ<"):
        assert text in vi, text
    assert "white clay" not in vi and "Minh Hai Pottery" not in vi
    fallback = page(f"/products/{other.id}?lang=en")  # no English written: the Vietnamese shows
    for text in ("Nhà Lụa Hà", "tơ tằm", "dệt tay", "UBND thành phố Hà Nội", ">Khổ 90<"):
        assert text in fallback, text
    shop_en = page(f"/shops/{shop.slug}?lang=en")
    assert "Three generations of potters." in shop_en and "Ba đời làm gốm." not in shop_en
    assert "Dệt lụa tơ tằm." in page(f"/shops/{plain.slug}?lang=en")
    card = page("/products?lang=en")
    assert "Minh Hai Pottery" in card and "Nhà Lụa Hà" in card


def test_indicator_targets_have_english():
    assert all(i.target_text_en and i.orientation_2050_en for i in INDICATORS)
    by_id = {i.id: i for i in INDICATORS}
    assert by_id["production_growth"].target_text_en == "10 % a year"
    assert by_id["production_growth"].target_text_vi == "10 %/năm"


def test_transparency_page_shows_english_targets(app, client):
    en = client.get("/minh-bach?lang=en").get_data(as_text=True)
    vi = client.get("/minh-bach?lang=vi").get_data(as_text=True)
    assert "10 % a year" in en and "10 %/năm" not in en
    assert "10 %/năm" in vi and "10 % a year" not in vi


@pytest.mark.parametrize("text, english", [
    ("đất sét trắng, men lam", "white clay, blue glaze"), ("bộ 6 chiếc", "set of 6 pieces"),
    ("size M", "size M"), ("2,5 mét (một áo)", "2.5 metres (one dress)"), ("tiêu chuẩn", "standard"),
    ("UBND thành phố Hà Nội", "Hanoi People's Committee"), ("đất sét, thứ lạ", None), ("", None),
])
def test_demo_glossary(text, english):
    assert translate(text) == english


def test_demo_shop_names_in_english():
    assert shop_name_en(Shop(name="Xưởng Hải Bát Tràng")) == "Hải Bát Tràng Workshop"
    assert shop_name_en(Shop(name="Hợp tác xã Mây tre Phú Vinh")) == "Mây tre Phú Vinh Cooperative"
    assert shop_name_en(Shop(name="Gốm Minh Hải")) is None


def test_demo_seed_fills_english_for_a_good_share(demo_app, demo_client):
    from marketplace.catalog.models import Product, Variant

    shops = db.session.scalars(sa.select(Shop)).all()
    with_story = [s for s in shops if s.story_en]
    assert len(with_story) >= 0.6 * len(shops) and len(with_story) < len(shops)  # some keep Vietnamese only
    variants = db.session.scalar(sa.select(sa.func.count(Variant.id)))
    named = db.session.scalar(sa.select(sa.func.count(Variant.id)).where(Variant.name_en.is_not(None)))
    assert named >= 0.6 * variants
    product = db.session.scalars(sa.select(Product).where(Product.materials_en.is_not(None),
                                                          Product.status == "active")).first()
    html = demo_client.get(f"/products/{product.id}?lang=en", follow_redirects=True).get_data(as_text=True)
    assert product.materials_en in html
