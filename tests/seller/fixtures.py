"""Seller-area fixtures (shared with tests/media): two artisans with a shop each."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from tests.factories import make_ip, make_product, make_shop, make_user, make_village


@pytest.fixture
def artisan(app):
    return make_user(Role.ARTISAN)


@pytest.fixture
def shop(artisan):
    village = make_village()
    make_ip(village, number="4-2019-12345", name="Gốm Bát Tràng")
    shop = make_shop(village=village, owner=artisan)
    db.session.commit()
    return shop


@pytest.fixture
def other_shop(app):
    """A second artisan's shop with a product, a variant and a photo."""
    other = make_user(Role.ARTISAN)
    shop = make_shop(owner=other)
    make_product(shop=shop, images=1)
    db.session.commit()
    return shop


@pytest.fixture
def seller(client, login, artisan, shop):
    login(client, artisan)
    return client
