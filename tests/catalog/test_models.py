from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.catalog.models import Variant
from marketplace.extensions import db
from tests.factories import make_product


def test_stock_cannot_go_negative_in_the_database(app):
    product = make_product(stock=1)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Variant).where(Variant.product_id == product.id).values(stock=-1))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(Variant.stock).where(Variant.product_id == product.id)) == 1


def test_price_must_be_positive(app):
    product = make_product()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Variant).where(Variant.product_id == product.id).values(price=0))
        db.session.flush()
    db.session.rollback()


def test_ocop_stars_limited_to_3_to_5(app):
    product = make_product()
    db.session.commit()
    product.ocop_stars = 2
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_ocop_expiry_defaults_to_36_months_and_expired_is_not_valid(app):
    product = make_product(ocop_stars=4, ocop_issued_on=date(2021, 3, 1))
    product.ocop_expires_on = None
    assert product.ocop_expiry == date(2024, 3, 1)
    assert product.ocop_state == "expired"
    assert not product.ocop_valid_on(date(2024, 3, 2))
    assert product.ocop_valid_on(date(2024, 3, 1))


def test_min_price_and_total_stock_load_with_the_product(app):
    product = make_product(variants=[("nhỏ", 200_000, 2), ("lớn", 150_000, 3)])
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(Variant, product.variants[0].id).product
    assert loaded.min_price == 150_000
    assert loaded.total_stock == 5
