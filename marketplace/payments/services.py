"""Card payments: start a Stripe Checkout Session for a checkout, settle sessions (webhook, success-page
retrieve, reconcile — all the same idempotent code), and apply webhook events exactly once."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import force_locale, gettext as _
from sqlalchemy.exc import IntegrityError

from marketplace.core.audit import record
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import (
    Checkout,
    Order,
    OrderStatus as S,
    PaymentMethod,
    ProcessedEvent,
    Refund,
    RefundStatus,
)
from marketplace.payments import stripe_gateway

log = logging.getLogger(__name__)


class DuplicateEvent(Exception):
    pass


def start_session(checkout: Checkout) -> dict:
    """Create (or, with the same idempotency key, get back) the checkout's Stripe session."""
    lines = [{"name": f"{line.title} – {line.variant_name}", "unit_amount": line.unit_price,
              "quantity": line.quantity,
              "metadata": {"listing_id": str(line.product_id or ""), "vendor_id": str(line.shop_id),
                           "order_id": str(line.order_id)}}
             for order in checkout.orders for line in order.lines]
    # In the checkout's language, not the request's: a retry under the same idempotency key must send
    # the same parameters, whichever language the shopper has switched to since.
    with force_locale(checkout.locale or "vi"):
        for order in checkout.orders:
            if order.shipping_fee:
                lines.append({"name": _("Phí vận chuyển – %(shop)s", shop=order.shop.name),
                              "unit_amount": order.shipping_fee, "quantity": 1,
                              "metadata": {"vendor_id": str(order.shop_id), "order_id": str(order.id)}})
    metadata = {"checkout_id": str(checkout.id), "order_ids": ",".join(str(o.id) for o in checkout.orders)}
    session = stripe_gateway.create_checkout_session(
        lines=lines, metadata=metadata, client_reference_id=f"checkout-{checkout.id}",
        success_url=orders.external_url("payments.success") + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=orders.checkout_url(checkout),
        expires_at=int((checkout.hold_expires_at - _epoch()).total_seconds()),
        idempotency_key=f"checkout-{checkout.token}", customer_email=checkout.email,
    )
    if checkout.stripe_session_id != session["id"]:
        checkout.stripe_session_id = session["id"]
        db.session.flush()
    return session


def _epoch():
    from datetime import datetime

    return datetime(1970, 1, 1)


def _checkout_for(session: dict) -> Checkout | None:
    metadata = session.get("metadata") or {}
    checkout = None
    raw = metadata.get("checkout_id")
    if raw and str(raw).isdigit():
        checkout = db.session.get(Checkout, int(raw))
    if checkout is None and session.get("id"):
        checkout = db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == session["id"]))
    if checkout is not None and checkout.stripe_session_id not in (None, session.get("id")):
        return None  # a session that is not this checkout's
    return checkout


def settle_session(session: dict, label: str = "stripe") -> str:
    """Mark a checkout's orders paid when Stripe says the session is paid and the amount matches.
    Safe to run repeatedly and concurrently (conditional updates). Returns what happened."""
    checkout = _checkout_for(session)
    if checkout is None or checkout.payment_method != PaymentMethod.STRIPE:
        log.warning("Stripe session %s matches no checkout here; acknowledged", session.get("id"))
        return "unknown"
    if session.get("payment_intent") and not checkout.payment_intent_id:
        pi = session["payment_intent"]
        checkout.payment_intent_id = pi if isinstance(pi, str) else pi.get("id")
    if session.get("payment_status") != "paid":
        db.session.flush()
        return "unpaid"
    if session.get("amount_total") != checkout.total or (session.get("currency") or "").lower() != "vnd":
        note = f"Stripe amount {session.get('amount_total')} {session.get('currency')} ≠ order total {checkout.total} vnd"
        log.error("amount mismatch on checkout %s: %s", checkout.id, note)
        for order in checkout.orders:
            orders.transition(order, (S.PENDING_PAYMENT, S.EXPIRED), S.NEEDS_REVIEW, None, label="stripe",
                              note=note, review_note=note, mail=False)
        return "mismatch"
    now = utcnow()
    result = "already"
    for order in checkout.orders:
        if orders.transition(order, (S.PENDING_PAYMENT,), S.PAID, None, label=label, paid_at=now,
                             commission=orders.commission_for(order)):
            result = "paid"
            if (order.refunded_amount or 0) >= order.total:  # a refund event got here first
                orders.transition(order, (S.PAID,), S.REFUNDED, None, label="refund")
        elif orders.transition(order, (S.EXPIRED, S.CANCELLED), S.NEEDS_REVIEW, None, label=label, paid_at=now,
                               commission=orders.commission_for(order), mail=False,
                               review_note="Thanh toán đến sau khi giữ hàng đã hết hạn: hoàn tiền hoặc phân bổ lại hàng.",
                               note="paid after the stock hold ended"):
            log.error("checkout %s paid after its hold ended: order %s needs review", checkout.id, order.id)
            result = "needs_review"
    return result


def _expire(session: dict, to_state: str, label: str) -> str:
    checkout = _checkout_for(session)
    if checkout is None:
        log.warning("Stripe session %s matches no checkout here; acknowledged", session.get("id"))
        return "unknown"
    released = orders.release_checkout(checkout, to_state, label)
    return "released" if released else "noop"


def _refund_event(obj: dict, kind: str) -> str:
    refunds = []
    if obj.get("object") == "refund":
        refunds = [obj]
    elif obj.get("object") == "charge":
        refunds = (obj.get("refunds") or {}).get("data") or []
    outcome = "noop"
    for data in refunds:
        refund = db.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == data.get("id")))
        if refund is None:
            _record_unmatched_refund(data)
            outcome = "unknown"
            continue
        status = data.get("status")
        if _apply_refund_status(refund, status):
            outcome = "succeeded" if status == "succeeded" else "failed"
    return outcome


UNMATCHED_REFUND = "payment.refund_unmatched"


def _record_unmatched_refund(data: dict) -> None:
    """A refund Stripe knows and we don't (made in the Dashboard?): one payment can cover several shops'
    orders, so it is not booked against any of them; it is listed for an admin on /admin/payments."""
    refund_id = str(data.get("id") or "")[:40]
    log.warning("Stripe refund %s is not one of ours (made in the Dashboard?): needs review", refund_id)
    intent = data.get("payment_intent")
    checkout_id = db.session.scalar(sa.select(Checkout.id).where(Checkout.payment_intent_id == intent)) if intent else None
    record(None, UNMATCHED_REFUND, "stripe_refund", refund_id,
           after={"amount": data.get("amount"), "currency": data.get("currency"), "status": data.get("status"),
                  "payment_intent": intent, "checkout_id": checkout_id})


def _apply_refund_status(refund: Refund, status: str | None) -> bool:
    """Stripe's final word on one of our refunds; True when it changed something here (once)."""
    if status == "succeeded":
        return orders.mark_refund_succeeded(refund)
    if status in ("failed", "canceled"):
        return orders.mark_refund_failed(refund)
    return False


def handle_event(event: dict) -> str:
    """Apply one verified event. Its id is stored under a primary key in the same transaction, so a
    duplicate (even concurrent) delivery raises DuplicateEvent and changes nothing."""
    db.session.add(ProcessedEvent(id=str(event["id"])[:255], type=str(event.get("type"))[:80]))
    try:
        db.session.flush()
    except IntegrityError:
        raise DuplicateEvent(event["id"]) from None
    kind = event.get("type")
    obj = ((event.get("data") or {}).get("object")) or {}
    if kind == "checkout.session.completed":
        return settle_session(obj)
    if kind == "checkout.session.async_payment_succeeded":
        return settle_session(obj)
    if kind == "checkout.session.async_payment_failed":
        return _expire(obj, S.CANCELLED, "stripe")
    if kind == "checkout.session.expired":
        return _expire(obj, S.EXPIRED, "stripe")
    if kind in ("charge.refunded", "refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
        return _refund_event(obj, kind)
    return "ignored"


def reconcile(now=None) -> dict:
    """Settle what webhooks missed: retrieve every pending card checkout's session from Stripe (paid →
    orders paid; expired or past the stock hold → stock released), then every card refund still pending
    (succeeded → booked; failed or canceled → the amount is refundable again). One commit per item."""
    now = now or utcnow()
    counts = {"paid": 0, "released": 0, "unpaid": 0, "refunds": 0, "errors": 0}
    pending = db.session.scalars(
        sa.select(Checkout).where(Checkout.payment_method == PaymentMethod.STRIPE,
                                  Checkout.id.in_(sa.select(Order.checkout_id).where(Order.status == S.PENDING_PAYMENT)))
        .order_by(Checkout.id)
    ).all()
    _each(pending, lambda checkout: _reconcile_checkout(checkout, now, counts), counts, "checkout")
    pending_refunds = db.session.scalars(
        sa.select(Refund).where(Refund.status == RefundStatus.PENDING, Refund.stripe_refund_id.is_not(None))
        .order_by(Refund.id)
    ).all()
    _each(pending_refunds, lambda refund: _reconcile_refund(refund, counts), counts, "refund")
    return counts


def _each(items, settle, counts: dict, what: str) -> None:
    for item in items:
        try:
            settle(item)
            db.session.commit()
        except stripe_gateway.PaymentGatewayError:
            db.session.rollback()
            log.exception("reconcile: %s %s", what, item.id)
            counts["errors"] += 1


def _reconcile_checkout(checkout: Checkout, now, counts: dict) -> None:
    if not checkout.stripe_session_id:
        if checkout.hold_expires_at and checkout.hold_expires_at < now:
            if orders.release_checkout(checkout, S.EXPIRED, "reconcile", note="no Stripe session was created"):
                counts["released"] += 1
        return
    session = stripe_gateway.retrieve_session(checkout.stripe_session_id)
    if settle_session(session, label="reconcile") == "paid":
        counts["paid"] += 1
    elif session.get("status") == "expired" or (
            checkout.hold_expires_at and checkout.hold_expires_at < now and session.get("status") != "complete"):
        if session.get("status") == "open":
            stripe_gateway.expire_session(checkout.stripe_session_id)
        if orders.release_checkout(checkout, S.EXPIRED, "reconcile"):
            counts["released"] += 1
    else:
        counts["unpaid"] += 1


def _reconcile_refund(refund: Refund, counts: dict) -> None:
    if _apply_refund_status(refund, stripe_gateway.retrieve_refund(refund.stripe_refund_id).get("status")):
        counts["refunds"] += 1
