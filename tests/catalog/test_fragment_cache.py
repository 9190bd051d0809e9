"""Listing pages are cached per catalog version; every catalog change shows at once."""
import sqlalchemy as sa

from marketplace.catalog.models import Product, Variant
from marketplace.core.cache import catalog_version
from marketplace.extensions import db
from marketplace.shops.models import Shop
from tests.factories import make_product, make_shop, make_village


def test_cached_listing_changes_after_orm_and_sql_updates(app, client):
    village = make_village(slug="bat-trang")
    shop = make_shop(village=village, slug="xuong-a")
    product = make_product(shop=shop, title_vi="Bình men rạn", price=350_000)
    db.session.commit()
    assert "350.000 ₫" in client.get("/products").get_data(as_text=True)
    assert app.extensions["fragment_cache"].misses >= 1
    hits = app.extensions["fragment_cache"].hits
    client.get("/products")
    assert app.extensions["fragment_cache"].hits == hits + 1

    product.variants[0].price = 420_000  # ORM change
    db.session.commit()
    assert "420.000 ₫" in client.get("/products").get_data(as_text=True)

    db.session.execute(sa.update(Variant).where(Variant.product_id == product.id).values(price=510_000))
    db.session.commit()  # Core UPDATE through the session
    assert "510.000 ₫" in client.get("/products").get_data(as_text=True)

    db.session.execute(sa.update(Shop).where(Shop.id == shop.id).values(status="suspended"))
    db.session.commit()
    html = client.get("/products").get_data(as_text=True)
    assert "Bình men rạn" not in html
    assert client.get("/villages/bat-trang").status_code == 200
    assert "Bình men rạn" not in client.get("/villages/bat-trang").get_data(as_text=True)


def test_rolled_back_changes_do_not_bump_the_version(app):
    make_product()
    db.session.commit()
    before = catalog_version()
    db.session.execute(sa.update(Product).values(title_vi="x"))
    db.session.rollback()
    assert catalog_version() == before
    db.session.execute(sa.update(Product).values(title_vi="y"))
    db.session.commit()
    assert catalog_version() != before


def test_language_is_part_of_the_key(app, client):
    make_product(title_vi="Khăn lụa", title_en="Silk scarf")
    db.session.commit()
    assert "Khăn lụa" in client.get("/products").get_data(as_text=True)
    assert "Silk scarf" in client.get("/products?lang=en").get_data(as_text=True)
