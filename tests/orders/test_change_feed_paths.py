"""Every order and payment write path reaches every change-feed subscriber (SQLite and PostgreSQL).

Checkout (Core stock UPDATE with STOCK_CHECKED + Core INSERTs), ``transition`` (ship, deliver, cancel:
Core UPDATEs of ``orders``), refunds, card settlement by webhook and ``flask payments reconcile`` each
commit a ChangeSet that every subscriber of the app receives — the ones registered by the areas
(catalog cache, mail, search, officials' stats…) and a recorder registered here. And delivering an order
through ``orders.services`` shows in ``/api/v1/stats/indicators`` at once, not after the cache expires.
"""
from __future__ import annotations

import pytest

from marketplace.core import changes
from marketplace.core.cache import STOCK_CHECKED
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.orders.models import OrderStatus as S
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, place, shopper, two_shop_products
from tests.payments.conftest import WEBHOOK_SECRET, fake_stripe  # noqa: F401  (fixture)
from tests.payments.helpers import card_checkout

RECORDER = "test-recorder"
# The subscribers the contract names: catalog-cache and mail (core), officials-stats (officials/cache.py),
# search (search/sync.py).
REQUIRED_SUBSCRIBERS = {"catalog-cache", "mail", "officials-stats", "search"}


@pytest.fixture
def app_overrides(fake_stripe):  # noqa: F811  (Stripe enabled, against the local fake)
    return {"STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_PUBLISHABLE_KEY": "pk_test_fake",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": fake_stripe.url}


class FeedLog:
    """Which subscriber received which ChangeSet (every subscriber of the app wrapped, plus a recorder)."""

    def __init__(self, app):
        self.received: list[tuple[str, changes.ChangeSet]] = []
        feed = changes.feed_of(app)
        for name, fn in list(feed.subscribers.items()):
            feed.subscribers[name] = self._wrap(name, fn)
        changes.subscribe(app, RECORDER, lambda change_set: self.received.append((RECORDER, change_set)))
        self.names = set(feed.subscribers)

    def _wrap(self, name, fn):
        def recording(change_set):
            self.received.append((name, change_set))
            fn(change_set)
        return recording

    def clear(self) -> None:
        self.received.clear()

    def published(self, predicate) -> changes.ChangeSet:
        """The one committed ChangeSet that satisfies ``predicate``, after checking every subscriber got it."""
        sets = {id(cs): cs for _, cs in self.received}
        matching = [cs for cs in sets.values() if predicate(cs)]
        assert matching, f"no ChangeSet matches; published: {list(sets.values())}"
        for change_set in matching:
            got = {name for name, cs in self.received if cs is change_set}
            assert got == self.names, f"{change_set} reached {sorted(got)}, not {sorted(self.names - got)}"
        return matching[0]


@pytest.fixture
def feed(app):
    log = FeedLog(app)
    assert REQUIRED_SUBSCRIBERS <= log.names
    return log


def order_update(cs, status=None, column=None) -> bool:
    """A Core UPDATE of ``orders`` that sets ``status`` (literal) or ``column``."""
    return any(st.op == "update" and (status is None or st.values.get("status") == status)
               and (column is None or column in (st.columns or ()))
               for st in cs.statements_on("orders"))


def stock_update(cs) -> bool:
    return any(st.op == "update" and st.options.get(STOCK_CHECKED) for st in cs.statements_on("variants"))


def test_checkout_reaches_every_subscriber(app, client, feed):
    vase, scarf = two_shop_products()
    add_to_cart(client, vase.variants[0].id, 2)
    add_to_cart(client, scarf.variants[0].id, 1)
    token = checkout_token(client)
    feed.clear()
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert r.status_code == 303
    cs = feed.published(lambda cs: cs.statements_on("checkouts"))
    assert stock_update(cs)  # the conditional stock UPDATEs (STOCK_CHECKED)
    assert {st.op for st in cs.statements_on("orders")} == {"insert"}
    assert cs.statements_on("order_lines") and cs.statements_on("order_events")
    assert cs.touches("mail_outbox")  # the confirmation, queued in the same transaction


def test_ship_deliver_cancel_reach_every_subscriber(app, client, login, feed):
    vase, _ = two_shop_products()
    first, second = (place({vase.variants[0].id: 1}).orders[0] for _ in range(2))
    login(client, vase.shop.owner)
    feed.clear()
    assert client.post(f"/seller/orders/{first.id}/ship",
                       data={"carrier": "VNPost", "tracking_number": "EB1"}).status_code == 303
    feed.published(lambda cs: order_update(cs, S.SHIPPED) and cs.statements_on("order_events"))
    feed.clear()
    assert client.post(f"/seller/orders/{first.id}/deliver").status_code == 303
    cs = feed.published(lambda cs: order_update(cs, S.DELIVERED))
    assert "delivered_at" in next(st for st in cs.statements_on("orders")).columns
    feed.clear()
    assert client.post(f"/seller/orders/{second.id}/cancel", data={"reason": "hết hàng"}).status_code == 303
    cs = feed.published(lambda cs: order_update(cs, S.CANCELLED))
    assert stock_update(cs)  # the stock returns
    db.session.expire_all()
    assert db.session.get(Order, second.id).status == S.CANCELLED


def test_refund_reaches_every_subscriber(app, client, login, feed):
    vase, _ = two_shop_products()
    order = place({vase.variants[0].id: 1}).orders[0]
    login(client, vase.shop.owner)
    client.post(f"/seller/orders/{order.id}/ship", data={"carrier": "VNPost", "tracking_number": "EB1"})
    client.post(f"/seller/orders/{order.id}/deliver")
    feed.clear()
    assert client.post(f"/seller/orders/{order.id}/refund", data={"amount": 50_000, "reason": "móp"}).status_code == 303
    cs = feed.published(lambda cs: order_update(cs, column="refunded_amount"))
    assert [r.op for r in cs.rows_of("refunds")] == ["insert"]
    assert any(st.values.get("status") == "succeeded" for st in cs.statements_on("refunds"))  # COD: booked at once
    feed.clear()
    db.session.expire_all()
    rest = db.session.get(Order, order.id).total - 50_000
    assert client.post(f"/seller/orders/{order.id}/refund", data={"amount": rest}).status_code == 303
    feed.published(lambda cs: order_update(cs, S.REFUNDED))  # refunded in full: the status follows


def test_card_settlement_by_webhook_reaches_every_subscriber(app, client, feed, fake_stripe):  # noqa: F811
    vase, _ = two_shop_products()
    _, _, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    feed.clear()
    r = fake_stripe.deliver(client, fake_stripe.event("checkout.session.completed", session), WEBHOOK_SECRET)
    assert r.status_code == 200 and r.get_json()["outcome"] == "paid"
    cs = feed.published(lambda cs: order_update(cs, S.PAID))
    assert [r.op for r in cs.rows_of("processed_events")] == ["insert"]
    assert any("payment_intent_id" in (st.columns or ()) for st in cs.statements_on("checkouts"))


def test_reconcile_reaches_every_subscriber(app, client, runner, feed, fake_stripe):  # noqa: F811
    vase, scarf = two_shop_products()
    _, _, paid = card_checkout(client, (vase.variants[0].id, 1))
    _, _, lapsed = card_checkout(client, (scarf.variants[0].id, 1))
    fake_stripe.pay(paid.stripe_session_id)
    fake_stripe.expire(lapsed.stripe_session_id)
    feed.clear()
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0 and "paid=1" in result.output and "released=1" in result.output, result.output
    feed.published(lambda cs: order_update(cs, S.PAID))
    cs = feed.published(lambda cs: order_update(cs, S.EXPIRED))
    assert stock_update(cs)  # the held stock returns
    paid_sets = [cs for name, cs in feed.received if name == RECORDER and order_update(cs, S.PAID)]
    expired_sets = [cs for name, cs in feed.received if name == RECORDER and order_update(cs, S.EXPIRED)]
    assert len(paid_sets) == len(expired_sets) == 1 and paid_sets[0] is not expired_sets[0]  # one commit per item


def test_a_refused_transition_publishes_nothing(app, client, login, feed):
    vase, _ = two_shop_products()
    order = place({vase.variants[0].id: 1}).orders[0]
    login(client, vase.shop.owner)
    feed.clear()
    r = client.post(f"/seller/orders/{order.id}/deliver")  # not shipped: refused, rolled back
    assert r.status_code == 303
    assert not [cs for _, cs in feed.received if cs.touches("orders", "order_events")]


# --- the officials' stats follow a delivery at once ---------------------------------------------------

def production_value(client) -> int:
    data = client.get("/api/v1/stats/indicators").get_json()
    return next(i for i in data["indicators"] if i["id"] == "production_growth")["numerator"]


def test_delivery_through_orders_services_refreshes_the_officials_stats(app, client, login):
    """The stale-stats case of issue 11: ``transition`` is a Core UPDATE, and the stats cache must see it."""
    vase, _ = two_shop_products()
    buyer = shopper()
    order = place({vase.variants[0].id: 2}, buyer=buyer).orders[0]
    login(client, vase.shop.owner)
    assert client.post(f"/seller/orders/{order.id}/ship",
                       data={"carrier": "VNPost", "tracking_number": "EB1"}).status_code == 303
    before = production_value(client)  # computed and cached now
    assert client.post(f"/seller/orders/{order.id}/deliver").status_code == 303
    assert production_value(client) == before + 2 * 350_000  # right after the request, not after the TTL
