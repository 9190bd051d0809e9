"""A test-only prepaid gateway collected by the platform (stands in for VietQR / VNPay)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.ledger.models import LedgerLine
from marketplace.payments import services as payments
from marketplace.payments.gateway import (
    Collector,
    EventKind,
    PaymentEvent,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    PaymentStatus,
    RefundRequest,
    RefundResult,
    RefundState,
    SignatureError,
)


class FakePlatformGateway:
    prepaid = True
    collector = Collector.PLATFORM
    itemised = False
    stock_hold = timedelta(hours=24)

    def __init__(self, identifier: str):
        self.identifier = identifier
        self.label = f"test {identifier}"
        self.refunds: list[RefundRequest] = []

    def enabled(self, config: Mapping) -> bool:
        return True

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        return PaymentStart(redirect_url=f"http://127.0.0.1/pay/{request.checkout_id}",
                            session_id=f"{self.identifier}-{request.checkout_id}")

    def refund(self, request: RefundRequest) -> RefundResult:
        self.refunds.append(request)
        return RefundResult(refund_id=f"{self.identifier}-{request.idempotency_key}", status=RefundState.SUCCEEDED)

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        raise SignatureError("test gateway")

    def reconcile_payment(self, session_id: str) -> PaymentState:
        raise TypeError("test gateway")

    def cancel_payment(self, session_id: str) -> None:
        return None

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        return RefundResult(refund_id=refund_id, status=RefundState.SUCCEEDED)

    def pay(self, checkout, event_id: str | None = None) -> str:
        """The provider's signed notice that the checkout is paid in full, through handle_event."""
        state = PaymentState(session_id=None, checkout_id=checkout.id, status=PaymentStatus.COMPLETE, paid=True,
                             amount=checkout.total, currency="vnd", payment_id=f"{self.identifier}-pay-{checkout.id}")
        event = PaymentEvent(id=event_id or f"{self.identifier}-evt-{checkout.id}", type="paid",
                             kind=EventKind.PAYMENT, payment=state)
        return payments.handle_event(self, event)


def lines_of(shop_id: int) -> list[tuple[str, str, int]]:
    """(kind, entry-prefix, effect on the balance) of every line of a shop, in order."""
    rows = db.session.scalars(sa.select(LedgerLine).where(LedgerLine.shop_id == shop_id).order_by(LedgerLine.id))
    return [(line.kind, line.method or "", line.effect) for line in rows]
