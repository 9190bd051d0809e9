"""``TRANSITIONS`` is the one statement of allowed order status changes: ``transition()`` performs exactly
those, every call path (ship, deliver, complete, cancel, refund, card settlement, release, late payment)
stays inside it, and a forbidden change — e.g. settling a card order that is already PAID — is refused."""
import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import INITIAL_STATES, TRANSITIONS, Order, OrderEvent, may_transition
from marketplace.orders.models import OrderStatus as S
from marketplace.payments import registry
from marketplace.payments import services as payments
from marketplace.payments.gateway import PaymentState, PaymentStatus
from tests.factories import make_user
from tests.orders.helpers import place, shopper, two_shop_products

ROOT = Path(__file__).resolve().parents[2] / "marketplace"


def _set_status(order: Order, status: str) -> None:
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(status=status))
    db.session.expire(order)


def test_map_covers_every_status():
    assert set(TRANSITIONS) == set(S.CHOICES)
    assert all(targets <= set(S.CHOICES) for targets in TRANSITIONS.values())
    assert TRANSITIONS[S.REFUNDED] == frozenset()  # final
    assert set(INITIAL_STATES) == {S.PENDING_PAYMENT, S.AWAITING_SHIPMENT}


def test_transition_does_exactly_what_the_map_allows(app):
    vase, _ = two_shop_products()
    order = place({vase.variants[0].id: 1}).orders[0]
    for to_state in S.CHOICES:
        for from_state in S.CHOICES:
            _set_status(order, from_state)
            if not any(to_state in targets for targets in TRANSITIONS.values()):
                with pytest.raises(services.IllegalTransition):  # nothing may reach an initial state
                    services.transition(order, to_state, mail=False)
                continue
            changed = services.transition(order, to_state, mail=False)
            assert changed == may_transition(from_state, to_state), (from_state, to_state)
            assert order.status == (to_state if changed else from_state)
    db.session.rollback()


def test_a_narrowing_outside_the_map_is_refused_before_any_sql(app):
    vase, _ = two_shop_products()
    order = place({vase.variants[0].id: 1}).orders[0]
    with pytest.raises(services.IllegalTransition):
        services.transition(order, S.SHIPPED, only_from=(S.AWAITING_SHIPMENT, S.DELIVERED))
    with pytest.raises(services.IllegalTransition):
        services.transition(order, S.PAID, only_from=(S.PAID,))
    assert db.session.get(Order, order.id).status == S.AWAITING_SHIPMENT


def test_no_call_passes_its_own_from_states():
    """The inline tuples are gone: no call of ``transition`` in marketplace/ passes from-states positionally."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "transition":
                if len(node.args) > 1 and isinstance(node.args[1], (ast.Tuple, ast.List, ast.Set)):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def _paid_state(checkout, **kw) -> PaymentState:
    values = dict(session_id=None, checkout_id=checkout.id, status=PaymentStatus.COMPLETE, paid=True,
                  amount=checkout.total, currency="vnd", payment_id="pi_test")
    values.update(kw)
    return PaymentState(**values)


def test_settling_a_paid_card_order_again_is_refused(app):
    """PAID → PAID is not in the map: a second settlement (webhook after reconcile, say) changes nothing."""
    vase, _ = two_shop_products()
    checkout = place({vase.variants[0].id: 1}, method="stripe")
    stripe = registry.get("stripe")
    assert payments.settle_payment(stripe, _paid_state(checkout)) == "paid"
    db.session.commit()
    order = db.session.get(Order, checkout.orders[0].id)
    paid_at = order.paid_at
    assert payments.settle_payment(stripe, _paid_state(checkout), label="reconcile") == "already"
    db.session.commit()
    db.session.refresh(order)
    assert order.status == S.PAID and order.paid_at == paid_at
    events = db.session.scalars(sa.select(OrderEvent.to_status).where(OrderEvent.order_id == order.id)).all()
    assert events.count(S.PAID) == 1
    assert services.transition(order, S.PAID) is False  # directly, too


def test_every_call_path_stays_inside_the_map(app):
    """Drive every path that changes an order's status, then check every recorded change against the map."""
    vase, scarf = two_shop_products(stock_a=50, stock_b=50)
    buyer, admin = shopper(), make_user("admin")
    db.session.commit()
    owner_a = vase.shop.owner
    stripe = registry.get("stripe")
    va, vb = vase.variants[0].id, scarf.variants[0].id

    # cash on delivery: ship, deliver, complete, refund in full
    order = place({va: 1}, buyer=buyer).orders[0]
    services.ship_order(owner_a, order, "VNPost", "EB1")
    services.deliver_order(owner_a, order)
    services.complete_order(buyer, order)
    services.refund_order(owner_a, order, order.total)
    db.session.commit()
    assert db.session.get(Order, order.id).status == S.REFUNDED
    # cash on delivery: cancel before shipping
    order = place({va: 1}, buyer=buyer).orders[0]
    services.cancel_order(owner_a, order, "hết hàng")
    # card: paid (twice: refused the second time), shipped, delivered, partly refunded
    checkout = place({va: 1}, method="stripe", buyer=buyer)
    payments.settle_payment(stripe, _paid_state(checkout))
    payments.settle_payment(stripe, _paid_state(checkout))
    order = checkout.orders[0]
    services.ship_order(owner_a, order, "VNPost", "EB2")
    services.deliver_order(owner_a, order)
    db.session.commit()
    # card: expired, then paid late → needs review → refunded
    checkout = place({va: 1}, method="stripe", buyer=buyer)
    services.release_checkout(checkout, S.EXPIRED, "reconcile")
    assert payments.settle_payment(stripe, _paid_state(checkout)) == "needs_review"
    # card: amount mismatch → needs review
    checkout = place({vb: 1}, method="stripe", buyer=buyer)
    assert payments.settle_payment(stripe, _paid_state(checkout, amount=1)) == "mismatch"
    # card: the payment failed → cancelled
    checkout = place({vb: 1}, method="stripe", buyer=buyer)
    services.release_checkout(checkout, S.CANCELLED, "stripe")
    # card: paid then cancelled by an admin (status only: the refund itself needs the provider)
    checkout = place({vb: 1}, method="stripe", buyer=buyer)
    payments.settle_payment(stripe, _paid_state(checkout))
    assert services.transition(checkout.orders[0], S.CANCELLED, admin)
    db.session.commit()

    events = db.session.execute(sa.select(OrderEvent.from_status, OrderEvent.to_status)).all()
    seen = {(f, t) for f, t in events}
    for from_status, to_status in seen:
        if from_status is None:
            assert to_status in INITIAL_STATES, to_status
        else:
            assert may_transition(from_status, to_status), (from_status, to_status)
    assert {(S.PENDING_PAYMENT, S.PAID), (S.AWAITING_SHIPMENT, S.SHIPPED), (S.SHIPPED, S.DELIVERED),
            (S.DELIVERED, S.COMPLETED), (S.COMPLETED, S.REFUNDED), (S.AWAITING_SHIPMENT, S.CANCELLED),
            (S.PAID, S.SHIPPED), (S.PENDING_PAYMENT, S.EXPIRED), (S.EXPIRED, S.NEEDS_REVIEW),
            (S.PENDING_PAYMENT, S.NEEDS_REVIEW), (S.PENDING_PAYMENT, S.CANCELLED), (S.PAID, S.CANCELLED)} <= seen
