"""Cash on delivery: nothing to start, no callbacks; the order counts as paid when it is delivered, and
a refund is recorded at once and transferred by hand (bank transfer)."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from marketplace.payments.gateway import (
    Collector,
    PaymentEvent,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    RefundRequest,
    RefundResult,
    RefundState,
    SignatureError,
)


class CashOnDelivery:
    identifier = "cod"
    label = _l("Thanh toán khi nhận hàng (COD)")
    prepaid = False
    collector = Collector.SHOP  # the shop takes the cash; it owes the platform the commission
    itemised = False  # no payment session
    stock_hold = None

    def enabled(self, config: Mapping) -> bool:
        return True  # always offered, and the default

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        raise TypeError("cash on delivery has no payment to start")

    def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(refund_id=None, status=RefundState.SUCCEEDED)  # recorded now, transferred by hand

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        raise SignatureError("cash on delivery has no callbacks")

    def reconcile_payment(self, session_id: str) -> PaymentState:
        raise TypeError("cash on delivery has no payment sessions")

    def cancel_payment(self, session_id: str) -> None:
        raise TypeError("cash on delivery has no payment sessions")

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        return RefundResult(refund_id=refund_id, status=RefundState.SUCCEEDED)
