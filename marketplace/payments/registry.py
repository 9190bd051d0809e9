"""The payment methods this site has, registered here and only here (the order is the checkout's order).
Adding one = its module in ``payments/`` plus one line in ``METHODS`` (see ``gateway.py``)."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from marketplace.errors import InvalidInput
from marketplace.payments.cod import CashOnDelivery
from marketplace.payments.gateway import PaymentGateway
from marketplace.payments.stripe_gateway import StripeCheckout
from marketplace.payments.vietqr import VietQRTransfer
from marketplace.payments.vnpay import VNPayCheckout

METHODS: tuple[PaymentGateway, ...] = (
    CashOnDelivery(),
    VietQRTransfer(),
    VNPayCheckout(),
    StripeCheckout(),
)
DEFAULT = METHODS[0].identifier  # cash on delivery: always enabled
_BY_ID = {m.identifier: m for m in METHODS}


def get(identifier: str | None) -> PaymentGateway:
    """The registered method with this identifier; InvalidInput for anything else."""
    gateway = _BY_ID.get(identifier or "")
    if gateway is None:
        raise InvalidInput(_("Phương thức thanh toán không hợp lệ."), field="payment_method")
    return gateway


def enabled(config: Mapping) -> list[PaymentGateway]:
    """The methods checkout offers with this configuration, cash on delivery first."""
    return [m for m in METHODS if m.enabled(config)]
