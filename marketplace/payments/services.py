"""What a payment method's outcomes mean for the orders: settle a paid session (webhook, return page,
reconcile — all the same idempotent code), release the stock of a failed or expired one, book a
refund's final state, apply each verified webhook event exactly once, and reconcile what webhooks
missed. Every status change goes through ``orders.services.transition`` (``TRANSITIONS``); the
provider is reached only through the ``PaymentGateway`` it is given. Nothing here commits."""
from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.core.audit import record
from marketplace.core.time import utcnow
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order
from marketplace.orders.models import OrderStatus as S
from marketplace.payments import registry
from marketplace.payments.gateway import (
    EventKind,
    PaymentEvent,
    PaymentGateway,
    PaymentGatewayError,
    PaymentState,
    PaymentStatus,
    RefundResult,
    RefundState,
)
from marketplace.payments.models import ProcessedEvent, Refund, RefundStatus

log = logging.getLogger(__name__)
UNMATCHED_REFUND = "payment.refund_unmatched"


class DuplicateEvent(Conflict):
    """This provider event was applied already (its id is in processed_events)."""

    code = "duplicate_event"


def with_orders():
    """Loader options: a checkout with its orders and their shops in the same SELECT (what settling,
    its mail and its ledger lines read)."""
    return (sa.orm.joinedload(Checkout.orders).joinedload(Order.shop),)


def _checkout_for(state: PaymentState) -> Checkout | None:
    checkout = (db.session.get(Checkout, state.checkout_id, options=with_orders())
                if state.checkout_id is not None else None)
    if checkout is None and state.session_id:
        checkout = db.session.scalars(sa.select(Checkout).where(Checkout.stripe_session_id == state.session_id)
                                      .options(*with_orders())).unique().first()
    if checkout is not None and checkout.stripe_session_id not in (None, state.session_id):
        return None  # a session that is not this checkout's
    return checkout


def settle_payment(gateway: PaymentGateway, state: PaymentState, label: str | None = None) -> str:
    """Mark a checkout's orders paid when the provider says the session is paid and the amount matches.
    Safe to run repeatedly and concurrently (conditional transitions: an order already paid is not paid
    again). Returns what happened."""
    label = label or gateway.identifier
    checkout = _checkout_for(state)
    if checkout is None or checkout.payment_method != gateway.identifier:
        log.warning("%s session %s matches no checkout here; acknowledged", gateway.identifier, state.session_id)
        return "unknown"
    if state.payment_id and not checkout.payment_intent_id:
        db.session.execute(sa.update(Checkout.__table__).where(Checkout.__table__.c.id == checkout.id)
                           .values(payment_intent_id=state.payment_id))
        set_committed_value(checkout, "payment_intent_id", state.payment_id)
    if not state.paid:
        return "unpaid"
    if state.amount != checkout.total or (state.currency or "") != "vnd":
        note = f"{gateway.identifier} amount {state.amount} {state.currency} ≠ order total {checkout.total} vnd"
        log.error("amount mismatch on checkout %s: %s", checkout.id, note)
        for order in checkout.orders:
            orders.transition(order, S.NEEDS_REVIEW, None, label=gateway.identifier, note=note, review_note=note,
                              mail=False, only_from=(S.PENDING_PAYMENT, S.EXPIRED))
        return "mismatch"
    now = utcnow()
    result = "already"
    for order in checkout.orders:
        if orders.transition(order, S.PAID, None, label=label, paid_at=now, commission=orders.commission_for(order)):
            result = "paid"
            ledger.post_sale(order)  # the platform holds the money: it owes the shop
            if (order.refunded_amount or 0) >= order.total:  # a refund event got here first
                orders.transition(order, S.REFUNDED, None, label="refund", only_from=(S.PAID,))
        elif orders.transition(order, S.NEEDS_REVIEW, None, label=label, paid_at=now,
                               commission=orders.commission_for(order), mail=False,
                               review_note="Thanh toán đến sau khi giữ hàng đã hết hạn: hoàn tiền hoặc phân bổ lại hàng.",
                               note="paid after the stock hold ended", only_from=(S.EXPIRED, S.CANCELLED)):
            log.error("checkout %s paid after its hold ended: order %s needs review", checkout.id, order.id)
            ledger.post_sale(order)  # the money is held for the shop until it is refunded
            result = "needs_review"
    return result


def _release(gateway: PaymentGateway, state: PaymentState, to_state: str) -> str:
    checkout = _checkout_for(state)
    if checkout is None:
        log.warning("%s session %s matches no checkout here; acknowledged", gateway.identifier, state.session_id)
        return "unknown"
    released = orders.release_checkout(checkout, to_state, gateway.identifier)
    return "released" if released else "noop"


def _refund_event(gateway: PaymentGateway, results: tuple[RefundResult, ...]) -> str:
    outcome = "noop"
    for result in results:
        refund = db.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == result.refund_id))
        if refund is None:
            _record_unmatched_refund(gateway, result)
            outcome = "unknown"
            continue
        if orders.apply_refund_result(refund, result.status):
            outcome = "succeeded" if result.status == RefundState.SUCCEEDED else "failed"
    return outcome


def _record_unmatched_refund(gateway: PaymentGateway, result: RefundResult) -> None:
    """A refund the provider knows and we don't (made in its dashboard?): one payment can cover several
    shops' orders, so it is not booked against any of them; it is listed for an admin on /admin/payments."""
    refund_id = str(result.refund_id or "")[:40]
    log.warning("%s refund %s is not one of ours (made in the dashboard?): needs review", gateway.identifier, refund_id)
    intent = result.payment_id
    checkout_id = db.session.scalar(sa.select(Checkout.id).where(Checkout.payment_intent_id == intent)) if intent else None
    record(None, UNMATCHED_REFUND, f"{gateway.identifier}_refund", refund_id,
           after={"amount": result.amount, "currency": result.currency, "status": result.provider_status,
                  "payment_intent": intent, "checkout_id": checkout_id})


def handle_event(gateway: PaymentGateway, event: PaymentEvent) -> str:
    """Apply one verified event. Its id is stored under a primary key in the same transaction, so a
    duplicate (even concurrent) delivery raises DuplicateEvent and changes nothing."""
    db.session.add(ProcessedEvent(id=event.id[:255], type=event.type[:80]))
    try:
        db.session.flush()
    except IntegrityError:
        raise DuplicateEvent(event.id) from None
    if event.kind == EventKind.PAYMENT:
        return settle_payment(gateway, event.payment)
    if event.kind == EventKind.PAYMENT_FAILED:
        return _release(gateway, event.payment, S.CANCELLED)
    if event.kind == EventKind.PAYMENT_EXPIRED:
        return _release(gateway, event.payment, S.EXPIRED)
    if event.kind == EventKind.REFUND:
        return _refund_event(gateway, event.refunds)
    return "ignored"


# --- reconcile -------------------------------------------------------------------------------------

def reconcile_steps(now=None) -> tuple[dict, list[Callable[[], None]]]:
    """What webhooks missed, as one step per item (the caller commits after each, and a step that fails
    at the provider is rolled back alone): every prepaid checkout still pending (paid → orders paid;
    expired or past the stock hold → stock released), then every refund still pending at its provider
    (succeeded → booked; failed or canceled → the amount is refundable again). ``counts`` fills in as
    the steps run."""
    now = now or utcnow()
    counts = {"paid": 0, "released": 0, "unpaid": 0, "refunds": 0, "errors": 0}
    prepaid = [m.identifier for m in registry.METHODS if m.prepaid]
    pending = db.session.scalars(
        sa.select(Checkout).where(Checkout.payment_method.in_(prepaid),
                                  Checkout.id.in_(sa.select(Order.checkout_id).where(Order.status == S.PENDING_PAYMENT)))
        .order_by(Checkout.id)
    ).all()
    pending_refunds = db.session.scalars(
        sa.select(Refund).where(Refund.status == RefundStatus.PENDING, Refund.stripe_refund_id.is_not(None))
        .order_by(Refund.id)
    ).all()
    steps = [_step(lambda c=c: _reconcile_checkout(c, now, counts), counts, "checkout", c.id) for c in pending]
    steps += [_step(lambda r=r: _reconcile_refund(r, counts), counts, "refund", r.id) for r in pending_refunds]
    return counts, steps


def _step(settle: Callable[[], None], counts: dict, what: str, item_id: int) -> Callable[[], None]:
    def run() -> None:
        try:
            settle()
        except PaymentGatewayError:
            log.exception("reconcile: %s %s", what, item_id)
            counts["errors"] += 1
            raise
    return run


def _reconcile_checkout(checkout: Checkout, now, counts: dict) -> None:
    gateway = registry.get(checkout.payment_method)
    if not checkout.stripe_session_id:
        if checkout.hold_expires_at and checkout.hold_expires_at < now:
            if orders.release_checkout(checkout, S.EXPIRED, "reconcile", note="no payment session was created"):
                counts["released"] += 1
        return
    state = gateway.reconcile_payment(checkout.stripe_session_id)
    if settle_payment(gateway, state, label="reconcile") == "paid":
        counts["paid"] += 1
    elif state.status == PaymentStatus.EXPIRED or (
            checkout.hold_expires_at and checkout.hold_expires_at < now and state.status != PaymentStatus.COMPLETE):
        if state.status == PaymentStatus.OPEN:
            gateway.cancel_payment(checkout.stripe_session_id)
        if orders.release_checkout(checkout, S.EXPIRED, "reconcile"):
            counts["released"] += 1
    else:
        counts["unpaid"] += 1


def _reconcile_refund(refund: Refund, counts: dict) -> None:
    if orders.apply_refund_result(refund, registry.get(refund.method).reconcile_refund(refund.stripe_refund_id).status):
        counts["refunds"] += 1
