"""The demo seeder gives every demo shop its makers, the products name them, and the pages show them."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog.models import Product
from marketplace.demo.makers import seed_makers
from marketplace.extensions import db
from marketplace.makers.models import HonourTitle, Maker
from marketplace.shops.models import Shop


def test_demo_shops_have_makers(demo_app, demo_client):
    with demo_app.app_context():
        shops = db.session.scalar(sa.select(sa.func.count(Shop.id)))
        with_makers = db.session.scalar(sa.select(sa.func.count(sa.distinct(Maker.shop_id))))
        assert shops >= 30 and with_makers == shops
        titled = list(db.session.scalars(sa.select(Maker).where(Maker.honour_title.is_not(None))))
        assert {m.honour_title for m in titled} >= {HonourTitle.HANOI_ARTISAN, HonourTitle.PEOPLES_ARTISAN}
        assert all(m.honour_decision for m in titled)
        unnamed = db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.maker_id.is_(None)))
        assert unnamed == 0
        product_id, maker_id = db.session.execute(
            sa.select(Product.id, Product.maker_id).join(Shop, Shop.id == Product.shop_id)
            .where(Product.status == "active", Shop.status == "active", Product.maker_id.in_([m.id for m in titled]))
            .order_by(Product.id).limit(1)).one()
        maker = db.session.get(Maker, maker_id)
        village_slug = maker.shop.village.slug
        maker_id, name = maker.id, maker.name
    assert name in demo_client.get(f"/makers/{maker_id}").get_data(as_text=True)
    assert f'href="/makers/{maker_id}"' in demo_client.get(f"/products/{product_id}", follow_redirects=True).get_data(as_text=True)
    assert f'href="/makers/{maker_id}"' in demo_client.get(f"/villages/{village_slug}").get_data(as_text=True)


def test_seeding_makers_again_adds_nothing(demo_app):
    with demo_app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Maker.id)))
        assert seed_makers(list(db.session.scalars(sa.select(Shop)))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Maker.id))) == before
