"""A small per-app cache for the indicator queries, invalidated by the change feed.

The cache subscribes to the app's change feed (``marketplace.core.changes``) as ``officials-stats``: a
committed transaction that touches a table the indicators read bumps the app's generation number, and
cached results from an older generation are dropped. What counts (see :func:`stale`):

* any write to the catalog tables and the officials' own tables (recorded values, presences, recognition
  decisions, craft recognitions, tour routes and their stops, start values, snapshots);
* any write to ``refunds`` (production value subtracts every refund that succeeded, by its time);
* orders only where production value can move: a delivery, completion or refund, a change of
  ``delivered_at`` or ``refunded_amount``, or a status the statement does not spell out. Placing an order
  (INSERT into ``orders``/``order_lines``), paying, shipping or cancelling it before delivery changes no
  indicator — the indicators count delivered orders only.

Writes made by another process (a second gunicorn worker, a bulk SQL import) are picked up after
``STATS_CACHE_SECONDS`` (a setting in ``config.py``), and catalog changes at once through the shared catalog
version. ``STATS_CACHE_SECONDS = 0`` turns the cache off.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app

from marketplace.core import changes
from marketplace.core.cache import catalog_version
from marketplace.core.changes import ChangeSet, RowChange, StatementChange
from marketplace.orders.models import OrderStatus

SUBSCRIBER = "officials-stats"
MARK = "officials-stats"  # changes.mark(session, MARK): this transaction changes the indicators
WATCHED_TABLES = {"craft_villages", "shops", "products", "product_images", "ip_protections", "orders",
                  "order_lines", "refunds", "official_recorded_values", "official_external_presences",
                  "official_recognition_decisions", "official_stat_snapshots", "official_craft_recognitions",
                  "official_tour_routes", "official_tour_route_stops", "official_indicator_baselines"}
ORDER_TABLES = {"orders", "order_lines"}
# Statuses an order only has before delivery (and never reaches from a delivered state): setting one changes
# no indicator. Any other status — delivered, completed, refunded, or one added later — invalidates.
BEFORE_DELIVERY = {OrderStatus.PENDING_PAYMENT, OrderStatus.AWAITING_SHIPMENT, OrderStatus.PAID,
                   OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.NEEDS_REVIEW}
# Columns of ``orders`` whose change moves production value whatever the status.
VALUE_COLUMNS = {"delivered_at", "refunded_amount"}


class StatsCache:
    """One app's cached results and generation number."""

    MAX_ENTRIES = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.store: dict = {}

    def invalidate(self) -> None:
        with self.lock:
            self.generation += 1
            self.store.clear()


def _order_row_matters(row: RowChange) -> bool:
    if row.table == "order_lines":
        return row.op != "insert"  # new lines belong to new orders; later edits are refunds
    if row.op == "insert":
        status = row.values.get("status")
        return row.values.get("delivered_at") is not None or (status is not None and status not in BEFORE_DELIVERY)
    if row.op == "delete":
        return True
    if row.columns & VALUE_COLUMNS:
        return True
    if "status" in row.columns:
        return (row.values.get("status") not in BEFORE_DELIVERY
                or row.old.get("status") not in BEFORE_DELIVERY)
    return False


def _order_statement_matters(statement: StatementChange) -> bool:
    if statement.op == "insert":
        # placing orders; a statement that inserts them already delivered says so in its values
        status = statement.values.get("status")
        return status is not None and status not in BEFORE_DELIVERY
    if statement.op == "delete" or statement.columns is None:
        return True  # text SQL or a delete: rows unknown, invalidate
    if statement.table == "order_lines":
        return True
    if statement.columns & VALUE_COLUMNS:
        return True
    if "status" in statement.columns:
        status = statement.values.get("status")
        return status is None or status not in BEFORE_DELIVERY  # no literal: conservatively stale
    return False


def stale(change_set: ChangeSet) -> bool:
    """Does this committed change set change what the indicators show?"""
    if MARK in change_set.marks:
        return True
    for row in change_set.rows:
        if row.table in WATCHED_TABLES and (row.table not in ORDER_TABLES or _order_row_matters(row)):
            return True
    for statement in change_set.statements:
        if statement.table in WATCHED_TABLES and (statement.table not in ORDER_TABLES
                                                  or _order_statement_matters(statement)):
            return True
    return False


def _on_change(change_set: ChangeSet) -> None:
    if stale(change_set):
        invalidate()


def init_app(app: Flask) -> None:
    app.extensions["officials_cache"] = StatsCache()
    changes.subscribe(app, SUBSCRIBER, _on_change)


def invalidate(app: Flask | None = None) -> None:
    """Drop the cached results of ``app`` (default: the current app)."""
    (app or current_app._get_current_object()).extensions["officials_cache"].invalidate()


def cached(key: tuple, compute):
    app = current_app._get_current_object()
    ttl = app.config["STATS_CACHE_SECONDS"]
    if not ttl:
        return compute()
    cache: StatsCache = app.extensions["officials_cache"]
    key = key + (catalog_version(app),)  # catalog changes from any worker, even by SQL statements
    now = time.monotonic()
    generation = cache.generation
    hit = cache.store.get(key)
    if hit is not None and hit[0] == generation and now - hit[1] < ttl:
        return hit[2]
    value = compute()
    with cache.lock:
        if cache.generation == generation:  # not invalidated while computing
            if len(cache.store) >= cache.MAX_ENTRIES:
                cache.store.clear()
            cache.store[key] = (generation, now, value)
    return value
