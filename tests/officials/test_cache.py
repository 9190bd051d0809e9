"""The officials' stats cache follows the change feed: a change to what the indicators count shows at once.

The indicators count delivered orders only, so placing, paying, shipping or cancelling an order before
delivery leaves the cache alone; delivering (a Core UPDATE through ``orders.services.transition``) does not.
"""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.api.services import issue_token
from marketplace.core import uow
from marketplace.core.changes import ChangeSet, RowChange, StatementChange
from marketplace.extensions import db
from marketplace.officials import cache
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from tests.factories import make_product, make_shop, make_user, make_village
from tests.orders.helpers import place

PRICE = 350_000


@pytest.fixture
def world(app):
    artisan = make_user(Role.ARTISAN)
    shop = make_shop(village=make_village(slug="bat-trang-cache"), owner=artisan)
    product = make_product(shop=shop, price=PRICE, stock=10)
    db.session.commit()
    return {"artisan": artisan, "variant_id": product.variants[0].id}


def production_value(client) -> int:
    data = client.get("/api/v1/stats/indicators").get_json()
    return next(i for i in data["indicators"] if i["id"] == "production_growth")["numerator"]


def generation(app) -> int:
    return app.extensions["officials_cache"].generation


def shipped_order(world) -> Order:
    checkout = place({world["variant_id"]: 1})
    order = checkout.orders[0]
    with uow.transaction():
        orders.ship_order(world["artisan"], order, "VNPost", "VN123")
    return order


def test_subscribed_to_the_change_feed(app):
    assert app.extensions["change_feed"].subscribers[cache.SUBSCRIBER] is cache._on_change


def test_delivery_through_the_service_shows_at_once(app, client, world):
    assert production_value(client) == 0  # cached now
    before = generation(app)
    order = shipped_order(world)  # placing and shipping change no indicator
    assert generation(app) == before
    assert production_value(client) == 0
    with uow.transaction():
        orders.deliver_order(world["artisan"], order)
    assert generation(app) > before
    assert production_value(client) == PRICE


def test_delivery_through_the_seller_page_shows_at_once(app, client, login, world):
    order = shipped_order(world)
    assert production_value(client) == 0
    login(client, world["artisan"])
    response = client.post(f"/seller/orders/{order.id}/deliver")
    assert response.status_code == 303
    assert production_value(client) == PRICE


def test_delivery_through_the_api_shows_at_once(app, client, world):
    _, secret = issue_token(world["artisan"], "test")
    db.session.commit()
    order = shipped_order(world)
    assert production_value(client) == 0
    response = client.post(f"/api/v1/me/orders/{order.id}/deliver", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_json()
    assert production_value(client) == PRICE


def test_cancelling_before_delivery_leaves_the_cache(app, client, world):
    checkout = place({world["variant_id"]: 1})
    production_value(client)
    before = generation(app)
    with uow.transaction():
        orders.cancel_order(world["artisan"], checkout.orders[0], "hết hàng")
    assert generation(app) == before


def test_text_sql_on_orders_invalidates_conservatively(app, client, world):
    order = shipped_order(world)
    assert production_value(client) == 0
    with uow.transaction():
        db.session.execute(sa.text("UPDATE orders SET status = 'delivered', delivered_at = :at WHERE id = :id"),
                           {"at": datetime.now(), "id": order.id})
    assert production_value(client) == PRICE


def test_rolled_back_work_changes_nothing(app, client, world):
    order = shipped_order(world)
    production_value(client)
    before = generation(app)
    with pytest.raises(RuntimeError), uow.transaction():
        orders.deliver_order(world["artisan"], order)
        raise RuntimeError("abandon")
    assert generation(app) == before
    assert production_value(client) == 0


# --- the rule, change set by change set ------------------------------------------------------------------

def _statement(table, op, columns=None, values=None) -> StatementChange:
    return StatementChange(table, op, None if columns is None else frozenset(columns), values or {}, {})


def _row(table, op, values, old=None, columns=None) -> RowChange:
    return RowChange(table, op, 1, frozenset(columns or values), values, old or {})


def _stale(*changes, marks=()) -> bool:
    change_set = ChangeSet()
    for change in changes:
        (change_set.rows if isinstance(change, RowChange) else change_set.statements).append(change)
    change_set.marks.update(marks)
    return cache.stale(change_set)


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REFUNDED])
def test_statuses_that_move_production_value(status):
    assert _stale(_statement("orders", "update", {"status"}, {"status": status}))
    assert _stale(_row("orders", "update", {"status": status}, old={"status": OrderStatus.SHIPPED},
                       columns={"status"}))


@pytest.mark.parametrize("status", sorted(cache.BEFORE_DELIVERY))
def test_statuses_before_delivery_do_not(status):
    assert not _stale(_statement("orders", "update", {"status", "paid_at"}, {"status": status}))
    assert not _stale(_row("orders", "update", {"status": status}, old={"status": OrderStatus.AWAITING_SHIPMENT},
                           columns={"status"}))


def test_order_rule_edges():
    assert not _stale(_statement("orders", "insert", {"id", "status"}))  # placing (values bound per row)
    assert not _stale(_statement("order_lines", "insert", {"order_id"}))
    assert not _stale(_row("orders", "insert", {"status": OrderStatus.AWAITING_SHIPMENT, "delivered_at": None}))
    assert not _stale(_row("order_lines", "insert", {"quantity": 1}))
    assert _stale(_row("orders", "insert", {"status": OrderStatus.DELIVERED, "delivered_at": datetime(2026, 1, 1)}))
    assert _stale(_statement("orders", "update", {"status"}))  # a status the statement does not spell out
    assert _stale(_statement("orders", "update", None))  # text SQL
    assert _stale(_statement("orders", "update", {"refunded_amount"}))
    assert _stale(_statement("orders", "update", {"delivered_at"}))
    assert _stale(_statement("order_lines", "update", {"refunded_amount"}))
    assert _stale(_statement("orders", "delete"))
    assert not _stale(_statement("orders", "update", {"tracking_number", "carrier"}, {"carrier": "VNPost"}))
    # a delivered order leaving the delivered states
    assert _stale(_row("orders", "update", {"status": OrderStatus.CANCELLED}, old={"status": OrderStatus.DELIVERED},
                       columns={"status"}))


def test_other_tables():
    for table in ("products", "shops", "craft_villages", "official_recorded_values", "official_stat_snapshots",
                  "refunds", "official_craft_recognitions", "official_tour_routes", "official_tour_route_stops",
                  "official_indicator_baselines"):
        assert _stale(_statement(table, "update", {"status"}))
        assert _stale(_row(table, "insert", {"id": 1}))
    assert not _stale(_statement("cart_items", "insert", {"user_id"}), _statement("mail_outbox", "delete"))
    assert _stale(marks={cache.MARK})


def test_a_refund_through_the_flow_shows_at_once(app, client, world):
    """Production value subtracts every succeeded refund (payments.Refund, by its time): refunding a delivered
    order through ``orders.services.refund_order`` moves the figure right after the commit."""
    order = shipped_order(world)
    with uow.transaction():
        orders.deliver_order(world["artisan"], db.session.get(Order, order.id))
    assert production_value(client) == PRICE  # cached now
    with uow.transaction():
        orders.refund_order(world["artisan"], db.session.get(Order, order.id), 100_000, "vỡ quai")
    assert production_value(client) == PRICE - 100_000
