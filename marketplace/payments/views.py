"""Stripe webhook (raw body signature, CSRF-exempt) and the success page (never marks paid by itself)."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import jsonify, redirect, render_template, request

from marketplace.accounts.permissions import public
from marketplace.extensions import csrf, db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, ProcessedEvent
from marketplace.payments import bp, services, stripe_gateway

log = logging.getLogger(__name__)


@bp.route("/payments/stripe/webhook", methods=["POST"])
@public
def webhook():
    try:
        event = stripe_gateway.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except stripe_gateway.SignatureError as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return jsonify({"error": "invalid signature"}), 400
    try:
        outcome = services.handle_event(event)
        db.session.commit()
    except services.DuplicateEvent:
        db.session.rollback()
        return jsonify({"received": True, "duplicate": True}), 200
    except Exception:
        db.session.rollback()
        # Stripe retries non-2xx; the processed-event row was rolled back with the change.
        if db.session.get(ProcessedEvent, str(event["id"])[:255]) is not None:
            return jsonify({"received": True, "duplicate": True}), 200
        log.exception("Stripe webhook %s failed", event.get("id"))
        return jsonify({"error": "retry"}), 500
    log.info("Stripe event %s %s: %s", event.get("id"), event.get("type"), outcome)
    return jsonify({"received": True, "outcome": outcome}), 200


csrf.exempt(webhook)


@bp.route("/checkout/success")
@public
def success():
    """Where Stripe sends the shopper back. Paid only if a server-side retrieve of the session says so."""
    session_id = (request.args.get("session_id") or "")[:255]
    checkout = db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == session_id)) if session_id else None
    if checkout is None:
        return render_template("payments/unknown.html"), 404
    if stripe_gateway.enabled() and any(o.status == "pending_payment" for o in checkout.orders):
        try:
            services.settle_session(stripe_gateway.retrieve_session(session_id), label="success_page")
            db.session.commit()
        except stripe_gateway.PaymentGatewayError:
            db.session.rollback()
    return redirect(orders.checkout_url(checkout), 303)
