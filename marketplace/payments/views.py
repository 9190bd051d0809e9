"""Provider callbacks: the Stripe webhook (raw body signature, CSRF-exempt) and the return page (which
never marks paid by itself: it asks the provider). Both reach the provider only through its gateway."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, request

from marketplace.accounts.permissions import public
from marketplace.core import uow
from marketplace.extensions import csrf, db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, OrderStatus
from marketplace.payments import bp, registry, services
from marketplace.payments.gateway import PaymentGatewayError, SignatureError

log = logging.getLogger(__name__)


@bp.route("/payments/stripe/webhook", methods=["POST"])
@public
def stripe_webhook():
    gateway = registry.get("stripe")
    try:
        event = gateway.parse_webhook(request.get_data(), request.headers)
    except SignatureError as exc:
        log.warning("rejected %s webhook: %s", gateway.identifier, exc)
        return jsonify({"error": "invalid signature"}), 400
    with uow.field_errors() as outcome:
        result = services.handle_event(gateway, event)
    if isinstance(outcome.error, services.DuplicateEvent):  # rolled back: applied once already
        return jsonify({"received": True, "duplicate": True}), 200
    if outcome.error is not None:  # rolled back (the event id too): a 500, so the provider delivers it again
        log.error("%s event %s %s not processed: %r", gateway.identifier, event.id, event.type, outcome.error)
        return jsonify({"error": "not processed"}), 500
    # Any other exception escapes: the unit of work rolls back and the app answers 500 as well.
    log.info("%s event %s %s: %s", gateway.identifier, event.id, event.type, result)
    return jsonify({"received": True, "outcome": result}), 200


csrf.exempt(stripe_webhook)


@bp.route("/checkout/success")
@public
def success():
    """Where Stripe sends the shopper back. Paid only if a server-side retrieve of the session says so."""
    session_id = (request.args.get("session_id") or "")[:255]
    checkout = db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == session_id)) if session_id else None
    if checkout is None:
        return render_template("payments/unknown.html"), 404
    gateway = registry.get(checkout.payment_method)
    if gateway.enabled(current_app.config) and any(o.status == OrderStatus.PENDING_PAYMENT for o in checkout.orders):
        with uow.field_errors() as outcome:  # the provider unreachable: the webhook or reconcile settles it
            services.settle_payment(gateway, gateway.reconcile_payment(session_id), label="success_page")
        if outcome.error is not None and not isinstance(outcome.error, PaymentGatewayError):
            raise outcome.error
    return redirect(orders.checkout_url(checkout), 303)
