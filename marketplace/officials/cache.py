"""A small per-app cache for the indicator queries, with explicit invalidation.

Any flush that adds, changes or deletes a row the indicators read (catalog, orders, officials' records)
bumps a generation number; cached results from an older generation are dropped. Writes made by another
process (a second gunicorn worker, a bulk SQL import) are picked up after ``STATS_CACHE_SECONDS``
(a setting in ``config.py``). ``STATS_CACHE_SECONDS = 0`` turns the cache off.
"""
from __future__ import annotations

import threading
import time

from flask import current_app

_lock = threading.Lock()
_generation = 0
WATCHED_TABLES = {"craft_villages", "shops", "products", "product_images", "ip_protections", "orders",
                  "order_lines", "official_recorded_values", "official_external_presences",
                  "official_recognition_decisions", "official_stat_snapshots"}


def invalidate() -> None:
    global _generation
    with _lock:
        _generation += 1


def _matters(obj, is_new: bool) -> bool:
    table = getattr(obj, "__tablename__", None)
    if table not in WATCHED_TABLES:
        return False
    if table == "orders":
        # Placing, paying or shipping an order changes no indicator; delivery, refund and cancellation
        # of a delivered order do.
        from marketplace.orders.models import OrderStatus

        return obj.delivered_at is not None or obj.status in OrderStatus.DELIVERED_STATES
    if table == "order_lines":
        return not is_new  # new lines belong to new (not yet delivered) orders; later edits are refunds
    return True


def _after_flush(session, flush_context) -> None:
    new = set(map(id, session.new))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _matters(obj, id(obj) in new):
            invalidate()
            return


def install(app) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    app.extensions["officials_cache"] = {}
    if not getattr(install, "_listening", False):
        sa.event.listen(Session, "after_flush", _after_flush)
        install._listening = True


def cached(key: tuple, compute):
    app = current_app._get_current_object()
    ttl = app.config["STATS_CACHE_SECONDS"]
    store = app.extensions.setdefault("officials_cache", {})
    if not ttl:
        return compute()
    try:
        from marketplace.core.cache import catalog_version

        key = key + (catalog_version(app),)  # catalog changes from any worker, even by SQL statements
    except Exception:  # pragma: no cover - the catalog cache is another area's; degrade to TTL only
        pass
    now = time.monotonic()
    hit = store.get(key)
    if hit is not None and hit[0] == _generation and now - hit[1] < ttl:
        return hit[2]
    generation = _generation
    value = compute()
    if len(store) > 256:
        store.clear()
    store[key] = (generation, now, value)
    return value
