"""VNPay against the local fake (tests/payments/fake_vnpay.py): signed redirect, IPN applied once (also
10× in parallel), bad signature / wrong amount / unknown reference answered with VNPay's RspCode and
changing nothing, the return URL never trusted, reconcile (querydr) settling a lost IPN and releasing a
hold nobody paid, refunds through VNPay's API."""
import threading
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from config import ProductionConfig
from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, OrderEvent
from marketplace.payments import registry, vnpay
from marketplace.payments import services as payment_services
from marketplace.payments.models import ProcessedEvent, Refund
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, two_shop_products
from tests.payments.fake_vnpay import FakeVNPay
from tests.payments.helpers import statuses


@pytest.fixture
def fake_vnpay():
    fake = FakeVNPay().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def app_overrides(fake_vnpay):
    return {"VNPAY_TMN_CODE": fake_vnpay.tmn_code, "VNPAY_HASH_SECRET": fake_vnpay.secret,
            "VNPAY_PAYMENT_URL": fake_vnpay.payment_url, "VNPAY_API_URL": fake_vnpay.api_url}


def _count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def vnpay_checkout(client, *variant_qty):
    for vid, qty in variant_qty:
        add_to_cart(client, vid, qty)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "vnpay"})
    db.session.expire_all()
    return r, db.session.scalar(sa.select(Checkout).where(Checkout.token == token))


def _ipn(client, params):
    return client.get("/payments/vnpay/ipn?" + urlencode(params))


def _opened(client, fake, *pairs):
    r, checkout = vnpay_checkout(client, *pairs)
    assert r.status_code == 303
    txn = fake.open_session(r.headers["Location"])
    return checkout, txn, r.headers["Location"]


def test_redirect_is_signed_as_vnpay_expects(client, fake_vnpay):
    vase, scarf = two_shop_products()
    checkout, txn, location = _opened(client, fake_vnpay, (vase.variants[0].id, 1), (scarf.variants[0].id, 2))
    params = dict(parse_qsl(urlsplit(location).query))
    assert fake_vnpay.errors == []
    assert location.startswith(fake_vnpay.payment_url + "?")
    assert params["vnp_Amount"] == str(checkout.total * 100) and checkout.total == 350_000 + 30_000 + 840_000 + 25_000
    assert params["vnp_CurrCode"] == "VND" and params["vnp_Version"] == "2.1.0" and params["vnp_Command"] == "pay"
    assert params["vnp_TxnRef"] == checkout.stripe_session_id == txn["ref"]
    assert vnpay.parse_txn_ref(params["vnp_TxnRef"])[0] == checkout.id
    assert params["vnp_ReturnUrl"].endswith("/payments/vnpay/return")
    # the same signature a different secret would not give; a changed amount is refused by VNPay
    assert not vnpay.verify_params(params, "another-secret-0123456789")
    forged = {**params, "vnp_Amount": "100000"}
    assert fake_vnpay.validate_payment(forged).startswith("97")
    assert statuses(checkout) == ["pending_payment", "pending_payment"]


def test_ipn_fulfils_once_and_answers_02_on_replay(client, fake_vnpay, app):
    vase, _ = two_shop_products()
    checkout, txn, _loc = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    params = fake_vnpay.pay(txn["ref"])
    before = len(read_outbox())
    first = _ipn(client, params)
    assert first.status_code == 200 and first.get_json() == {"RspCode": "00", "Message": "Confirm Success"}
    for _ in range(3):
        assert _ipn(client, params).get_json()["RspCode"] == "02"
    assert statuses(checkout) == ["paid"]
    assert _count(ProcessedEvent) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(OrderEvent.to_status == "paid")) == 1
    assert len(read_outbox()) - before == 2  # the buyer's "paid" mail and the shop's new-order alert, once
    stored = db.session.get(Checkout, checkout.id)
    assert stored.payment_intent_id == f"{txn['ref']}:{txn['no']}:{checkout.total}"
    order = stored.orders[0]
    assert order.commission == 350_000 * app.config["PLATFORM_COMMISSION_PERCENT"] // 100


def test_ipn_replayed_ten_times_in_parallel_fulfils_once(client, fake_vnpay, app):
    vase, scarf = two_shop_products()
    checkout, txn, _loc = _opened(client, fake_vnpay, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    params = fake_vnpay.pay(txn["ref"])
    db.session.remove()
    barrier = threading.Barrier(10)
    codes = []

    def call():
        c = app.test_client()
        barrier.wait()
        codes.append(_ipn(c, params).get_json()["RspCode"])

    threads = [threading.Thread(target=call) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == ["00"] + ["02"] * 9
    assert statuses(checkout) == ["paid", "paid"]
    assert _count(ProcessedEvent) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(OrderEvent.to_status == "paid")) == 2


def test_bad_signature_wrong_amount_unknown_reference_change_nothing(client, fake_vnpay):
    vase, _ = two_shop_products()
    checkout, txn, _loc = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    params = fake_vnpay.pay(txn["ref"])
    altered = {**params, "vnp_Amount": str(int(params["vnp_Amount"]) - 100)}  # hash left as it was
    assert _ipn(client, altered).get_json()["RspCode"] == "97"
    assert _ipn(client, {**params, "vnp_SecureHash": "0" * 128}).get_json()["RspCode"] == "97"
    assert _ipn(client, {}).get_json()["RspCode"] == "97"
    wrong_amount = fake_vnpay.signed({**params, "vnp_Amount": str(int(params["vnp_Amount"]) - 100_000)})
    for _ in range(2):
        assert _ipn(client, wrong_amount).get_json()["RspCode"] == "04"
    unknown = fake_vnpay.signed({**params, "vnp_TxnRef": "CLN999999T20261207100000"})
    assert _ipn(client, unknown).get_json()["RspCode"] == "01"
    other_terminal = fake_vnpay.signed({**params, "vnp_TmnCode": "OTHER001"})
    assert _ipn(client, other_terminal).get_json()["RspCode"] == "97"
    assert statuses(checkout) == ["pending_payment"]
    assert _count(ProcessedEvent) == 0
    # the genuine notification still works afterwards
    assert _ipn(client, params).get_json()["RspCode"] == "00"
    assert statuses(checkout) == ["paid"]


def test_failed_payment_releases_the_stock(client, fake_vnpay):
    vase, _ = two_shop_products()
    variant_id = vase.variants[0].id
    before = db.session.get(Variant, variant_id).stock
    checkout, txn, _loc = _opened(client, fake_vnpay, (variant_id, 2))
    db.session.expire_all()
    assert db.session.get(Variant, variant_id).stock == before - 2
    params = fake_vnpay.pay(txn["ref"], success=False)
    assert _ipn(client, params).get_json()["RspCode"] == "00"
    assert _ipn(client, params).get_json()["RspCode"] == "02"
    assert statuses(checkout) == ["cancelled"]
    db.session.expire_all()
    assert db.session.get(Variant, variant_id).stock == before


def test_return_url_is_verified_but_never_trusted(client, fake_vnpay):
    vase, _ = two_shop_products()
    checkout, txn, _loc = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    # A signed "success" return for a transaction VNPay has not been paid for: querydr says no.
    fake_params = fake_vnpay.signed({"vnp_TxnRef": txn["ref"], "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00",
                                     "vnp_Amount": str(txn["amount"]), "vnp_TmnCode": fake_vnpay.tmn_code,
                                     "vnp_TransactionNo": "1"})
    r = client.get("/payments/vnpay/return?" + urlencode(fake_params))
    assert r.status_code == 303 and "/orders/c/" in r.headers["Location"]
    assert statuses(checkout) == ["pending_payment"]
    # an unsigned one is refused outright
    assert client.get("/payments/vnpay/return?" + urlencode({**fake_params, "vnp_SecureHash": "00"})).status_code == 400
    # paid at VNPay, IPN lost: the return page asks VNPay (querydr) and settles
    params = fake_vnpay.pay(txn["ref"])
    assert client.get("/payments/vnpay/return?" + urlencode(params)).status_code == 303
    assert statuses(checkout) == ["paid"]
    assert any(b.get("vnp_Command") == "querydr" for b in fake_vnpay.requests if isinstance(b, dict))
    # the IPN arriving afterwards changes nothing more
    assert _ipn(client, params).get_json()["RspCode"] == "02"


def test_reconcile_settles_a_lost_ipn_and_releases_an_abandoned_tab(client, runner, fake_vnpay):
    vase, scarf = two_shop_products()
    paid, txn_paid, _ = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    fake_vnpay.pay(txn_paid["ref"])  # paid, but the IPN never arrives
    abandoned, _txn, _ = _opened(client, fake_vnpay, (scarf.variants[0].id, 3))
    never_opened_stock = db.session.get(Variant, scarf.variants[0].id).stock
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "paid=1" in result.output
    assert statuses(paid) == ["paid"]
    assert statuses(abandoned) == ["pending_payment"]  # still within its hold
    stored = db.session.get(Checkout, abandoned.id)
    stored.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = len(read_outbox())
    result = runner.invoke(args=["payments", "reconcile"])
    assert "released=1" in result.output
    assert statuses(abandoned) == ["expired"]
    db.session.expire_all()
    assert db.session.get(Variant, scarf.variants[0].id).stock == never_opened_stock + 3
    assert len(read_outbox()) - before == 1  # the buyer is told
    assert statuses(paid) == ["paid"]


def test_refunds_go_through_vnpay(client, fake_vnpay, login):
    vase, scarf = two_shop_products()
    checkout, txn, _ = _opened(client, fake_vnpay, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    assert _ipn(client, fake_vnpay.pay(txn["ref"])).get_json()["RspCode"] == "00"
    db.session.expire_all()
    first, second = db.session.get(Checkout, checkout.id).orders
    refund = orders.refund_order(vase.shop.owner, first, 50_000, "giao chậm")
    db.session.commit()
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("vnpay:")
    assert fake_vnpay.txns[txn["ref"]]["refunded"] == 50_000 * 100
    login(client, scarf.shop.owner)
    assert client.post(f"/seller/orders/{second.id}/cancel", data={"reason": "hết hàng"}).status_code == 303
    db.session.expire_all()
    assert fake_vnpay.txns[txn["ref"]]["refunded"] == (50_000 + second.total) * 100
    assert db.session.get(type(second), second.id).status == "refunded"
    kinds = [b["vnp_TransactionType"] for b in fake_vnpay.requests if isinstance(b, dict) and b.get("vnp_Command") == "refund"]
    assert kinds == ["03", "03"]  # each a part of the checkout's payment
    assert _count(Refund) == 2


def test_refund_refused_by_vnpay_changes_nothing(client, fake_vnpay, login):
    vase, _ = two_shop_products()
    checkout, txn, _ = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    assert _ipn(client, fake_vnpay.pay(txn["ref"])).get_json()["RspCode"] == "00"
    db.session.expire_all()
    order = db.session.get(Checkout, checkout.id).orders[0]
    fake_vnpay.txns[txn["ref"]]["refunded"] = fake_vnpay.txns[txn["ref"]]["amount"]  # refunded in VNPay's portal
    login(client, vase.shop.owner)
    client.post(f"/seller/orders/{order.id}/cancel", data={"reason": "hết hàng"})
    assert statuses(checkout) == ["paid"]
    assert _count(Refund) == 0


def test_vnpay_is_offered_only_when_configured(app, client):
    two_shop_products()
    assert "vnpay" in [m.identifier for m in registry.enabled(app.config)]
    assert registry.get("vnpay").collector == "platform"
    app.config["VNPAY_HASH_SECRET"] = None
    assert "vnpay" not in [m.identifier for m in registry.enabled(app.config)]


def test_production_refuses_weak_payment_secrets():
    good = {"SECRET_KEY": "k" * 8 + "abcdefghijklmnopqrstuvwxyz012345", "SQLALCHEMY_DATABASE_URI": "postgresql://x/y",
            "MEDIA_STORAGE": "local"}
    ProductionConfig.validate({**good, "VNPAY_HASH_SECRET": "A1b2C3d4E5f6G7h8", "VIETQR_WEBHOOK_SECRET": None})
    for name in ("VNPAY_HASH_SECRET", "VIETQR_WEBHOOK_SECRET"):
        with pytest.raises(RuntimeError, match=name):
            ProductionConfig.validate({**good, name: "secret"})


def test_ipn_answers_99_and_changes_nothing_when_applying_fails(client, fake_vnpay, monkeypatch):
    vase, _ = two_shop_products()
    checkout, txn, _loc = _opened(client, fake_vnpay, (vase.variants[0].id, 1))
    params = fake_vnpay.pay(txn["ref"])

    def broken(gateway, event):
        db.session.add(ProcessedEvent(id=event.id, type=event.type))
        db.session.flush()
        raise RuntimeError("database went away")

    monkeypatch.setattr(payment_services, "handle_event", broken)
    assert _ipn(client, params).get_json()["RspCode"] == "99"
    monkeypatch.undo()
    assert _count(ProcessedEvent) == 0 and statuses(checkout) == ["pending_payment"]
    assert _ipn(client, params).get_json()["RspCode"] == "00"  # VNPay's retry is applied
    assert statuses(checkout) == ["paid"]


def test_checkout_form_may_post_to_vnpay_only_when_configured(client, app, fake_vnpay):
    csp = client.get("/").headers["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert fake_vnpay.base in form_action and "img-src 'self' data:" in csp
