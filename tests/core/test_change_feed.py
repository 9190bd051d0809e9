"""The change feed: every kind of write reaches the app's subscribers once, after the commit only."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product, Variant
from marketplace.core import changes
from marketplace.core.cache import STOCK_CHECKED
from marketplace.extensions import db
from tests.conftest import make_app
from tests.factories import make_product, make_shop, make_user, make_village


@pytest.fixture
def seen(app):
    received: list[changes.ChangeSet] = []
    changes.subscribe(app, "test-recorder", received.append)
    return received


def _product():
    owner = make_user(role="artisan")
    shop = make_shop(owner=owner, village=make_village())
    product = make_product(shop=shop)
    db.session.commit()
    return product


def test_orm_insert_update_delete_are_rows_with_columns_and_old_values(app, seen):
    product = _product()
    assert seen and "products" in seen[-1].tables()
    inserted = [r for r in seen[-1].rows_of("products") if r.op == "insert"]
    assert inserted and inserted[0].pk == product.id and "title_vi" in inserted[0].columns

    seen.clear()
    old_title = product.title_vi
    product.title_vi = "Bình gốm men lam"
    db.session.commit()
    [update] = seen[0].rows_of("products")
    assert update.op == "update" and update.pk == product.id
    assert update.columns == {"title_vi"}
    assert update.old == {"title_vi": old_title} and update.values["title_vi"] == "Bình gốm men lam"
    assert not seen[0].statements  # the flush's own UPDATE is not recorded a second time

    seen.clear()
    variant = db.session.scalar(sa.select(Variant).where(Variant.product_id == product.id))
    db.session.delete(variant)
    db.session.commit()
    [deleted] = seen[0].rows_of("variants")
    assert deleted.op == "delete" and deleted.values["product_id"] == product.id


def test_core_statements_on_the_session_and_its_connection(app, seen):
    product = _product()
    seen.clear()
    variants = Variant.__table__
    db.session.execute(sa.update(variants).where(variants.c.product_id == product.id).values(price=99_000))
    db.session.connection().execute(
        sa.update(variants).where(variants.c.product_id == product.id).values(stock=variants.c.stock - 1)
        .execution_options(**{STOCK_CHECKED: True}))
    db.session.commit()
    assert len(seen) == 1  # one transaction, one change set
    price, stock = seen[0].statements_on("variants")
    assert price.op == "update" and price.columns == {"price"} and price.values == {"price": 99_000}
    assert stock.columns == {"stock"} and stock.values == {} and stock.options.get(STOCK_CHECKED)


def test_orm_bulk_and_text_statements(app, seen):
    product = _product()
    seen.clear()
    db.session.execute(sa.update(Product).where(Product.id == product.id).values(status="draft"))
    db.session.execute(sa.text("UPDATE variants SET stock = stock + 1 WHERE product_id = :p"), {"p": product.id})
    db.session.execute(sa.text("SELECT 1"))
    db.session.commit()
    kinds = [(s.table, s.op, s.columns) for s in seen[0].statements]
    assert kinds == [("products", "update", frozenset({"status"})), ("variants", "update", None)]
    assert seen[0].statements[0].values == {"status": "draft"}


def test_rollback_publishes_nothing_and_forgets(app, seen):
    product = _product()
    seen.clear()
    product.title_vi = "Không lưu"
    db.session.flush()
    db.session.execute(sa.delete(Variant.__table__).where(Variant.__table__.c.product_id == product.id))
    db.session.rollback()
    assert seen == []
    db.session.get(Product, product.id).title_en = "Saved"
    db.session.commit()
    assert [s.tables() for s in seen] == [{"products"}]  # nothing of the rolled-back work carried over


def test_engine_begin_and_other_sessions_publish_at_their_commit(app, seen):
    product = _product()
    seen.clear()
    with db.engine.begin() as conn:
        conn.execute(sa.update(Product.__table__).where(Product.__table__.c.id == product.id).values(title_en="X"))
        assert seen == []  # not before the commit
    assert [(s.table, s.op) for s in seen[0].statements] == [("products", "update")]

    # published only once the commit has happened: a subscriber reading the row sees the new value
    read_back = []

    def reader(change_set):
        with db.engine.connect() as other:
            read_back.append(other.scalar(sa.select(Product.__table__.c.title_en)
                                          .where(Product.__table__.c.id == product.id)))

    changes.subscribe(app, "reader", reader)
    with db.engine.begin() as conn:
        conn.execute(sa.update(Product.__table__).where(Product.__table__.c.id == product.id).values(title_en="W"))
    assert read_back == ["W"]
    changes.feed_of(app).subscribers.pop("reader")

    seen.clear()
    with Session(db.engine) as other:
        other.get(Product, product.id).title_en = "Y"
        other.commit()
    assert seen and seen[0].statements_on("products")

    seen.clear()
    with db.engine.connect() as conn:
        conn.execute(sa.update(Product.__table__).values(title_en="Z"))
        conn.rollback()
    assert seen == []


def test_marks_and_empty_transactions(app, seen):
    _product()
    seen.clear()
    db.session.scalar(sa.select(sa.func.count()).select_from(Product))
    db.session.commit()
    assert seen == []  # a read-only transaction publishes nothing
    changes.mark(db.session, "catalog")
    db.session.commit()
    assert len(seen) == 1 and seen[0].marks == {"catalog"} and not seen[0].tables()


def test_a_failing_subscriber_fails_nothing_else(app, seen, caplog):
    def broken(change_set):
        raise RuntimeError("boom")

    changes.subscribe(app, "broken", broken)
    later: list = []
    changes.subscribe(app, "later", later.append)
    _product()
    assert seen and later  # the subscribers after the broken one still ran
    assert "boom" in caplog.text


def test_feeds_are_per_app(app, seen, tmp_path):
    other_app = make_app(tmp_path / "other", "sqlite")
    other_seen: list = []
    changes.subscribe(other_app, "test-recorder", other_seen.append)
    with other_app.app_context():
        db.create_all()
        make_village()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert other_seen and not seen
    _product()
    assert seen and len(other_seen) == 1


def test_every_app_has_its_subscribers(app):
    feed = changes.feed_of(app)
    assert {"catalog-cache", "mail"} <= set(feed.subscribers)
