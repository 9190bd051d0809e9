"""Checkouts change stock without invalidating every cached listing: only a sell-out (or stock coming
back from 0) changes what listings show ("Hết hàng"), so only that bumps the catalog version."""
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.cache import catalog_version
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order
from tests.factories import make_product, make_shop
from tests.orders.helpers import place


def _listing(client) -> str:
    return client.get("/products").get_data(as_text=True)


def test_listing_shows_sold_out_exactly_when_stock_reaches_zero(app, client):
    shop = make_shop()
    product = make_product(shop, title_vi="Nón lá Chuông", stock=3)
    db.session.commit()
    vid = product.variants[0].id
    assert "Hết hàng" not in _listing(client)
    version = catalog_version()
    place({vid: 2})
    assert catalog_version() == version  # 1 left: listings unchanged, cache kept
    assert "Hết hàng" not in _listing(client)
    last = place({vid: 1})
    assert catalog_version() != version  # sold out
    assert "Hết hàng" in _listing(client)

    version = catalog_version()
    order = db.session.get(Order, last.orders[0].id)
    services.cancel_order(_admin(), order, "khách đổi ý")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Variant, vid).stock == 1
    assert catalog_version() != version  # back from 0
    assert "Hết hàng" not in _listing(client)


def test_stock_statements_do_not_bump_by_themselves(app):
    product = make_product(stock=5)
    db.session.commit()
    version = catalog_version()
    services.take_stock({product.variants[0].id: 2})
    db.session.commit()
    assert catalog_version() == version
    # any other statement on a catalog table still bumps
    db.session.execute(sa.update(Variant).where(Variant.id == product.variants[0].id).values(stock=7))
    db.session.commit()
    assert catalog_version() != version


def _admin():
    from tests.factories import make_user

    admin = make_user("admin")
    db.session.commit()
    return admin
