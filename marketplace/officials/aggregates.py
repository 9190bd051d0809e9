"""Delivered sales summed per shop, line village and Hà Nội day (and month), kept in the same transaction.

The production-growth indicator sums delivered order lines over two windows built from Hà Nội midnights
(``indicators.sales_windows``). Summing a million order lines at every cold view is what made the dashboard
slow; the windows are whole Hà Nội days, so the lines can be summed once per day as they are delivered:

* ``stats_sales_days``: one row per (Hà Nội day of ``delivered_at``, shop, line village) with the value
  (``unit_price × quantity``) and the number of orders, of orders in a produced state (delivered, completed,
  or refunded after delivery);
* ``stats_sales_months``: the same rows summed per month, so a window reads ≤ 11 month rows and ≤ 31 day
  rows per shop and village instead of every order.

**Maintenance** (:func:`before_commit`, a ``before_commit`` listener on the app's session): the transaction's
change set (``core.changes.pending``) names the orders it touched — ORM rows of ``orders``/``order_lines``
(new, updated, deleted), ``order_events`` (every status change goes through ``orders.services.transition``,
which adds one) and Core statements carrying the ``ORDER_IDS_OPTION`` execution option. For each of those
orders the (shop, Hà Nội day) of its delivery — before and after the change — is recomputed from the
transaction's own rows and written on the same connection, before the commit: the aggregate and the change
commit or roll back together. A statement that may move delivered value without saying which orders
(text SQL, a bulk UPDATE of ``status``/``delivered_at``, a change of order-line prices) rebuilds everything
in the transaction (slow, and only bulk maintenance does that). Placing an order changes nothing here
(an order is never delivered when it is placed): a checkout costs one look at its change set.

Refunds are not summed here: the indicator caps each order's refunds in a window at the order's goods value,
which a per-day sum cannot express; they are read from the ``refunds`` rows (few, and only the orders
refunded in the windows are joined). Dates that move with the day measured (windows, OCOP and IP validity)
are applied at read time, so nothing goes stale at midnight.

``flask stats verify`` (:func:`verify`) recomputes both tables from the raw rows and lists any difference
(also a nightly job); ``flask stats rebuild`` (:func:`rebuild`) refills them (after a bulk SQL import).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy import event

from marketplace.core import changes
from marketplace.core.time import VN_TZ
from marketplace.extensions import db
from marketplace.officials.models import SalesDay, SalesMonth
from marketplace.orders.models import ORDER_IDS_OPTION, Order, OrderLine, OrderStatus

# Orders whose value was produced: delivered (later completed, or refunded after delivery — the refund is
# subtracted by its own row, so a refunded order is not dropped twice).
PRODUCED_STATES = OrderStatus.DELIVERED_STATES + (OrderStatus.REFUNDED,)
ORDER_TABLES = ("orders", "order_lines", "order_events")
# Columns whose change moves an order's delivered value (or where it is counted).
ORDER_COLUMNS = frozenset({"status", "delivered_at", "shop_id", "id"})
LINE_COLUMNS = frozenset({"unit_price", "quantity", "village_id", "order_id", "shop_id", "id"})
# Hà Nội has kept UTC+7 without daylight saving since 1975: the SQL side (rebuild, verify) adds 7 hours.
VN_OFFSET_HOURS = 7

_days, _months = SalesDay.__table__, SalesMonth.__table__


def vn_midnight_utc(day: date) -> datetime:
    """00:00 of ``day`` in Hà Nội as the stored naive UTC datetime (17:00 UTC the day before)."""
    return datetime.combine(day, time(), tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)


def vn_day(moment: datetime) -> date:
    """The Hà Nội day of a stored naive UTC datetime."""
    return moment.replace(tzinfo=UTC).astimezone(VN_TZ).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- what a transaction touched -------------------------------------------------------------------------

@dataclass
class Touched:
    orders: set
    buckets: set  # (shop_id, Hà Nội day) known from old values (an update or a delete)
    everything: bool = False

    def __bool__(self) -> bool:
        return bool(self.orders or self.buckets or self.everything)


def _bucket(shop_id, delivered_at) -> tuple[int, date] | None:
    if shop_id is None or delivered_at is None:
        return None
    return int(shop_id), vn_day(delivered_at)


def touched(change_set: changes.ChangeSet) -> Touched:
    """The orders (and old delivery buckets) a change set may have moved."""
    out = Touched(set(), set())
    placed = {row.pk for row in change_set.rows
              if row.table == "orders" and row.op == "insert" and row.values.get("delivered_at") is None}
    placed -= {row.pk for row in change_set.rows if row.table == "orders" and row.op != "insert"}
    for row in change_set.rows:
        if row.table == "orders":
            if row.pk in placed:
                continue  # placed, not delivered: no value yet
            if row.op == "update" and not (row.columns & ORDER_COLUMNS):
                continue
            out.orders.add(row.pk)
            old = {**row.values, **row.old}
            out.buckets.add(_bucket(old.get("shop_id"), old.get("delivered_at")))
        elif row.table == "order_lines":
            if row.op == "update" and not (row.columns & LINE_COLUMNS):
                continue
            if row.op == "insert" and row.values.get("order_id") in placed:
                continue
            out.orders.add(row.values.get("order_id"))
            out.orders.add(row.old.get("order_id"))
        elif row.table == "order_events":
            out.orders.add(row.values.get("order_id"))
    for statement in change_set.statements:
        if statement.table not in ORDER_TABLES or statement.table == "order_events":
            continue
        ids = statement.options.get(ORDER_IDS_OPTION)
        if ids is not None:
            out.orders.update(ids)
        elif statement.op == "insert":
            continue  # placing orders (values at execution time): never delivered at placement
        elif statement.columns is None or statement.op == "delete":
            out.everything = True
        elif statement.columns & (ORDER_COLUMNS if statement.table == "orders" else LINE_COLUMNS):
            out.everything = True
    out.orders.discard(None)
    out.buckets.discard(None)
    return out


# --- writing ---------------------------------------------------------------------------------------------

def _line_value():
    return OrderLine.unit_price * OrderLine.quantity


def refresh(conn, orders=(), buckets=()) -> int:
    """Recompute the (shop, day) buckets of ``orders`` (their delivery now) and ``buckets``, and the months
    they fall in, from the rows ``conn`` sees. Returns the number of buckets written."""
    buckets = set(buckets)
    ids = sorted(orders)
    for start in range(0, len(ids), 500):
        for shop_id, delivered_at in conn.execute(
            sa.select(Order.shop_id, Order.delivered_at).where(Order.id.in_(ids[start:start + 500]),
                                                               Order.delivered_at.is_not(None))
        ):
            buckets.add(_bucket(shop_id, delivered_at))
    buckets.discard(None)
    months = set()
    for shop_id, day in sorted(buckets):
        rows = conn.execute(
            sa.select(OrderLine.village_id, sa.func.sum(_line_value()), sa.func.count(sa.distinct(Order.id)))
            .select_from(Order).join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.shop_id == shop_id, Order.status.in_(PRODUCED_STATES),
                   Order.delivered_at >= vn_midnight_utc(day),
                   Order.delivered_at < vn_midnight_utc(day + timedelta(days=1)))
            .group_by(OrderLine.village_id)
        ).all()
        conn.execute(sa.delete(_days).where(_days.c.shop_id == shop_id, _days.c.day == day))
        if rows:
            conn.execute(sa.insert(_days), [{"shop_id": shop_id, "day": day, "village_id": v, "gross": int(g),
                                             "orders": int(n)} for v, g, n in rows])
        months.add((shop_id, month_start(day)))
    for shop_id, month in sorted(months):
        rows = conn.execute(
            sa.select(_days.c.village_id, sa.func.sum(_days.c.gross), sa.func.sum(_days.c.orders))
            .where(_days.c.shop_id == shop_id, _days.c.day >= month, _days.c.day < next_month(month))
            .group_by(_days.c.village_id)
        ).all()
        conn.execute(sa.delete(_months).where(_months.c.shop_id == shop_id, _months.c.month == month))
        if rows:
            conn.execute(sa.insert(_months), [{"shop_id": shop_id, "month": month, "village_id": v,
                                               "gross": int(g), "orders": int(n)} for v, g, n in rows])
    return len(buckets)


def before_commit(session) -> None:
    """Write the aggregates this transaction moved, on its connection, before it commits."""
    if not has_app_context():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the change feed records rows at flush time
    change_set = changes.pending(session)
    if change_set is None or not change_set.touches(*ORDER_TABLES):
        return
    what = touched(change_set)
    if not what:
        return
    conn = session.connection()
    if what.everything:
        rebuild(conn)
    else:
        refresh(conn, what.orders, what.buckets)


def install() -> None:
    """Listen to the app's sessions' ``before_commit`` (once per process)."""
    target = db.session
    if not event.contains(target, "before_commit", before_commit):
        event.listen(target, "before_commit", before_commit)


# --- from scratch: rebuild and verify ---------------------------------------------------------------------

def _vn_day_sql(conn, column):
    if conn.dialect.name == "sqlite":
        return sa.func.date(column, f"+{VN_OFFSET_HOURS} hours")
    return sa.cast(column + sa.text(f"INTERVAL '{VN_OFFSET_HOURS} hours'"), sa.Date)


def _month_sql(conn, day_column):
    if conn.dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m-01", day_column)
    return sa.cast(sa.func.date_trunc("month", day_column), sa.Date)


def _raw_days(conn):
    day = _vn_day_sql(conn, Order.delivered_at)
    return (
        sa.select(Order.shop_id.label("shop_id"), day.label("day"), OrderLine.village_id.label("village_id"),
                  sa.func.sum(_line_value()).label("gross"), sa.func.count(sa.distinct(Order.id)).label("orders"))
        .select_from(Order).join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.in_(PRODUCED_STATES), Order.delivered_at.is_not(None))
        .group_by(Order.shop_id, day, OrderLine.village_id)
    )


def _raw_months(conn):
    days = _raw_days(conn).subquery("rd")
    month = _month_sql(conn, days.c.day)
    return (sa.select(days.c.shop_id, month.label("month"), days.c.village_id,
                      sa.func.sum(days.c.gross).label("gross"), sa.func.sum(days.c.orders).label("orders"))
            .group_by(days.c.shop_id, month, days.c.village_id))


def rebuild(conn) -> tuple[int, int]:
    """Empty both tables and fill them from the raw rows. Returns (day rows, month rows)."""
    conn.execute(sa.delete(_days))
    conn.execute(sa.delete(_months))
    conn.execute(sa.insert(_days).from_select(["shop_id", "day", "village_id", "gross", "orders"], _raw_days(conn)))
    month = _month_sql(conn, _days.c.day)
    conn.execute(sa.insert(_months).from_select(
        ["shop_id", "month", "village_id", "gross", "orders"],
        sa.select(_days.c.shop_id, month, _days.c.village_id, sa.func.sum(_days.c.gross), sa.func.sum(_days.c.orders))
        .group_by(_days.c.shop_id, month, _days.c.village_id)))
    return (conn.scalar(sa.select(sa.func.count()).select_from(_days)),
            conn.scalar(sa.select(sa.func.count()).select_from(_months)))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _keyed(rows) -> dict:
    """(table key) → (gross, orders); duplicate keys in a stored table are summed and flagged."""
    out: dict = {}
    for shop_id, day, village_id, gross, orders in rows:
        key = (int(shop_id), _as_date(day), None if village_id is None else int(village_id))
        g, n, dup = out.get(key, (0, 0, 0))
        out[key] = (g + int(gross), n + int(orders), dup + 1)
    return out


@dataclass(frozen=True)
class Difference:
    table: str
    shop_id: int
    period: date
    village_id: int | None
    stored: tuple[int, int] | None  # (gross, orders)
    expected: tuple[int, int] | None
    rows: int = 1  # stored rows with this key (more than one: duplicated)

    def __str__(self) -> str:
        dup = f" in {self.rows} rows" if self.rows > 1 else ""
        return (f"{self.table} shop={self.shop_id} {self.period:%Y-%m-%d} village={self.village_id}: "
                f"stored {self.stored or '—'}{dup}, expected {self.expected or '—'}")


def _compare(table: str, stored: dict, expected: dict) -> list[Difference]:
    out = []
    for key in sorted(set(stored) | set(expected), key=lambda k: (k[0], k[1], k[2] is None, k[2] or 0)):
        s, e = stored.get(key), expected.get(key)
        s2 = s[:2] if s else None
        e2 = e[:2] if e else None
        if s2 != e2 or (s and s[2] > 1):
            out.append(Difference(table, key[0], key[1], key[2], s2, e2, s[2] if s else 0))
    return out


def verify(conn) -> list[Difference]:
    """Every stored aggregate row against a recomputation from ``orders``/``order_lines`` (an empty list:
    they agree). A row missing, extra, different or duplicated is a difference."""
    days = _compare("stats_sales_days",
                    _keyed(conn.execute(sa.select(_days.c.shop_id, _days.c.day, _days.c.village_id, _days.c.gross,
                                                  _days.c.orders))),
                    _keyed(conn.execute(_raw_days(conn))))
    months = _compare("stats_sales_months",
                      _keyed(conn.execute(sa.select(_months.c.shop_id, _months.c.month, _months.c.village_id,
                                                    _months.c.gross, _months.c.orders))),
                      _keyed(conn.execute(_raw_months(conn))))
    return days + months


# --- reading: delivered value in the indicator's windows ---------------------------------------------------

def gross_by(key: str, this: tuple[date, date], last: tuple[date, date], name: str):
    """Delivered value per village (``key="village"``) or shop in two windows of whole Hà Nội days, each
    ``(first day, last day)`` with the first day a 1 January: full months from the month table, the month
    in progress from the day table. Columns: ``key_id``, ``gross_this``, ``gross_last``."""
    parts = []
    for first, last_day in (this, last):
        month = month_start(last_day)
        parts.append(sa.select(_months.c.shop_id, _months.c.village_id, _months.c.month.label("d"), _months.c.gross)
                     .where(_months.c.month >= first, _months.c.month < month))
        parts.append(sa.select(_days.c.shop_id, _days.c.village_id, _days.c.day.label("d"), _days.c.gross)
                     .where(_days.c.day >= max(first, month), _days.c.day <= last_day))
    rows = sa.union_all(*parts).subquery(f"agg_{name}")
    key_col = rows.c.village_id if key == "village" else rows.c.shop_id

    def window(w):
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(rows.c.d >= w[0], rows.c.d <= w[1]), rows.c.gross),
                                                    else_=0)), 0)

    return (sa.select(key_col.label("key_id"), window(this).label("gross_this"), window(last).label("gross_last"))
            .group_by(key_col).subquery(name))
