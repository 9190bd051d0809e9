"""Drill: the gunicorn worker is killed (SIGKILL) in the middle of a checkout and of a bulk import.

The test holds a table lock on its own connection so that the request stops half-way — after it has taken the
stock (checkout) or written the first products (import), before its transaction can end — kills the worker,
then releases the lock. PostgreSQL rolls the dead client's transaction back: no order, no half order, stock
unchanged, no half import; gunicorn starts a new worker and the site keeps serving.
"""
from __future__ import annotations

import os
import signal
import threading

import psycopg
import pytest
import requests
import sqlalchemy as sa

from marketplace.catalog.models import Product, Variant
from marketplace.extensions import db
from marketplace.orders.models import Checkout, Order, OrderLine
from tests.drills.conftest import PASSWORD, make_catalog, start_checkout
from tests.drills.harness import Browser, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


def _count(model, *where) -> int:
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    finally:
        db.session.close()


def _stock(variant_id: int) -> int:
    try:
        return db.session.scalar(sa.select(Variant.stock).where(Variant.id == variant_id))
    finally:
        db.session.close()


class InFlight:
    """A request sent in a thread; ``outcome`` is its response or the exception that ended it."""

    def __init__(self, send):
        self.outcome = None
        self.thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self.thread.start()

    def _run(self, send) -> None:
        try:
            self.outcome = send()
        except requests.RequestException as exc:
            self.outcome = exc

    def result(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the request never ended"
        return self.outcome


def _blocked_backend(watcher, statement_start: str, holds: str) -> int | None:
    """The server process of a request that waits for the test's lock at ``statement_start`` and has already
    written to the table ``holds`` in the same transaction (it holds its RowExclusiveLock)."""
    row = watcher.execute(
        "SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'"
        " AND a.query ILIKE %s AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted"
        " AND l.mode = 'RowExclusiveLock' AND l.relation = %s::regclass)",
        (statement_start + "%", holds)).fetchone()
    return row[0] if row else None


def _kill_worker_while_blocked(drill, site, table: str, send, statement_start: str, holds: str):
    """Lock ``table``, send the request, wait until it is stuck half-way, SIGKILL its worker, release the lock,
    and wait until PostgreSQL has ended the dead worker's transaction. Returns what the client got."""
    # the lock is held in the locker's transaction; the watcher (autocommit: a fresh view of the server's
    # activity at each query) looks for the stuck request
    with psycopg.connect(drill.pg.url(drill.database)) as locker, \
            psycopg.connect(drill.pg.url(drill.database), autocommit=True) as watcher:
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        return _kill_and_release(site, locker, watcher, send, statement_start, holds)


def _kill_and_release(site, locker, watcher, send, statement_start: str, holds: str):
    request = InFlight(send)
    backend = wait_until(lambda: _blocked_backend(watcher, statement_start, holds), timeout=60,
                         what=f"the request to wait at {statement_start!r} after writing {holds}")
    (worker,) = site.worker_pids()
    os.kill(worker, signal.SIGKILL)
    outcome = request.result()
    locker.rollback()  # releases the lock: the orphaned transaction goes on, finds its client gone, rolls back
    wait_until(lambda: watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()[0]
               == 0, timeout=60, what="PostgreSQL to end the killed worker's session")
    # gunicorn replaces the worker and the site keeps serving
    wait_until(lambda: site.worker_pids() and site.worker_pids() != [worker]
               and site.get("/healthz", timeout=10).status_code == 200, timeout=90, what="a new worker serving")
    return outcome


def test_worker_killed_mid_checkout_leaves_no_order_and_the_stock(drill, serve):
    catalog = make_catalog(stock=5)
    variant_id = catalog.variant_ids[0]
    site = serve(drill)
    visitor, form = start_checkout(site, variant_id, quantity=2)
    outcome = _kill_worker_while_blocked(drill, site, "orders", lambda: visitor.post("/checkout", form, timeout=60),
                                         statement_start="INSERT INTO orders", holds="variants")
    assert isinstance(outcome, requests.ConnectionError), outcome  # the shopper got no answer, not a 500
    assert _count(Checkout) == 0 and _count(Order) == 0 and _count(OrderLine) == 0
    assert _stock(variant_id) == 5
    # the shopper tries again and it works: one order, the stock taken once
    retry = visitor.get("/checkout")
    assert retry.status_code == 200
    form["token"] = retry.text.split('name="token" type="hidden" value="')[1].split('"')[0]
    assert visitor.post("/checkout", form).status_code == 303
    assert _count(Order) == 1 and _stock(variant_id) == 3
    for path in ("/", catalog.product_paths[0]):
        assert site.get(path).status_code == 200


# drafts: publishing needs a photo (the drill is about a half-written import, not publishing)
IMPORT_CSV = "\n".join(["product_ref,title_vi,description_vi,category,variant_name,sku,price,stock,publish"] + [
    f"p{n},Lọ hoa gốm men {n},Lọ hoa gốm men làm tay ở Bát Tràng.,ceramics,Tiêu chuẩn,DRILL-{n},{250_000 + n},4,no"
    for n in range(1, 7)]) + "\n"


def test_worker_killed_mid_import_leaves_no_half_import(drill, serve):
    catalog = make_catalog()
    site = serve(drill)
    seller = Browser(site)
    seller.login(catalog.artisan_email, PASSWORD)
    products_before, variants_before = _count(Product), _count(Variant)

    def send_import():
        return seller.post("/seller/import", files={"csv": ("san-pham.csv", IMPORT_CSV.encode(), "text/csv")},
                           timeout=60)

    # the audit entry of a created product is written after its product and variant rows
    outcome = _kill_worker_while_blocked(drill, site, "audit_log", send_import,
                                         statement_start="INSERT INTO audit_log", holds="products")
    assert isinstance(outcome, requests.ConnectionError), outcome
    assert (_count(Product), _count(Variant)) == (products_before, variants_before)  # no half import
    assert _count(Variant, Variant.sku.like("DRILL-%")) == 0
    # the seller's session survived the worker; the same file imports whole
    done = send_import()
    assert done.status_code == 303, done.text[:500]
    assert _count(Product) == products_before + 6 and _count(Variant, Variant.sku.like("DRILL-%")) == 6
