"""Card payments through Stripe Checkout: the ``StripeCheckout`` payment method (see ``gateway.py``) over
a thin adapter around ``StripeClient`` (stripe 16). The only module that imports ``stripe``.

Money is int đồng (VND is zero-decimal: never ×100); Stripe errors come back as ``PaymentGatewayError``
(a DomainError the pages can show). Enabled when ``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` are set."""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

import stripe
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.core.money import to_minor_unit
from marketplace.errors import Conflict
from marketplace.payments.gateway import (
    Collector,
    EventKind,
    PaymentEvent,
    PaymentGatewayError,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    PaymentStatus,
    RefundRequest,
    RefundResult,
    RefundState,
    SignatureError,
    external_url,
)

SIGNATURE_TOLERANCE = 300  # seconds; the SDK checks only the past, we also refuse the future
# Stock is held this long for a card payment; the session's expires_at is the same moment (Stripe needs
# ≥ 30 min after the session's creation, which follows the checkout within seconds).
STOCK_HOLD = timedelta(minutes=32)
_EPOCH = datetime(1970, 1, 1)


def enabled(config: Mapping | None = None) -> bool:
    cfg = current_app.config if config is None else config
    return bool(cfg["STRIPE_SECRET_KEY"] and cfg["STRIPE_WEBHOOK_SECRET"])


def _client() -> stripe.StripeClient:
    cfg = current_app.config
    kwargs = {"max_network_retries": 2}
    if cfg["STRIPE_API_BASE"]:
        kwargs["base_addresses"] = {"api": cfg["STRIPE_API_BASE"]}
    return stripe.StripeClient(cfg["STRIPE_SECRET_KEY"], **kwargs)


def _error(exc: stripe.StripeError) -> PaymentGatewayError:
    retryable = isinstance(exc, (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError))
    message = (_("Cổng thanh toán đang bận hoặc không phản hồi. Vui lòng thử lại sau ít phút.") if retryable
               else _("Cổng thanh toán từ chối yêu cầu."))
    return PaymentGatewayError(message, details={"stripe_code": getattr(exc, "code", None), "retryable": retryable})


def create_checkout_session(*, lines: list[dict], metadata: dict, client_reference_id: str, success_url: str,
                            cancel_url: str, expires_at: int, idempotency_key: str, customer_email: str | None,
                            currency: str = "vnd") -> dict:
    """lines: [{"name", "unit_amount" (int đồng), "quantity", "metadata"}] — one per order line."""
    params = {
        "mode": "payment",
        "line_items": [{
            "quantity": int(line["quantity"]),
            "price_data": {"currency": currency.lower(), "unit_amount": to_minor_unit(line["unit_amount"]),
                           "product_data": {"name": line["name"][:250], "metadata": line.get("metadata", {})}},
        } for line in lines],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "client_reference_id": client_reference_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at),
    }
    if customer_email:
        params["customer_email"] = customer_email
    try:
        session = _client().v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _error(exc) from exc
    return session.to_dict()


def retrieve_session(session_id: str) -> dict:
    try:
        return _client().v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            raise PaymentGatewayError(_("Không tìm thấy phiên thanh toán."), details={"not_found": True}) from exc
        raise _error(exc) from exc
    except stripe.StripeError as exc:
        raise _error(exc) from exc


def expire_session(session_id: str) -> dict:
    try:
        return _client().v1.checkout.sessions.expire(session_id).to_dict()
    except stripe.StripeError as exc:
        raise _error(exc) from exc


def create_refund(payment_intent: str, amount: int, idempotency_key: str, metadata: dict) -> dict:
    params = {"payment_intent": payment_intent, "amount": to_minor_unit(amount), "reason": "requested_by_customer",
              "metadata": metadata}
    try:
        return _client().v1.refunds.create(params, {"idempotency_key": idempotency_key}).to_dict()
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "code", None) == "charge_already_refunded":
            raise PaymentGatewayError(_("Khoản thanh toán đã được hoàn hết."), details={"stripe_code": exc.code}) from exc
        raise _error(exc) from exc
    except stripe.StripeError as exc:
        raise _error(exc) from exc


def retrieve_refund(refund_id: str) -> dict:
    try:
        return _client().v1.refunds.retrieve(refund_id).to_dict()
    except stripe.StripeError as exc:
        raise _error(exc) from exc


def parse_webhook(payload: bytes, signature_header: str | None) -> dict:
    """Verify ``Stripe-Signature`` over the raw body, then decode it. Raises SignatureError."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret or not signature_header:
        raise SignatureError("missing signature or secret")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance=SIGNATURE_TOLERANCE)
    except (UnicodeDecodeError, stripe.SignatureVerificationError, ValueError) as exc:
        raise SignatureError(str(exc)) from exc
    stamps = [part[2:] for part in signature_header.split(",") if part.startswith("t=")]
    if not stamps or int(stamps[0]) > time.time() + SIGNATURE_TOLERANCE:
        raise SignatureError("timestamp in the future")
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise SignatureError("invalid JSON") from exc
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise SignatureError("not an event")
    return event


# --- the payment method ------------------------------------------------------------------------------

_SESSION_EVENTS = {
    "checkout.session.completed": EventKind.PAYMENT,
    "checkout.session.async_payment_succeeded": EventKind.PAYMENT,
    "checkout.session.async_payment_failed": EventKind.PAYMENT_FAILED,
    "checkout.session.expired": EventKind.PAYMENT_EXPIRED,
}
_REFUND_EVENTS = ("charge.refunded", "refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


def payment_state(session: dict) -> PaymentState:
    """A Checkout Session as the site's PaymentState."""
    raw = (session.get("metadata") or {}).get("checkout_id")
    intent = session.get("payment_intent")
    return PaymentState(
        session_id=session.get("id"), checkout_id=int(raw) if raw and str(raw).isdigit() else None,
        status=str(session.get("status") or PaymentStatus.OPEN), paid=session.get("payment_status") == "paid",
        amount=session.get("amount_total"), currency=(session.get("currency") or "").lower() or None,
        payment_id=intent if isinstance(intent, str) or intent is None else intent.get("id"))


def refund_result(data: dict) -> RefundResult:
    """A Stripe refund object as the site's RefundResult (failed and canceled are both FAILED)."""
    status = data.get("status")
    state = (RefundState.SUCCEEDED if status == "succeeded"
             else RefundState.FAILED if status in ("failed", "canceled") else RefundState.PENDING)
    return RefundResult(refund_id=data.get("id"), status=state, payment_id=data.get("payment_intent"),
                        amount=data.get("amount"), currency=data.get("currency"), provider_status=status)


class StripeCheckout:
    """Card payments through Stripe Checkout (hosted page, webhook, reconcile by retrieve)."""

    identifier = "stripe"
    label = _l("Thẻ ngân hàng / thẻ quốc tế (Stripe)")
    prepaid = True
    collector = Collector.PLATFORM  # the buyer pays the platform; it owes the shop
    itemised = True  # Stripe's page lists the lines
    stock_hold = STOCK_HOLD

    def enabled(self, config: Mapping) -> bool:
        return enabled(config)

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        session = create_checkout_session(
            lines=[{"name": line.name, "unit_amount": line.unit_amount, "quantity": line.quantity,
                    "metadata": line.metadata} for line in request.lines],
            metadata=request.metadata, client_reference_id=f"checkout-{request.checkout_id}",
            success_url=external_url("payments.success") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.cancel_url, expires_at=int((request.expires_at - _EPOCH).total_seconds()),
            idempotency_key=request.idempotency_key, customer_email=request.email, currency=request.currency)
        return PaymentStart(redirect_url=session["url"], session_id=session["id"])

    def refund(self, request: RefundRequest) -> RefundResult:
        if not request.payment_id:
            raise Conflict(_("Chưa có mã thanh toán Stripe cho đơn này."))
        data = create_refund(request.payment_id, request.amount, request.idempotency_key,
                             {"order_id": str(request.order_id), "vendor_id": str(request.shop_id),
                              "checkout_id": str(request.checkout_id)})
        return refund_result(data)

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        event = parse_webhook(payload, headers.get("Stripe-Signature"))
        kind = event.get("type")
        obj = ((event.get("data") or {}).get("object")) or {}
        base = {"id": str(event["id"]), "type": str(kind)}
        if kind in _SESSION_EVENTS:
            return PaymentEvent(kind=_SESSION_EVENTS[kind], payment=payment_state(obj), **base)
        if kind in _REFUND_EVENTS:
            refunds = []
            if obj.get("object") == "refund":
                refunds = [obj]
            elif obj.get("object") == "charge":
                refunds = (obj.get("refunds") or {}).get("data") or []
            return PaymentEvent(kind=EventKind.REFUND, refunds=tuple(refund_result(r) for r in refunds), **base)
        return PaymentEvent(kind=EventKind.IGNORED, **base)

    def reconcile_payment(self, session_id: str) -> PaymentState:
        return payment_state(retrieve_session(session_id))

    def cancel_payment(self, session_id: str) -> None:
        expire_session(session_id)

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        return refund_result(retrieve_refund(refund_id))
