"""T-S1, T-S5, T-S6: concurrent buyers, lock ordering, the schema guard (file SQLite and PostgreSQL)."""
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.catalog.models import Variant
from marketplace.errors import OutOfStock
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderLine
from tests.factories import make_product, make_shop
from tests.orders.helpers import address


def _run_concurrently(app, jobs):
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs))

    def worker(job):
        with app.app_context():
            barrier.wait()
            try:
                checkout = job()
                db.session.commit()
                outcome = ("ok", checkout.id)
            except OutOfStock as exc:
                db.session.rollback()
                outcome = ("out", exc.details.get("available"))
            except Exception as exc:  # recorded and asserted on below
                db.session.rollback()
                outcome = ("error", repr(exc))
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_last_five_units_sell_exactly_five(app):
    """T-S1: 24 buyers race for the last 5 units: exactly 5 orders, stock 0, never negative."""
    product = make_product(stock=5, price=150_000)
    db.session.commit()
    vid = product.variants[0].id
    db.session.remove()
    jobs = [lambda: services.place_checkout(None, {vid: 1}, address(), "cod", uuid.uuid4().hex) for _ in range(24)]
    results = _run_concurrently(app, jobs)
    assert [r for r in results if r[0] == "error"] == []
    assert sum(1 for r in results if r[0] == "ok") == 5
    assert sum(1 for r in results if r[0] == "out") == 19
    assert db.session.get(Variant, vid).stock == 0
    assert db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0))) == 5


def test_same_token_concurrently_places_once(app):
    """T-S7 under concurrency: the unique checkout token lets one of two identical submits through; the
    other waits for it (INSERT … ON CONFLICT DO NOTHING) and gets the same checkout."""
    product = make_product(stock=5)
    db.session.commit()
    vid = product.variants[0].id
    db.session.remove()
    token = uuid.uuid4().hex
    results = _run_concurrently(app, [lambda: services.place_checkout(None, {vid: 1}, address(), "cod", token)] * 2)
    assert [r[0] for r in results] == ["ok", "ok"] and results[0][1] == results[1][1], results
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert db.session.get(Variant, vid).stock == 4


def test_opposite_order_carts_do_not_deadlock(app):
    """T-S5: two carts with the same two SKUs (given in opposite orders) both finish: ids are sorted."""
    shop = make_shop()
    a = make_product(shop, stock=10)
    b = make_product(shop, stock=10)
    db.session.commit()
    va, vb = a.variants[0].id, b.variants[0].id
    db.session.remove()
    jobs = []
    for i in range(8):
        items = {vb: 1, va: 1} if i % 2 else {va: 1, vb: 1}
        jobs.append(lambda items=items: services.place_checkout(None, items, address(), "cod", uuid.uuid4().hex))
    results = _run_concurrently(app, jobs)
    assert results.count(("error", None)) == 0 and all(r[0] == "ok" for r in results), results
    assert db.session.get(Variant, va).stock == 2 and db.session.get(Variant, vb).stock == 2


def test_schema_refuses_negative_stock(app):
    """T-S6."""
    product = make_product(stock=1)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE variants SET stock = -1 WHERE id = :i"), {"i": product.variants[0].id})
        db.session.flush()
    db.session.rollback()
