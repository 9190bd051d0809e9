"""The one ownership rule (``marketplace.shops.access``): who manages a shop, who handles its orders, and
the callers that use it (seller pages, order queue, review replies)."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.shops import services as shop_services
from marketplace.shops.access import (
    can_handle_orders,
    can_manage_shop,
    handled_shops_clause,
    is_assisted,
    is_owner,
)
from marketplace.shops.models import Shop
from tests.accounts.helpers import make_account
from tests.factories import make_shop, make_village
from tests.shops.helpers import consent_form, shop_form


def _world():
    village = make_village()
    owner = make_account("artisan", email="owner@example.vn")
    other = make_account("artisan", email="other@example.vn")
    official = make_account("official", email="official@example.vn")
    admin = make_account("admin", email="admin@example.vn")
    shopper = make_account("shopper", email="shopper@example.vn")
    own = make_shop(owner=owner, village=village, name="Của chủ")
    assisted = shop_services.create_assisted_shop(official, consent_form(), **shop_form(village.id, name="Hỗ trợ"))
    db.session.commit()
    return owner, other, official, admin, shopper, own, assisted


def test_manage_and_handle_orders(app):
    owner, other, official, admin, shopper, own, assisted = _world()
    assert is_owner(owner, own) and not is_owner(other, own) and not is_owner(owner, assisted)
    assert is_assisted(assisted) and not is_assisted(own) and not is_assisted(None)
    # managing: the owner; officials and admins only while assisted
    assert can_manage_shop(owner, own)
    assert not any(can_manage_shop(u, own) for u in (other, official, admin, shopper, None))
    assert can_manage_shop(official, assisted) and can_manage_shop(admin, assisted)
    assert not any(can_manage_shop(u, assisted) for u in (owner, other, shopper, None))
    # orders: an admin everywhere; the owner while an artisan; never officials
    assert can_handle_orders(admin, own) and can_handle_orders(admin, assisted)
    assert can_handle_orders(owner, own)
    assert not any(can_handle_orders(u, own) for u in (other, official, shopper, None))
    assert not can_handle_orders(official, assisted)
    owner.role = "shopper"  # an owner whose account is no longer an artisan's handles no orders
    assert not can_handle_orders(owner, own) and can_manage_shop(owner, own)


def test_handled_shops_clause_matches_the_rule(app):
    owner, other, official, admin, shopper, own, assisted = _world()
    shops = db.session.scalars(sa.select(Shop)).all()
    for user in (owner, other, official, admin, shopper):
        in_sql = set(db.session.scalars(sa.select(Shop.id).where(handled_shops_clause(user))))
        assert in_sql == {s.id for s in shops if can_handle_orders(user, s)}, user.role


def test_hand_over_moves_management_to_the_owner(app):
    owner, other, official, admin, shopper, own, assisted = _world()
    hoa = make_account("artisan", email="hoa@example.vn")
    shop_services.hand_over_shop(official, assisted, hoa.email)
    db.session.commit()
    assert can_manage_shop(hoa, assisted) and can_handle_orders(hoa, assisted)
    assert not can_manage_shop(official, assisted) and not can_manage_shop(admin, assisted)
