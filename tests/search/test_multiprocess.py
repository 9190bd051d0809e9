"""Several processes write while another holds the Whoosh lock: every save succeeds without waiting for
the lock, and no update is lost (the dirty table + the next writer or `flask search sync`)."""
from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.search import maintenance
from marketplace.search.maintenance import check_index
from marketplace.search.models import SearchDirty
from marketplace.search.services import search_products
from tests.factories import make_shop
from tests.search import mp_workers

pytestmark = pytest.mark.slow


def settings_of(app) -> dict:
    keys = ("SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "DATA_DIR", "MEDIA_ROOT")
    return {k: app.config[k] for k in keys}


def collect(results, n: int) -> list[tuple]:
    return [results.get(timeout=120) for _ in range(n)]


def found(q: str) -> set[int]:
    return set(search_products(q, per_page=100).ids)


def test_saves_while_another_process_holds_the_lock(app):
    shop = make_shop()
    db.session.commit()
    ctx = multiprocessing.get_context("spawn")
    ready, release, start = ctx.Event(), ctx.Event(), ctx.Event()
    results = ctx.Queue()
    settings = settings_of(app)
    holder = ctx.Process(target=mp_workers.hold_lock, args=(settings, ready, release))
    holder.start()
    try:
        assert ready.wait(120), "the lock holder did not start"
        savers = [
            ctx.Process(target=mp_workers.save_products,
                        args=(settings, shop.id, [f"Nón lá tiến trình {w} số {i}" for i in range(2)], start, results))
            for w in range(3)
        ]
        for p in savers:
            p.start()
        start.set()
        outcomes = collect(results, 6)
        for p in savers:
            p.join(120)
            assert p.exitcode == 0
        # Every save committed while the lock was still held: nobody waited for it.
        assert holder.is_alive() and not release.is_set()
        assert [o[0] for o in outcomes] == ["ok"] * 6, outcomes
        saved = {o[2] for o in outcomes}
        db.session.rollback()
        assert set(db.session.scalars(sa.select(SearchDirty.product_id))) == saved
        assert not saved & found("tiến trình")
    finally:
        release.set()
        holder.join(120)
    assert holder.exitcode == 0
    # The next writer (here: one more save in another process) applies everything pending.
    start2 = ctx.Event()
    last = ctx.Process(target=mp_workers.save_products,
                       args=(settings, shop.id, ["Nón lá tiến trình cuối"], start2, results))
    last.start()
    start2.set()
    (outcome,) = collect(results, 1)
    last.join(120)
    assert outcome[0] == "ok"
    assert saved | {outcome[2]} <= found("tiến trình")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchDirty)) == 0
    report = check_index()
    assert not (report["missing"] or report["stale"] or report["extra"])


def test_concurrent_writers_lose_nothing(app):
    shop = make_shop()
    db.session.commit()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    settings = settings_of(app)
    workers = [
        ctx.Process(target=mp_workers.save_products,
                    args=(settings, shop.id, [f"Giỏ mây đồng thời {w} số {i}" for i in range(4)], start, results))
        for w in range(3)
    ]
    for p in workers:
        p.start()
    start.set()
    outcomes = collect(results, 12)
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    assert [o[0] for o in outcomes] == ["ok"] * 12, outcomes
    saved = {o[2] for o in outcomes}
    maintenance.sync_pending()  # whatever a busy lock left behind (often nothing)
    assert saved <= found("đồng thời")
    report = check_index()
    assert not (report["missing"] or report["stale"] or report["extra"] or report["dirty"])
