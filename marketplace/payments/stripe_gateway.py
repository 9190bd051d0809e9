"""The only module that imports ``stripe``. A thin adapter around ``StripeClient`` (stripe 16):
money is int đồng (VND is zero-decimal: never ×100), ids and dicts go out, Stripe errors come back
as ``PaymentGatewayError`` (a DomainError the pages can show)."""
from __future__ import annotations

import json
import time

import stripe
from flask import current_app
from flask_babel import gettext as _

from marketplace.core.money import to_minor_unit
from marketplace.errors import DomainError

SIGNATURE_TOLERANCE = 300  # seconds; the SDK checks only the past, we also refuse the future


class PaymentGatewayError(DomainError):
    status_code = 502
    code = "payment_gateway_error"


class SignatureError(Exception):
    pass


def enabled() -> bool:
    cfg = current_app.config
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
