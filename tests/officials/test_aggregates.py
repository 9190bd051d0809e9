"""The sales aggregates (officials/aggregates.py): written in the transaction that moves them, equal to a
recomputation from the orders (``flask stats verify``), and read by the indicators with the same result
as summing every order line — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.core import changes, uow
from marketplace.extensions import db
from marketplace.officials import aggregates
from marketplace.officials import indicators as ind
from marketplace.officials.models import SalesDay, SalesMonth
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from tests.factories import make_shop, make_user, make_village
from tests.officials.helpers import make_order
from tests.officials.test_hand_count import AS_OF, world  # noqa: F401  (the hand-count world fixture)


def _verify():
    return aggregates.verify(db.session.connection())


def _days():
    return {(r.shop_id, r.day, r.village_id): (r.gross, r.orders) for r in db.session.scalars(sa.select(SalesDay))}


def test_hand_count_world_has_no_difference_and_reads_like_the_raw_sums(world, runner):  # noqa: F811
    assert _verify() == []
    result = runner.invoke(args=["stats", "verify"])
    assert result.exit_code == 0, result.output
    assert "0 differences." in result.output
    # The aggregates hold the world's delivered orders (v1's shop A on 01/01/2026 Hà Nội: 800.000 ₫) …
    a, v1 = world["A"], world["v1"]
    assert _days()[(a.id, date(2026, 1, 1), v1.id)] == (800_000, 1)
    assert db.session.scalar(sa.select(SalesMonth.gross).where(SalesMonth.shop_id == a.id,
                                                               SalesMonth.month == date(2026, 1, 1))) == 800_000
    # … and every day measured (month ends, 1 January, a leap day's neighbour) reads what the raw lines say.
    for day in (AS_OF, date(2026, 1, 1), date(2025, 12, 31), date(2026, 2, 28), date(2026, 3, 1), date(2026, 7, 1),
                date(2025, 6, 30), date(2027, 1, 5)):
        assert dict(ind.platform_totals(day)) == dict(ind.platform_totals(day, raw=True)), day
        assert ind.like_for_like(day) == ind.like_for_like(day, raw=True), day


def test_a_corrupted_row_is_reported_and_rebuild_repairs_it(world, runner):  # noqa: F811
    a, v1 = world["A"], world["v1"]
    db.session.execute(sa.update(SalesDay).where(SalesDay.shop_id == a.id, SalesDay.day == date(2026, 1, 1))
                       .values(gross=SalesDay.gross + 1))
    db.session.execute(sa.delete(SalesMonth).where(SalesMonth.shop_id == world["B"].id))
    db.session.commit()
    differences = _verify()
    assert [(d.table, d.shop_id, d.period, d.village_id, d.stored, d.expected) for d in differences] == [
        ("stats_sales_days", a.id, date(2026, 1, 1), v1.id, (800_001, 1), (800_000, 1)),
        ("stats_sales_months", world["B"].id, date(2025, 3, 1), v1.id, None, (2_000_000, 1)),
        ("stats_sales_months", world["B"].id, date(2026, 4, 1), v1.id, None, (1_500_000, 1)),
    ]
    result = runner.invoke(args=["stats", "verify"])
    assert result.exit_code == 1
    assert "3 differences." in result.output and "stored (800001, 1), expected (800000, 1)" in result.output
    # A duplicated row is a difference even when nothing else is.
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0 and "day rows" in result.output
    assert _verify() == []
    db.session.add(SalesDay(shop_id=a.id, day=date(2026, 1, 1), village_id=v1.id, gross=0, orders=0))
    db.session.commit()
    assert [str(d) for d in _verify()] == [
        f"stats_sales_days shop={a.id} 2026-01-01 village={v1.id}: stored (800000, 1) in 2 rows, expected (800000, 1)"]
    aggregates.rebuild(db.session.connection())
    db.session.commit()


@pytest.fixture
def shop_world(app):
    village = make_village()
    shop = make_shop(village=village)
    buyer = make_user(Role.SHOPPER)
    db.session.commit()
    return {"village": village, "shop": shop, "buyer": buyer, "owner": db.session.get(User, shop.owner_id)}


def test_delivery_moves_the_aggregate_in_its_transaction_and_a_rollback_leaves_nothing(shop_world):
    shop, village, owner = shop_world["shop"], shop_world["village"], shop_world["owner"]
    order = make_order(shop, village, OrderStatus.SHIPPED, None, [(250_000, 2)], shop_world["buyer"])
    db.session.commit()
    assert _days() == {}                                  # placed and shipped: no value yet

    orders.deliver_order(owner, db.session.get(Order, order.id))
    db.session.rollback()                                 # the delivery is undone: so is its aggregate
    assert _days() == {} and _verify() == []

    with uow.transaction():
        orders.deliver_order(owner, db.session.get(Order, order.id))
    delivered = db.session.get(Order, order.id).delivered_at
    assert _days() == {(shop.id, aggregates.vn_day(delivered), village.id): (500_000, 1)}
    assert _verify() == []

    # Refunded in full after delivery: the value stays (the refund row is subtracted at read time).
    with uow.transaction():
        orders.refund_order(owner, db.session.get(Order, order.id), 500_000, "hỏng")
    assert db.session.get(Order, order.id).status == OrderStatus.REFUNDED
    assert list(_days().values()) == [(500_000, 1)]
    assert _verify() == []


def test_orm_edits_and_deletes_move_both_buckets(shop_world):
    shop, village = shop_world["shop"], shop_world["village"]
    other = make_shop(village=village)
    order = make_order(shop, village, OrderStatus.DELIVERED, datetime(2026, 5, 31, 16, 59), [(100_000, 1)])
    db.session.commit()
    assert _days() == {(shop.id, date(2026, 5, 31), village.id): (100_000, 1)}   # 23:59 Hà Nội
    order.delivered_at = datetime(2026, 5, 31, 17, 0)                              # 00:00 01/06 Hà Nội
    order.shop_id = other.id
    db.session.commit()
    assert _days() == {(other.id, date(2026, 6, 1), village.id): (100_000, 1)}
    assert {(m.shop_id, m.month) for m in db.session.scalars(sa.select(SalesMonth))} == {(other.id, date(2026, 6, 1))}
    order.lines[0].quantity = 3
    db.session.commit()
    assert _days() == {(other.id, date(2026, 6, 1), village.id): (300_000, 1)}
    db.session.delete(order)
    db.session.commit()
    assert _days() == {} and db.session.scalar(sa.select(sa.func.count()).select_from(SalesMonth)) == 0
    assert _verify() == []


def test_a_bulk_statement_without_order_ids_rebuilds_in_the_transaction(shop_world):
    shop, village = shop_world["shop"], shop_world["village"]
    make_order(shop, village, OrderStatus.DELIVERED, datetime(2026, 5, 1, 3), [(100_000, 1)])
    make_order(shop, village, OrderStatus.COMPLETED, datetime(2026, 5, 1, 4), [(200_000, 1)])
    db.session.commit()
    assert _days() == {(shop.id, date(2026, 5, 1), village.id): (300_000, 2)}
    db.session.execute(sa.update(Order).where(Order.status == OrderStatus.DELIVERED)
                       .values(status=OrderStatus.CANCELLED))          # which orders: unknown to the feed
    db.session.commit()
    assert _days() == {(shop.id, date(2026, 5, 1), village.id): (200_000, 1)}
    assert _verify() == []


def test_placing_an_order_writes_no_aggregate(shop_world):
    make_order(shop_world["shop"], shop_world["village"], OrderStatus.PENDING_PAYMENT, None, [(100_000, 1)])
    pending = changes.pending(db.session)
    assert pending.touches("orders", "order_lines") and not aggregates.touched(pending)
    db.session.commit()
    assert _days() == {}
