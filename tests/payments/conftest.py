"""The app configured for Stripe, pointed at a local fake Stripe server (no network)."""
import pytest

from tests.payments.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def fake_stripe():
    fake = FakeStripe().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def app_overrides(fake_stripe):
    return {"STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_PUBLISHABLE_KEY": "pk_test_fake",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": fake_stripe.url}
