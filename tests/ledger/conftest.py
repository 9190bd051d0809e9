"""The ledger tests run with Stripe configured against the local fake Stripe server (no network), and
with two tiny test-only platform-collected gateways standing in for VietQR and VNPay."""
import pytest

from marketplace.payments import registry
from tests.ledger.helpers import FakePlatformGateway
from tests.payments.conftest import WEBHOOK_SECRET, fake_stripe  # noqa: F401  (the fixture, re-used here)


@pytest.fixture
def app_overrides(fake_stripe):  # noqa: F811
    return {"STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_PUBLISHABLE_KEY": "pk_test_fake",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def platform_gateways(monkeypatch):
    """'vietqr' and 'vnpay' as registered methods whose collector is the platform (they replace h14pay's
    real gateways for these tests, if those are registered): the ledger must book them from ``collector``
    alone."""
    gateways = {name: FakePlatformGateway(name) for name in ("vietqr", "vnpay")}
    for name, gateway in gateways.items():
        monkeypatch.setitem(registry._BY_ID, name, gateway)
    monkeypatch.setattr(registry, "METHODS", tuple(m for m in registry.METHODS if m.identifier not in gateways)
                        + tuple(gateways.values()))
    return gateways
