"""The payment gateway seam (Saleor's shape): what a payment method does, in the site's own terms.

Orders talk to a payment method only through :class:`PaymentGateway` — found by its identifier in
``marketplace.payments.registry`` — and never import a provider module. A gateway speaks the
provider's protocol and answers with the neutral values below (int đồng, ids, states); it changes
no order itself. What an outcome means for the orders (paid, expired, refunded…) is decided in one
place, ``marketplace.payments.services`` (webhooks, return pages, reconcile) and
``marketplace.orders.services`` (checkout, refunds), through ``orders.services.transition``.

Adding a payment method (the next ones are VietQR and VNPay):

1. write ``marketplace/payments/<name>.py`` with a class that has every member of
   :class:`PaymentGateway` (``identifier`` is what ``checkouts.payment_method``, ``orders.payment_method``
   and ``refunds.method`` store: at most 16 characters, never renamed once used; ``collector`` says who
   holds the buyer's money, ``Collector.PLATFORM`` or ``Collector.SHOP``: the shop ledger books its sales and
   refunds from it);
2. register an instance with one line in ``METHODS`` in ``marketplace/payments/registry.py`` (the order
   there is the order shoppers see at checkout);
3. if the provider calls back (webhook, IPN, return page), add its route to ``payments/views.py``: verify
   with ``gateway.parse_webhook`` and hand the event to ``services.handle_event`` — or, for a return
   page, ``gateway.reconcile_payment`` then ``services.settle_payment``;
4. its settings go in ``config.py`` (with embedded defaults) and ``enabled(config)`` reads them there.

Nothing in ``orders/`` changes: checkout offers every enabled method (cash on delivery is always
there and is the default), prepaid methods hold stock for ``stock_hold`` and send the shopper to
``start_payment(...).redirect_url``; cancelling a paid order refunds through ``refund``; ``flask
payments reconcile`` asks every gateway about its pending sessions and refunds.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from flask import current_app, has_request_context, url_for

from marketplace.errors import DomainError


def external_url(endpoint: str, **values) -> str:
    """An absolute URL, also outside a request (CLI, webhooks in threads): SITE_URL is the base.
    Gateways build their return URLs with it; orders build the checkout's page with it."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
        return url_for(endpoint, _external=True, **values)


class PaymentGatewayError(DomainError):
    """The provider refused or did not answer; ``details["retryable"]`` says whether to try again."""

    status_code = 502
    code = "payment_gateway_error"


class SignatureError(Exception):
    """A webhook or callback whose signature, timestamp or body does not verify."""


# Payment and refund states, as every gateway reports them.
class PaymentStatus:
    OPEN = "open"            # the shopper may still pay
    COMPLETE = "complete"    # the session ended with a payment (see ``paid``) or one on its way
    EXPIRED = "expired"      # the session ended unpaid


class RefundState:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"        # failed or cancelled at the provider


class Collector:
    PLATFORM = "platform"
    SHOP = "shop"
    CHOICES = (PLATFORM, SHOP)


class EventKind:
    PAYMENT = "payment"                  # a session reached a state: settle it
    PAYMENT_FAILED = "payment_failed"    # the payment failed: release the held stock (cancelled)
    PAYMENT_EXPIRED = "payment_expired"  # the session expired unpaid: release the held stock (expired)
    REFUND = "refund"                    # the provider's word on one or more refunds
    IGNORED = "ignored"


@dataclass(frozen=True)
class PaymentLine:
    name: str
    unit_amount: int  # int đồng
    quantity: int
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentRequest:
    """One checkout to be paid. ``idempotency_key`` is the same for every retry of this checkout, and
    the lines are built in the checkout's language, so a retry sends the same parameters."""

    checkout_id: int
    amount: int  # int đồng, the sum of the lines
    currency: str
    lines: tuple[PaymentLine, ...]
    email: str | None
    expires_at: datetime  # naive UTC: the end of the stock hold
    idempotency_key: str
    cancel_url: str  # where the shopper goes back to (the checkout's page)
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentStart:
    redirect_url: str  # where the shopper pays
    session_id: str    # the provider's id for this payment session (stored on the checkout)


@dataclass(frozen=True)
class PaymentState:
    """What the provider says about one payment session."""

    session_id: str | None
    checkout_id: int | None  # from the session's own metadata, when it carries it
    status: str              # PaymentStatus
    paid: bool
    amount: int | None       # int đồng
    currency: str | None     # lower case
    payment_id: str | None   # the provider's payment id (refunds are made against it)


@dataclass(frozen=True)
class RefundRequest:
    order_id: int
    shop_id: int
    checkout_id: int
    payment_id: str | None  # the checkout's payment id at the provider
    amount: int             # int đồng
    idempotency_key: str


@dataclass(frozen=True)
class RefundResult:
    """The provider's word on one refund (``refund_id`` None: a refund made by hand, e.g. cash on delivery)."""

    refund_id: str | None
    status: str  # RefundState
    payment_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    provider_status: str | None = None  # the provider's own word (for the audit log)


@dataclass(frozen=True)
class PaymentEvent:
    """One verified webhook / callback."""

    id: str    # the provider's event id: applied once (processed_events)
    type: str  # the provider's own event type, for logs
    kind: str  # EventKind
    payment: PaymentState | None = None
    refunds: tuple[RefundResult, ...] = ()


@runtime_checkable
class PaymentGateway(Protocol):
    """What a payment method does. Implementations: ``cod.CashOnDelivery``, ``stripe_gateway.StripeCheckout``."""

    identifier: str   # stored on checkouts, orders and refunds
    label: str        # what the shopper picks at checkout (a lazy string)
    prepaid: bool     # paid before shipping (orders wait in pending_payment); False: paid on delivery
    # Who holds the buyer's money: "platform" (card, VietQR, VNPay: the platform collects and owes the shop)
    # or "shop" (cash on delivery: the shop collects and owes the platform its commission). The shop
    # ledger (``marketplace.ledger``) books every sale and refund from this, never from the identifier.
    collector: str
    stock_hold: timedelta | None  # prepaid: how long stock is held for the payment
    # The provider lists the checkout's lines (Stripe's page): ``PaymentRequest.lines`` is filled. False: the
    # provider takes one amount (VietQR, VNPay) and the lines are not built (no loads on the checkout path).
    itemised: bool

    def enabled(self, config: Mapping) -> bool:
        """Offered at checkout with this app configuration."""

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Open (or, under the same idempotency key, get back) the payment session. Prepaid methods only."""

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund ``request.amount`` of a paid checkout (the result may still be pending)."""

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        """Verify and decode a callback from the provider. Raises SignatureError."""

    def reconcile_payment(self, session_id: str) -> PaymentState:
        """Ask the provider about a payment session (reconcile, return pages)."""

    def cancel_payment(self, session_id: str) -> None:
        """End an open session whose stock hold has passed, so that it can no longer be paid."""

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        """Ask the provider about a pending refund (reconcile)."""
