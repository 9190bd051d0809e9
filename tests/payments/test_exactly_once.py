"""Money exactly once, through the real flows (SQLite and PostgreSQL): the success page then the webhook,
a webhook whose handling crashes (500, then processed on redelivery), a refund that failed and is made
again, and the provider's error paths (retrieve 404, already refunded) against the local fake Stripe."""
import pytest
import sqlalchemy as sa

from marketplace.core.outbox import read_outbox
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.ledger.models import Kind, LedgerLine
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent
from marketplace.payments import services as payments
from marketplace.payments import stripe_gateway
from marketplace.payments.gateway import PaymentGatewayError
from marketplace.payments.models import ProcessedEvent, Refund
from tests.orders.helpers import two_shop_products
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.helpers import card_checkout, deliver, statuses


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _paid_events(order_id):
    return _count(OrderEvent, OrderEvent.order_id == order_id, OrderEvent.to_status == "paid")


def _paid_mails():
    return [m for m in read_outbox() if "Đã thanh toán" in m["Subject"]]


def test_success_page_then_webhook_pays_once(client, fake_stripe):
    """The shopper comes back first (the page asks Stripe: paid), then the webhook arrives: one paid
    event, one mail, ``paid_at`` and the commission unchanged, the event stored once."""
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    r = client.get(f"/checkout/success?session_id={checkout.stripe_session_id}")
    assert r.status_code == 303
    assert statuses(checkout) == ["paid"]
    order = db.session.get(Checkout, checkout.id).orders[0]
    paid_at, commission = order.paid_at, order.commission
    assert paid_at is not None and commission > 0
    assert len(_paid_mails()) == 1

    r = deliver(fake_stripe, client, "checkout.session.completed", session)
    assert r.status_code == 200 and r.get_json()["outcome"] == "already"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.paid_at, order.commission) == ("paid", paid_at, commission)
    assert _paid_events(order.id) == 1
    assert len(_paid_mails()) == 1
    assert _count(ProcessedEvent) == 1
    # and the page again, after both: nothing more
    assert client.get(f"/checkout/success?session_id={checkout.stripe_session_id}").status_code == 303
    assert _paid_events(order.id) == 1 and len(_paid_mails()) == 1


def test_webhook_then_success_page_pays_once(client, fake_stripe):
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    assert deliver(fake_stripe, client, "checkout.session.completed", session).get_json()["outcome"] == "paid"
    order_id = db.session.get(Checkout, checkout.id).orders[0].id
    paid_at = db.session.get(Order, order_id).paid_at
    retrieves = sum(1 for q in fake_stripe.requests if q["method"] == "GET")
    assert client.get(f"/checkout/success?session_id={checkout.stripe_session_id}").status_code == 303
    assert sum(1 for q in fake_stripe.requests if q["method"] == "GET") == retrieves  # nothing pending: no call
    db.session.expire_all()
    assert db.session.get(Order, order_id).paid_at == paid_at
    assert _paid_events(order_id) == 1 and len(_paid_mails()) == 1


def test_settling_twice_in_the_same_transaction_is_refused(app, fake_stripe):
    """The conditional transition itself (not the event table): settle the same paid state twice."""
    from tests.orders.helpers import place

    vase, _ = two_shop_products()
    checkout = place({vase.variants[0].id: 1}, method="stripe")
    gateway = stripe_gateway.StripeCheckout()
    state = stripe_gateway.payment_state({"id": None, "metadata": {"checkout_id": str(checkout.id)},
                                          "status": "complete", "payment_status": "paid",
                                          "amount_total": checkout.total, "currency": "vnd", "payment_intent": "pi_1"})
    assert payments.settle_payment(gateway, state) == "paid"
    assert payments.settle_payment(gateway, state, label="reconcile") == "already"
    db.session.commit()
    order = db.session.get(Checkout, checkout.id).orders[0]
    assert _paid_events(order.id) == 1
    assert len(_paid_mails()) == 1


@pytest.mark.parametrize("crash", [RuntimeError("bug"), Conflict("không ngờ")], ids=["exception", "domain-error"])
def test_a_webhook_whose_handling_crashes_is_a_500_then_processed_on_redelivery(client, fake_stripe, monkeypatch,
                                                                                 crash):
    """Handling fails after the event id was stored: everything is rolled back (the id too) and the answer
    is a 500, so Stripe redelivers; the redelivery is processed (paid once, one mail)."""
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    real = payments.settle_payment

    def crashing(gateway, state, label=None):
        real(gateway, state, label)  # writes (paid, event, mail queued) … then fails
        raise crash

    monkeypatch.setattr(payments, "settle_payment", crashing)
    r = fake_stripe.deliver(client, event, WEBHOOK_SECRET)
    assert r.status_code == 500
    assert statuses(checkout) == ["pending_payment"]
    assert _count(ProcessedEvent) == 0 and _count(OrderEvent, OrderEvent.to_status == "paid") == 0
    assert _paid_mails() == []

    monkeypatch.setattr(payments, "settle_payment", real)
    r = fake_stripe.deliver(client, event, WEBHOOK_SECRET)  # Stripe's retry: the same event id
    assert r.status_code == 200 and r.get_json()["outcome"] == "paid"
    assert statuses(checkout) == ["paid"]
    assert _count(ProcessedEvent) == 1 and len(_paid_mails()) == 1
    r = fake_stripe.deliver(client, event, WEBHOOK_SECRET)
    assert r.status_code == 200 and r.get_json()["duplicate"] is True
    assert len(_paid_mails()) == 1


def _paid_order(client, fake, qty=1):
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, qty))
    deliver(fake, client, "checkout.session.completed", fake.pay(checkout.stripe_session_id))
    assert statuses(checkout) == ["paid"]
    return vase.shop.owner, db.session.get(Checkout, checkout.id).orders[0]


def test_a_refund_that_failed_can_be_made_again(client, fake_stripe):
    """A pending refund fails at the bank (its amount becomes refundable again); the same amount refunded
    again is a new refund at Stripe (a new idempotency key), not a replay of the failed one nor a 500."""
    owner, order = _paid_order(client, fake_stripe)
    fake_stripe.refund_status = "pending"
    first = orders.refund_order(owner, order, 50_000)
    db.session.commit()
    data = fake_stripe.settle_refund(first.stripe_refund_id, "failed")
    assert deliver(fake_stripe, client, "refund.failed", data).status_code == 200
    assert db.session.get(Order, order.id).refunded_amount == 0
    fake_stripe.refund_status = "succeeded"
    second = orders.refund_order(owner, db.session.get(Order, order.id), 50_000)
    db.session.commit()
    assert second.idempotency_key != first.idempotency_key
    assert second.stripe_refund_id != first.stripe_refund_id
    db.session.expire_all()
    assert [(r.amount, r.status) for r in db.session.scalars(sa.select(Refund).order_by(Refund.id))] == [
        (50_000, "failed"), (50_000, "succeeded")]
    assert db.session.get(Order, order.id).refunded_amount == 50_000
    # the ledger booked the succeeded refund once and voided nothing else: one refund line of 50.000 ₫
    refund_lines = db.session.scalars(sa.select(LedgerLine.amount).where(
        LedgerLine.shop_id == db.session.get(Order, order.id).shop_id, LedgerLine.kind == Kind.REFUND)).all()
    assert refund_lines == [50_000]
    assert sum(r["amount"] for r in fake_stripe.refunds.values() if r["status"] == "succeeded") == 50_000


def test_a_refund_whose_key_is_taken_is_a_409_not_a_500(client, fake_stripe, login):
    """Defence in depth: should the idempotency key already be booked (however it happened), the answer
    is a clear 409 and nothing is written nor sent to Stripe."""
    owner, order = _paid_order(client, fake_stripe)
    other_owner, other = _paid_order(client, fake_stripe)
    db.session.add(Refund(order_id=other.id, shop_id=other.shop_id, amount=1, method="stripe", status="failed",
                          idempotency_key=f"refund-{order.id}-0-0-40000"))
    db.session.commit()
    posts = sum(1 for q in fake_stripe.requests if q["path"] == "/v1/refunds")
    login(client, owner)
    r = client.post(f"/seller/orders/{order.id}/refund", data={"amount": 40_000})
    assert r.status_code == 409 and "Đơn vừa được hoàn tiền bởi người khác" in r.get_data(as_text=True)
    assert db.session.get(Order, order.id).refunded_amount == 0
    assert _count(Refund, Refund.order_id == order.id) == 0
    assert sum(1 for q in fake_stripe.requests if q["path"] == "/v1/refunds") == posts


# --- the Stripe gateway's error paths, against the fake --------------------------------------------

def test_retrieve_of_an_unknown_session_is_a_not_found_gateway_error(app, fake_stripe):
    with pytest.raises(PaymentGatewayError) as caught:
        stripe_gateway.retrieve_session("cs_test_nobody")
    assert caught.value.details == {"not_found": True} and caught.value.status_code == 502


def test_retrieve_refused_otherwise_is_a_gateway_error_not_retryable(app, fake_stripe):
    fake_stripe.fail_next("GET /v1/checkout/sessions/", 400)
    with pytest.raises(PaymentGatewayError) as caught:
        stripe_gateway.retrieve_session("cs_test_any")
    assert caught.value.details["retryable"] is False


def test_retrieve_when_stripe_is_down_is_retryable(app, fake_stripe):
    for _ in range(3):  # the SDK retries twice
        fake_stripe.fail_next("GET /v1/checkout/sessions/", 500)
    with pytest.raises(PaymentGatewayError) as caught:
        stripe_gateway.retrieve_session("cs_test_any")
    assert caught.value.details["retryable"] is True


def test_success_page_of_a_session_stripe_no_longer_knows_leaves_the_order_pending(client, fake_stripe):
    """The return page's retrieve answers 404: no crash, the order stays pending (webhook or reconcile)."""
    vase, _ = two_shop_products()
    _r, _t, checkout = card_checkout(client, (vase.variants[0].id, 1))
    del fake_stripe.sessions[checkout.stripe_session_id]
    r = client.get(f"/checkout/success?session_id={checkout.stripe_session_id}")
    assert r.status_code == 303
    assert statuses(checkout) == ["pending_payment"] and _paid_mails() == []


def test_refund_of_a_charge_already_refunded_is_refused_and_changes_nothing(client, fake_stripe):
    """Stripe says the charge was refunded already (in the Dashboard, say): a clear gateway error, our
    refund rolled back (refundable amount unchanged, no refund row)."""
    owner, order = _paid_order(client, fake_stripe)
    intent = fake_stripe.payment_intents[db.session.get(Checkout, order.checkout_id).payment_intent_id]
    intent["amount_refunded"] = intent["amount_received"]
    with pytest.raises(PaymentGatewayError) as caught:
        orders.refund_order(owner, db.session.get(Order, order.id), 10_000)
    db.session.rollback()
    assert caught.value.details == {"stripe_code": "charge_already_refunded"}
    assert "hoàn hết" in caught.value.message
    assert db.session.get(Order, order.id).refunded_amount == 0 and _count(Refund) == 0


def test_refund_refused_for_another_reason_is_a_gateway_error(app, fake_stripe):
    with pytest.raises(PaymentGatewayError) as caught:
        stripe_gateway.create_refund("pi_unknown", 1000, "key-1", {})
    assert caught.value.details["stripe_code"] == "resource_missing"


def test_refund_when_stripe_is_down_is_retryable(app, fake_stripe):
    for _ in range(3):
        fake_stripe.fail_next("POST /v1/refunds", 500)
    with pytest.raises(PaymentGatewayError) as caught:
        stripe_gateway.create_refund("pi_unknown", 1000, "key-2", {})
    assert caught.value.details["retryable"] is True


def test_retrieve_refund_and_expire_errors_are_gateway_errors(app, fake_stripe):
    with pytest.raises(PaymentGatewayError):
        stripe_gateway.retrieve_refund("re_nobody")
    with pytest.raises(PaymentGatewayError):
        stripe_gateway.expire_session("cs_test_nobody")


def test_a_refund_retried_after_a_rollback_is_the_same_refund_at_stripe(client, fake_stripe):
    """Stripe made the refund but our transaction was rolled back (a crash before the commit): the retry
    sends the same idempotency key — even after another order's refund was booked meanwhile — so Stripe
    answers with the same refund instead of refunding twice."""
    owner, order = _paid_order(client, fake_stripe)
    other_owner, other = _paid_order(client, fake_stripe)
    orders.refund_order(owner, db.session.get(Order, order.id), 20_000)
    db.session.rollback()  # lost: Stripe has the refund, we have nothing
    assert len(fake_stripe.refunds) == 1
    orders.refund_order(other_owner, db.session.get(Order, other.id), 5_000)
    db.session.commit()
    retried = orders.refund_order(owner, db.session.get(Order, order.id), 20_000)
    db.session.commit()
    assert len(fake_stripe.refunds) == 2  # the first one again, and the other order's
    assert retried.stripe_refund_id in fake_stripe.refunds
    intent = db.session.get(Checkout, order.checkout_id).payment_intent_id
    assert fake_stripe.payment_intents[intent]["amount_refunded"] == 20_000
