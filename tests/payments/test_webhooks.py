"""The webhook matrix T-W1..T-W8, T-W11, T-W12 and T-S3, T-S4 through signed events from the fake."""
import json
import threading
import time

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerLine
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent
from marketplace.payments.models import ProcessedEvent, Refund
from tests.orders.helpers import two_shop_products
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.helpers import card_checkout, deliver, statuses


def _booked(shop, kind: str) -> int:
    """What the shop's journal lines of this kind add up to, net of corrections."""
    lines = db.session.scalars(sa.select(LedgerLine).where(LedgerLine.shop_id == shop.id, LedgerLine.kind == kind))
    return sum(-line.amount if line.reverses else line.amount for line in lines)


def _count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _paid_checkout(client, fake, *pairs):
    r, token, checkout = card_checkout(client, *pairs)
    session = fake.pay(checkout.stripe_session_id)
    assert deliver(fake, client, "checkout.session.completed", session).status_code == 200
    assert set(statuses(checkout)) == {"paid"}
    return checkout


def test_completed_twice_fulfils_once(client, fake_stripe, app):
    """T-W1 (sequential): both 200; one processed_event; paid once; one mail; commission once."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    before = len(read_outbox())
    event = fake_stripe.event("checkout.session.completed", session)
    first = fake_stripe.deliver(client, event, WEBHOOK_SECRET)
    second = fake_stripe.deliver(client, event, WEBHOOK_SECRET)
    assert first.status_code == second.status_code == 200
    assert second.get_json()["duplicate"] is True
    assert _count(ProcessedEvent) == 1
    order = db.session.get(Checkout, checkout.id).orders[0]
    assert order.status == "paid" and order.paid_at is not None
    assert order.commission == 350_000 * app.config["PLATFORM_COMMISSION_PERCENT"] // 100
    assert db.session.get(Checkout, checkout.id).payment_intent_id == session["payment_intent"]
    assert len(read_outbox()) - before == 2  # the buyer's "paid" mail and the shop's new-order alert, once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                             .where(OrderEvent.to_status == "paid")) == 1


def test_completed_delivered_concurrently_fulfils_once(client, fake_stripe, app):
    """T-W1 (concurrent): the same event POSTed by 6 threads at once."""
    vase, scarf = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    db.session.remove()
    barrier = threading.Barrier(6)
    codes = []

    def post():
        c = app.test_client()
        barrier.wait()
        codes.append(fake_stripe.deliver(c, event, WEBHOOK_SECRET).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200] * 6
    assert _count(ProcessedEvent) == 1
    assert statuses(checkout) == ["paid", "paid"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                             .where(OrderEvent.to_status == "paid")) == 2
    assert len([m for m in read_outbox() if "Đã thanh toán" in m["Subject"]]) == 2


@pytest.mark.parametrize("how", ["none", "wrong_secret", "v0_only", "altered", "stale", "future", "rejson"])
def test_forged_or_stale_signature_changes_nothing(client, fake_stripe, how):
    """T-W3, T-W4."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    body = json.dumps(event)
    headers = {"Content-Type": "application/json"}
    if how == "wrong_secret":
        headers["Stripe-Signature"] = fake_stripe.sign(body, "whsec_other")
    elif how == "v0_only":
        headers["Stripe-Signature"] = fake_stripe.sign(body, WEBHOOK_SECRET).replace("v1=", "v0=")
    elif how == "altered":
        headers["Stripe-Signature"] = fake_stripe.sign(body, WEBHOOK_SECRET)
        body = body.replace('"paid"', '"paid" ')
    elif how == "stale":
        headers["Stripe-Signature"] = fake_stripe.sign(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    elif how == "future":
        headers["Stripe-Signature"] = fake_stripe.sign(body, WEBHOOK_SECRET, timestamp=int(time.time()) + 3600)
    if how == "rejson":  # signed, then re-serialised differently
        headers["Stripe-Signature"] = fake_stripe.sign(body, WEBHOOK_SECRET)
        r = client.post("/payments/stripe/webhook", json=event, headers={"Stripe-Signature": headers["Stripe-Signature"]})
    else:
        r = client.post("/payments/stripe/webhook", data=body, headers=headers)
    assert r.status_code == 400
    assert statuses(checkout) == ["pending_payment"] and _count(ProcessedEvent) == 0


def test_webhook_is_csrf_exempt(tmp_path, backend, fake_stripe):
    """T-W5: with CSRF on, a signed POST without a token is accepted; an unsigned one is 400."""
    from tests.conftest import make_app, truncate_all

    app = make_app(tmp_path, backend, WTF_CSRF_ENABLED=True, STRIPE_SECRET_KEY="sk_test_fake",
                   STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=fake_stripe.url)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        event = fake_stripe.event("checkout.session.completed", {"id": "cs_x", "metadata": {}, "payment_status": "paid"})
        assert fake_stripe.deliver(client, event, WEBHOOK_SECRET).status_code == 200
        assert client.post("/payments/stripe/webhook", data=json.dumps(event)).status_code == 400
        assert db.session.scalars(sa.select(ProcessedEvent.id)).all() == [event["id"]]  # only the signed one
        if backend == "postgresql":
            truncate_all()
        db.session.remove()
        db.engine.dispose()


def test_unpaid_completed_waits_for_async_success(client, fake_stripe):
    """T-W6."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id, payment_status="unpaid")
    assert deliver(fake_stripe, client, "checkout.session.completed", session).status_code == 200
    assert statuses(checkout) == ["pending_payment"]
    session = fake_stripe.settle_async(checkout.stripe_session_id)
    assert deliver(fake_stripe, client, "checkout.session.async_payment_succeeded", session).status_code == 200
    assert statuses(checkout) == ["paid"]


def test_async_failure_cancels_and_releases(client, fake_stripe):
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 3))
    session = fake_stripe.pay(checkout.stripe_session_id, payment_status="unpaid")
    deliver(fake_stripe, client, "checkout.session.async_payment_failed", session)
    assert statuses(checkout) == ["cancelled"]
    assert db.session.get(Variant, vase.variants[0].id).stock == 10


def test_unknown_order_acknowledged(client, fake_stripe):
    """T-W7."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    foreign = {"id": "cs_test_foreign", "object": "checkout.session", "payment_status": "paid", "amount_total": 5,
               "currency": "vnd", "metadata": {"checkout_id": "999999"}}
    r = deliver(fake_stripe, client, "checkout.session.completed", foreign)
    assert r.status_code == 200 and r.get_json()["outcome"] == "unknown"
    other = dict(foreign, metadata={"checkout_id": str(checkout.id)})  # someone else's session naming our id
    assert deliver(fake_stripe, client, "checkout.session.completed", other).get_json()["outcome"] == "unknown"
    assert statuses(checkout) == ["pending_payment"]


def test_amount_mismatch_needs_review(client, fake_stripe):
    """T-W8."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    session = fake_stripe.pay(checkout.stripe_session_id, amount_total=1_000)
    deliver(fake_stripe, client, "checkout.session.completed", session)
    order = db.session.get(Checkout, checkout.id).orders[0]
    assert order.status == "needs_review" and order.paid_at is None and "1000" in order.review_note


def test_expired_twice_restores_stock_once(client, fake_stripe):
    """T-S3."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 4))
    assert db.session.get(Variant, vase.variants[0].id).stock == 6
    session = fake_stripe.expire(checkout.stripe_session_id)
    deliver(fake_stripe, client, "checkout.session.expired", session)
    deliver(fake_stripe, client, "checkout.session.expired", session)  # a second, different event id
    db.session.expire_all()
    assert db.session.get(Variant, vase.variants[0].id).stock == 10
    assert statuses(checkout) == ["expired"]


def test_paid_after_expiry_needs_review(client, fake_stripe):
    """T-S4: no negative stock, the order is flagged."""
    vase, _ = two_shop_products(stock_a=1)
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    deliver(fake_stripe, client, "checkout.session.expired", fake_stripe.expire(checkout.stripe_session_id))
    db.session.execute(sa.update(Variant).where(Variant.id == vase.variants[0].id).values(stock=0))  # resold
    db.session.commit()
    session = dict(fake_stripe.sessions[checkout.stripe_session_id])
    fake_stripe.sessions[checkout.stripe_session_id]["status"] = "open"
    session = fake_stripe.pay(checkout.stripe_session_id)
    deliver(fake_stripe, client, "checkout.session.completed", session)
    order = db.session.get(Checkout, checkout.id).orders[0]
    assert order.status == "needs_review" and "hết hạn" in order.review_note
    assert db.session.get(Variant, vase.variants[0].id).stock == 0


def test_late_expired_does_not_cancel_paid(client, fake_stripe):
    """T-W2 (part): expired after completed changes nothing."""
    vase, _ = two_shop_products()
    checkout = _paid_checkout(client, fake_stripe, (vase.variants[0].id, 2))
    session = fake_stripe.public(fake_stripe.sessions[checkout.stripe_session_id])
    deliver(fake_stripe, client, "checkout.session.expired", dict(session, status="expired"))
    assert statuses(checkout) == ["paid"]
    assert db.session.get(Variant, vase.variants[0].id).stock == 8


def test_refund_event_before_completed_event(client, fake_stripe):
    """T-W2: paid via the success page's retrieve, refunded in full, then the late `completed` arrives."""
    vase, _ = two_shop_products()
    r, token, checkout = card_checkout(client, (vase.variants[0].id, 1))
    fake_stripe.refund_status = "pending"
    fake_stripe.pay(checkout.stripe_session_id)
    client.get(f"/checkout/success?session_id={checkout.stripe_session_id}")
    assert statuses(checkout) == ["paid"]
    order = db.session.get(Checkout, checkout.id).orders[0]
    refund = orders.refund_order(vase.shop.owner, order, order.total, "khách đổi ý")
    db.session.commit()
    stripe_refund = dict(fake_stripe.refunds[refund.stripe_refund_id], status="succeeded")
    charge = {"id": "ch_1", "object": "charge", "payment_intent": stripe_refund["payment_intent"],
              "refunds": {"data": [stripe_refund]}}
    assert deliver(fake_stripe, client, "charge.refunded", charge).status_code == 200
    session = fake_stripe.public(fake_stripe.sessions[checkout.stripe_session_id])
    assert deliver(fake_stripe, client, "checkout.session.completed", session).status_code == 200
    assert statuses(checkout) == ["refunded"]


def test_vendor_partial_refund(client, fake_stripe):
    """T-W11: refund shop B's order of a 2-vendor checkout; more than B's remainder is refused before Stripe."""
    vase, scarf = two_shop_products()
    checkout = _paid_checkout(client, fake_stripe, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    order_b = [o for o in db.session.get(Checkout, checkout.id).orders if o.shop_id == scarf.shop_id][0]
    refund = orders.refund_order(scarf.shop.owner, order_b, order_b.total, "hàng lỗi")
    db.session.commit()
    stripe_refund = fake_stripe.refunds[refund.stripe_refund_id]
    assert stripe_refund["amount"] == order_b.total == 445_000
    assert stripe_refund["metadata"]["vendor_id"] == str(scarf.shop_id)
    assert refund.idempotency_key.startswith(f"refund-{order_b.id}-")
    posts = len(fake_stripe.requests)
    from marketplace.errors import InvalidInput

    with pytest.raises(InvalidInput):
        orders.refund_order(scarf.shop.owner, db.session.get(Order, order_b.id), 1)
    db.session.rollback()
    assert len(fake_stripe.requests) == posts  # never reached Stripe
    assert statuses(checkout) == ["paid", "refunded"]
    assert _booked(scarf.shop, "sale") == 445_000 and _booked(scarf.shop, "refund") == 445_000
    assert ledger.balance(scarf.shop_id) == 0  # commission and withheld tax reversed in full
    # the other artisan cannot refund B's order
    from marketplace.errors import NotAllowed

    with pytest.raises(NotAllowed):
        orders.refund_order(vase.shop.owner, db.session.get(Order, order_b.id), 1)
    db.session.rollback()


def test_partial_refund_via_queue_page(client, fake_stripe, login):
    vase, _ = two_shop_products()
    checkout = _paid_checkout(client, fake_stripe, (vase.variants[0].id, 2))
    order = db.session.get(Checkout, checkout.id).orders[0]
    login(client, vase.shop.owner)
    assert client.post(f"/seller/orders/{order.id}/refund", data={"amount": 100_000}).status_code == 303
    r = client.post(f"/seller/orders/{order.id}/refund", data={"amount": order.total})
    assert r.status_code == 400 and "Chỉ có thể hoàn tối đa" in r.get_data(as_text=True)
    assert sum(rf["amount"] for rf in fake_stripe.refunds.values()) == 100_000
    assert statuses(checkout) == ["paid"]


def test_refund_failing_later_is_not_in_ledger(client, fake_stripe):
    """T-W12: refund.created (pending) then refund.failed: ledger never reduced, amount refundable again."""
    vase, _ = two_shop_products()
    checkout = _paid_checkout(client, fake_stripe, (vase.variants[0].id, 1))
    order = db.session.get(Checkout, checkout.id).orders[0]
    fake_stripe.refund_status = "pending"
    refund = orders.refund_order(vase.shop.owner, order, 50_000)
    db.session.commit()
    data = dict(fake_stripe.refunds[refund.stripe_refund_id])
    deliver(fake_stripe, client, "refund.created", data)
    assert _booked(vase.shop, "refund") == 0
    deliver(fake_stripe, client, "refund.failed", dict(data, status="failed"))
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "failed"
    assert db.session.get(Order, order.id).refunded_amount == 0
    assert _booked(vase.shop, "refund") == 0
    assert orders.refundable_amount(db.session.get(Order, order.id)) == order.total


def test_reconcile_settles_refunds_whose_events_never_came(client, runner, fake_stripe):
    """Two card refunds stay pending (no webhook arrives): reconcile asks Stripe and books the one that
    succeeded, gives back the one that failed, and a second run changes nothing."""
    vase, scarf = two_shop_products()
    checkout = _paid_checkout(client, fake_stripe, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    vase_order, scarf_order = sorted(db.session.get(Checkout, checkout.id).orders, key=lambda o: o.shop_id != vase.shop.id)
    fake_stripe.refund_status = "pending"
    good = orders.refund_order(vase.shop.owner, vase_order, 40_000)
    bad = orders.refund_order(scarf.shop.owner, scarf_order, 30_000)
    db.session.commit()
    assert {good.status, bad.status} == {"pending"}
    fake_stripe.settle_refund(good.stripe_refund_id, "succeeded")
    fake_stripe.settle_refund(bad.stripe_refund_id, "failed")

    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "refunds=2" in result.output and "errors=0" in result.output
    db.session.expire_all()
    assert db.session.get(Refund, good.id).status == "succeeded"
    assert db.session.get(Refund, bad.id).status == "failed"
    assert _booked(vase.shop, "refund") == 40_000
    assert _booked(scarf.shop, "refund") == 0
    assert db.session.get(Order, scarf_order.id).refunded_amount == 0
    assert db.session.get(Order, vase_order.id).refunded_amount == 40_000
    again = runner.invoke(args=["payments", "reconcile"])
    assert "refunds=0" in again.output


def test_reconcile_every_option_is_validated(runner):
    result = runner.invoke(args=["payments", "reconcile", "--every", "1"])
    assert result.exit_code != 0 and "--every" in result.output


def test_cancelling_a_paid_card_order_refunds_what_is_left(client, fake_stripe, login):
    """The artisan cancels a paid card order that was partly refunded already: Stripe refunds the rest,
    stock returns, the ledger nets to zero and the order ends refunded."""
    vase, _ = two_shop_products()
    variant_id = vase.variants[0].id
    stock_before = db.session.get(Variant, variant_id).stock
    checkout = _paid_checkout(client, fake_stripe, (variant_id, 2))
    order = db.session.get(Checkout, checkout.id).orders[0]
    orders.refund_order(vase.shop.owner, order, 50_000, "giao chậm")
    db.session.commit()
    login(client, vase.shop.owner)
    page = client.get(f"/seller/orders/{order.id}/cancel").get_data(as_text=True)  # the confirmation step
    assert "sẽ được hoàn cho khách qua đúng phương thức thanh toán" in page
    r = client.post(f"/seller/orders/{order.id}/cancel", data={"reason": "hết men"})
    assert r.status_code == 303
    db.session.expire_all()
    amounts = sorted(rf["amount"] for rf in fake_stripe.refunds.values())
    assert amounts == [50_000, order.total - 50_000]
    assert statuses(checkout) == ["refunded"]
    assert db.session.get(Variant, variant_id).stock == stock_before
    assert _booked(vase.shop, "sale") == _booked(vase.shop, "refund") == order.total
    assert ledger.balance(vase.shop_id) == 0
    trail = [e.to_status for e in db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id)
                                                      .order_by(OrderEvent.id))]
    assert trail[-2:] == ["cancelled", "refunded"]


def test_cancel_is_undone_when_stripe_refuses_the_refund(client, fake_stripe, login):
    vase, _ = two_shop_products()
    variant_id = vase.variants[0].id
    checkout = _paid_checkout(client, fake_stripe, (variant_id, 1))
    order = db.session.get(Checkout, checkout.id).orders[0]
    stock_after_sale = db.session.get(Variant, variant_id).stock
    login(client, vase.shop.owner)
    fake_stripe.fail_next("POST /v1/refunds", 400)  # refused (a 5xx would be retried by the SDK)
    r = client.post(f"/seller/orders/{order.id}/cancel", data={"reason": "hết hàng"}, follow_redirects=True)
    assert r.status_code == 200
    db.session.expire_all()
    assert statuses(checkout) == ["paid"]
    assert db.session.get(Variant, variant_id).stock == stock_after_sale
    assert _count(Refund) == 0 and fake_stripe.refunds == {}


def test_payments_needing_a_person_are_listed_for_admins(client, fake_stripe, login):
    """An amount mismatch (order under review) and a refund made in the Stripe Dashboard (reported twice)
    both appear once on /admin/payments and on the admin overview; shoppers and artisans get no access."""
    from tests.accounts.helpers import make_account

    vase, scarf = two_shop_products()
    _r, _t, mismatched = card_checkout(client, (vase.variants[0].id, 1))
    deliver(fake_stripe, client, "checkout.session.completed",
            fake_stripe.pay(mismatched.stripe_session_id, amount_total=1_000))
    paid = _paid_checkout(client, fake_stripe, (scarf.variants[0].id, 1))
    intent = db.session.get(Checkout, paid.id).payment_intent_id
    foreign = {"id": "re_dashboard_1", "object": "refund", "amount": 70_000, "currency": "vnd",
               "status": "succeeded", "payment_intent": intent}
    for kind in ("refund.created", "refund.updated"):
        r = deliver(fake_stripe, client, kind, foreign)
        assert r.status_code == 200 and r.get_json()["outcome"] == "unknown"
    order = db.session.get(Checkout, mismatched.id).orders[0]
    assert _booked(scarf.shop, "refund") == 0  # not booked against any order

    login(client, scarf.shop.owner)
    assert client.get("/admin/payments").status_code == 403
    login(client, make_account("admin", email="admin-pay@example.vn"))
    page = client.get("/admin/payments").get_data(as_text=True)
    assert orders.order_number(order.id) in page and "1000" in page
    assert page.count("re_dashboard_1") == 1 and "70.000 ₫" in page and f"#{paid.id}" in page
    overview = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/payments">1</a>' in overview and 'href="/admin/payments#refunds">1</a>' in overview
