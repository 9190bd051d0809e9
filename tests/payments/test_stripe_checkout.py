"""Stripe Checkout through the real SDK against the local fake: session shape, idempotency (T-S7, T-W9),
success page (T-W10), money type (T-W13), reconcile."""
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.payments import stripe_gateway
from tests.orders.helpers import two_shop_products
from tests.payments.helpers import card_checkout, statuses


def _session_posts(fake):
    return [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def test_card_checkout_creates_one_vnd_session(client, fake_stripe):
    vase, scarf = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 2), (scarf.variants[0].id, 1))
    assert r.status_code == 303 and r.headers["Location"].startswith(fake_stripe.url + "/pay/cs_test_")
    assert statuses(checkout) == ["pending_payment", "pending_payment"]
    assert db.session.get(Variant, vase.variants[0].id).stock == 8  # held
    posts = _session_posts(fake_stripe)
    assert len(posts) == 1 and posts[0]["idempotency_key"] == f"checkout-{token}"
    form = parse_qs(posts[0]["body"])
    assert form["line_items[0][price_data][currency]"] == ["vnd"]
    assert form["line_items[0][price_data][unit_amount]"] == ["350000"]  # zero-decimal: never ×100
    assert form["line_items[0][quantity]"] == ["2"]
    assert form["line_items[1][price_data][unit_amount]"] == ["420000"]
    assert form["metadata[checkout_id]"] == [str(checkout.id)]
    assert form["metadata[order_ids]"] == [",".join(str(o.id) for o in checkout.orders)]
    assert form["payment_intent_data[metadata][checkout_id]"] == [str(checkout.id)]
    session = fake_stripe.sessions[checkout.stripe_session_id]
    assert session["amount_total"] == checkout.total == 700_000 + 30_000 + 420_000 + 25_000
    hold = int((checkout.hold_expires_at - __import__("datetime").datetime(1970, 1, 1)).total_seconds())
    assert session["expires_at"] == hold


def test_double_submit_one_session(client, fake_stripe):
    """T-S7 with cards: same token twice → one set of orders, one Checkout Session."""
    vase, _ = two_shop_products()
    r1, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    from tests.orders.helpers import ADDRESS

    r2 = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "stripe"})
    assert r1.headers["Location"] == r2.headers["Location"]
    assert len(fake_stripe.sessions) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_stripe_500_once_is_retried_with_same_key(client, fake_stripe):
    """T-W9: max_network_retries=2 reuses the Idempotency-Key; no duplicate session."""
    vase, _ = two_shop_products()
    fake_stripe.fail_next("POST /v1/checkout/sessions", 500)
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    assert r.status_code == 303 and "/pay/" in r.headers["Location"]
    posts = _session_posts(fake_stripe)
    assert len(posts) == 2 and posts[0]["idempotency_key"] == posts[1]["idempotency_key"] == f"checkout-{token}"
    assert len(fake_stripe.sessions) == 1


def test_stripe_down_shows_retryable_error_then_pay_again(client, fake_stripe):
    vase, _ = two_shop_products()
    for _ in range(3):
        fake_stripe.fail_next("POST /v1/checkout/sessions", 503)
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    assert r.status_code == 303 and "/orders/c/" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Cổng thanh toán đang bận" in page and "Thanh toán" in page
    assert checkout.stripe_session_id is None and len(fake_stripe.sessions) == 0
    link = r.headers["Location"].split("localhost", 1)[-1]
    r2 = client.post(link + "/pay")
    assert r2.status_code == 303 and "/pay/cs_test_" in r2.headers["Location"]
    assert len(fake_stripe.sessions) == 1


def test_success_page_never_marks_paid_by_itself(client, fake_stripe):
    """T-W10."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    assert client.get("/checkout/success?session_id=cs_fake").status_code == 404
    assert client.get(f"/checkout/success?session_id={checkout.stripe_session_id}").status_code == 303
    assert statuses(checkout) == ["pending_payment"]  # the retrieve says unpaid
    fake_stripe.pay(checkout.stripe_session_id)
    client.get(f"/checkout/success?session_id={checkout.stripe_session_id}")
    assert statuses(checkout) == ["paid"]  # decided by the server-side retrieve


def test_money_is_int_dong_only(app):
    """T-W13: a fractional or float amount never reaches Stripe."""
    with app.test_request_context():
        for bad in (150000.5, 150000.0):
            with pytest.raises(TypeError):
                stripe_gateway.create_checkout_session(
                    lines=[{"name": "x", "unit_amount": bad, "quantity": 1}], metadata={}, client_reference_id="c",
                    success_url="http://x/s", cancel_url="http://x/c", expires_at=2_000_000_000,
                    idempotency_key="k", customer_email=None)
        from decimal import Decimal

        with pytest.raises(TypeError):
            stripe_gateway.create_refund("pi_1", Decimal("1.5"), "k", {})


def test_fake_validates_like_stripe(app, fake_stripe):
    """The fake refuses what Stripe refuses, so the app's error handling is real."""
    import time

    with app.test_request_context():
        base = dict(metadata={}, client_reference_id="c", success_url="http://x/s", cancel_url="http://x/c",
                    customer_email=None)
        with pytest.raises(stripe_gateway.PaymentGatewayError):  # expires_at too soon
            stripe_gateway.create_checkout_session(lines=[{"name": "x", "unit_amount": 1000, "quantity": 1}],
                                                   expires_at=int(time.time()) + 600, idempotency_key="a", **base)
        lowered = stripe_gateway.create_checkout_session(lines=[{"name": "x", "unit_amount": 1000, "quantity": 1}],
                                                         expires_at=int(time.time()) + 3600, idempotency_key="b",
                                                         currency="VND", **base)
        assert lowered["currency"] == "vnd"  # the gateway always sends lower case…
        status, payload = fake_stripe.handle(  # …which the fake, like Stripe, insists on
            "POST", "/v1/checkout/sessions",
            f"mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=VND"
            f"&line_items[0][price_data][unit_amount]=1000&line_items[0][price_data][product_data][name]=x"
            f"&expires_at={int(time.time()) + 3600}", "", {"Authorization": "Bearer sk_test_x"})
        assert status == 400 and payload["error"]["code"] == "invalid_currency"
        status, payload = fake_stripe.handle(
            "POST", "/v1/checkout/sessions",
            f"mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=vnd"
            f"&line_items[0][price_data][unit_amount]=1000.5&line_items[0][price_data][product_data][name]=x"
            f"&expires_at={int(time.time()) + 3600}", "", {"Authorization": "Bearer sk_test_x"})
        assert status == 400 and payload["error"]["code"] == "parameter_invalid_integer"
        ok = stripe_gateway.create_checkout_session(lines=[{"name": "x", "unit_amount": 1000, "quantity": 1}],
                                                    expires_at=int(time.time()) + 3600, idempotency_key="c", **base)
        assert ok["amount_total"] == 1000
        with pytest.raises(stripe_gateway.PaymentGatewayError):  # same key, different parameters
            stripe_gateway.create_checkout_session(lines=[{"name": "x", "unit_amount": 2000, "quantity": 1}],
                                                   expires_at=int(time.time()) + 3600, idempotency_key="c", **base)


def test_reconcile_settles_missed_webhooks(client, runner, fake_stripe):
    vase, scarf = two_shop_products()
    _, _, paid = card_checkout(client, (vase.variants[0].id, 1))
    _, _, lapsed = card_checkout(client, (scarf.variants[0].id, 2))
    fake_stripe.pay(paid.stripe_session_id)
    fake_stripe.expire(lapsed.stripe_session_id)
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "paid=1" in result.output and "released=1" in result.output
    assert statuses(paid) == ["paid"] and statuses(lapsed) == ["expired"]
    assert db.session.get(Variant, scarf.variants[0].id).stock == 10
    again = runner.invoke(args=["payments", "reconcile"])
    assert "paid=0" in again.output and "released=0" in again.output


def test_cod_only_without_keys(tmp_path, backend):
    from tests.conftest import make_app
    from tests.orders.helpers import add_to_cart

    app = make_app(tmp_path, backend)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        vase, _ = two_shop_products()
        add_to_cart(client, vase.variants[0].id, 1)
        page = client.get("/checkout").get_data(as_text=True)
        assert 'value="cod"' in page and 'value="stripe"' not in page
        if backend == "postgresql":
            from tests.conftest import truncate_all

            truncate_all()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.skipif(not __import__("config").env_flag("STRIPE_LIVE"),
                    reason="live Stripe test: opt-in with STRIPE_LIVE=1 and STRIPE_SECRET_KEY=sk_test_… (needs network; "
                           "never runs in CI — the only check against real Stripe behaviour)")
def test_live_stripe_session_smoke():  # pragma: no cover - needs network and a test key
    import time

    from config import env_value
    from marketplace import create_app

    key = env_value("STRIPE_SECRET_KEY") or ""
    assert key.startswith("sk_test_"), "use a test-mode key"
    app = create_app({"TESTING": True, "STRIPE_SECRET_KEY": key, "STRIPE_WEBHOOK_SECRET": "whsec_unused",
                      "STRIPE_API_BASE": None})
    with app.test_request_context():
        session = stripe_gateway.create_checkout_session(
            lines=[{"name": "Bình gốm (test)", "unit_amount": 350000, "quantity": 1}], metadata={"checkout_id": "0"},
            client_reference_id="live-test", success_url="https://example.com/s?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="https://example.com/c", expires_at=int(time.time()) + 3600,
            idempotency_key=f"live-{int(time.time())}", customer_email=None)
        assert session["amount_total"] == 350000 and session["currency"] == "vnd"
        assert stripe_gateway.retrieve_session(session["id"])["payment_status"] == "unpaid"
        stripe_gateway.expire_session(session["id"])


def test_gateway_error_in_english_and_stripe_lines_in_the_checkouts_language(client, fake_stripe):
    """Error messages follow the shopper's language; the Stripe line names follow the checkout's, so that
    "Pay" again after switching language sends the same parameters under the same idempotency key."""
    from urllib.parse import urlsplit

    from marketplace.orders.services import checkout_url

    vase, _ = two_shop_products()
    client.get("/cart?lang=en")
    for _ in range(3):
        fake_stripe.fail_next("POST /v1/checkout/sessions", 503)
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    assert checkout.locale == "en" and "/orders/c/" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The payment gateway is busy or not responding" in page and "Cổng thanh toán đang bận" not in page
    link = urlsplit(checkout_url(checkout)).path
    first = client.post(link + "/pay")
    assert first.status_code == 303 and "/pay/cs_test_" in first.headers["Location"]
    client.get(link + "?lang=vi")
    again = client.post(link + "/pay")
    assert again.headers["Location"] == first.headers["Location"]
    posts = [p for p in _session_posts(fake_stripe) if p["body"]][-2:]
    assert posts[0]["body"] == posts[1]["body"] and len(fake_stripe.sessions) == 1
    form = parse_qs(posts[1]["body"])
    assert form["line_items[1][price_data][product_data][name]"] == [f"Shipping – {vase.shop.name}"]
