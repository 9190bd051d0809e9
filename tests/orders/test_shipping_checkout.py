"""Issue 16 (h16shop): shipping up front (one rule, hand-computed fees), phone-only checkout, the buyer's
cancel (stock back, shop told), order lookup by phone + code (no enumeration), saved addresses (no IDOR)."""
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from marketplace.orders.models import Checkout, Order, OrderEvent, SavedAddress, order_number
from marketplace.shops import shipping
from tests.factories import make_product, make_shop, make_user
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token

BANDS = "2000=15000; 5000=30000"


def _shop(**kw):
    return SimpleNamespace(**{"shipping_fee": 35_000, "shipping_fee_hanoi": 20_000, "free_shipping_over": 500_000,
                              "delivery_days_hanoi": "1–2", "delivery_days_other": "3–5",
                              "shipping_weight_bands": BANDS, **kw})


# --- the one rule ---------------------------------------------------------------------------------

@pytest.mark.parametrize("province, subtotal, weight, fee, days", [
    ("01", 100_000, 500, 20_000, "1–2"),                    # Hà Nội fee, light parcel
    ("Thành phố Hà Nội", 100_000, 500, 20_000, "1–2"),      # the name orders store counts as Hà Nội
    ("79", 100_000, 500, 35_000, "3–5"),                    # another province
    ("79", 100_000, 1_999, 35_000, "3–5"),                  # just under the first band
    ("79", 100_000, 2_000, 35_000 + 15_000, "3–5"),         # first band reached
    ("01", 100_000, 4_999, 20_000 + 15_000, "1–2"),
    ("01", 100_000, 5_000, 20_000 + 30_000, "1–2"),         # the heaviest band reached wins
    ("79", 100_000, None, 35_000, "3–5"),                   # no weight known: no surcharge
    ("79", 499_999, 6_000, 35_000 + 30_000, "3–5"),         # one đồng short of the threshold
    ("79", 500_000, 6_000, 0, "3–5"),                       # threshold reached: all of it free
])
def test_quote_hand_computed(province, subtotal, weight, fee, days):
    q = shipping.quote(_shop(), province, subtotal, weight)
    assert (q.fee, q.days) == (fee, days)
    assert q.free == (subtotal >= 500_000)
    assert q.missing_for_free == (0 if q.free else 500_000 - subtotal)


def test_quote_flat_fee_when_no_hanoi_fee_and_no_threshold():
    q = shipping.quote(_shop(shipping_fee_hanoi=None, free_shipping_over=None, shipping_weight_bands=None),
                       "01", 10_000_000, 9_000)
    assert (q.fee, q.free, q.missing_for_free, q.hanoi) == (35_000, False, 0, True)
    # a Hà Nội fee of 0 is a real fee of 0, not "unset"
    assert shipping.quote(_shop(shipping_fee_hanoi=0, shipping_weight_bands=None), "01", 1, 0).fee == 0


@pytest.mark.parametrize("text, parsed", [
    ("", []), ("5000=30000; 2000=15.000", [(2000, 15_000), (5000, 30_000)]), ("1000g: 5000", [(1000, 5000)])])
def test_bands_parse(text, parsed):
    assert shipping.parse_bands(text) == parsed


@pytest.mark.parametrize("text", ["abc", "2000", "0=100", "2000=1; 2000=2", "200000=1", "1=1;2=1;3=1;4=1;5=1;6=1;7=1"])
def test_bands_refused(text):
    with pytest.raises(ValueError):
        shipping.parse_bands(text)


@pytest.mark.parametrize("text, parsed", [("1-2", "1–2"), (" 3 – 5 ", "3–5"), ("4", "4"), ("", None)])
def test_days_parse(text, parsed):
    assert shipping.parse_days(text) == parsed


@pytest.mark.parametrize("text", ["0", "5-2", "2-2", "61", "x", "1-99"])
def test_days_refused(text):
    with pytest.raises(ValueError):
        shipping.parse_days(text)


# --- the same figures on every page and in the order --------------------------------------------------

def _products():
    shop = make_shop(shipping_fee=35_000, shipping_fee_hanoi=20_000, free_shipping_over=1_000_000,
                     delivery_days_hanoi="1–2", delivery_days_other="3–5", shipping_weight_bands=BANDS)
    vase = make_product(shop, title_vi="Bình gốm men lam", price=300_000, stock=5, weight_grams=1_200)
    db.session.commit()
    return vase


def test_cart_checkout_order_and_confirmation_agree(client):
    vase = _products()
    page = client.get(f"/products/{vase.id}", follow_redirects=True).get_data(as_text=True)
    assert "Trong Hà Nội" in page and "20.000 ₫" in page and "35.000 ₫" in page and "1–2 ngày" in page
    add_to_cart(client, vase.variants[0].id, 2)  # 2 × 1.2 kg = 2.4 kg → +15.000 ₫
    cart = client.get("/cart").get_data(as_text=True)
    assert "35.000 ₫" in cart and "50.000 ₫" in cart  # Hà Nội 20.000 + 15.000; other provinces 35.000 + 15.000
    assert "635.000 ₫" in cart  # 600.000 + 35.000
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "province": "79", "ward": "Phường Sài Gòn", "token": token,
                                       "payment_method": "cod"})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    order = db.session.scalar(sa.select(Order))
    assert (order.subtotal, order.shipping_fee, order.total, order.delivery_days) == (600_000, 50_000, 650_000, "3–5")
    confirmation = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "50.000 ₫" in confirmation and "650.000 ₫" in confirmation and "3–5 ngày" in confirmation
    assert "Tiếp theo là gì?" in confirmation


def test_free_shipping_reads_the_same_everywhere(client):
    vase = _products()
    add_to_cart(client, vase.variants[0].id, 4)  # 1.200.000 ≥ threshold
    cart = client.get("/cart").get_data(as_text=True)
    assert "Miễn phí vận chuyển" in cart
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    order = db.session.scalar(sa.select(Order))
    assert order.shipping_fee == 0 and order.total == 1_200_000
    confirmation = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Miễn phí vận chuyển" in confirmation and "0 ₫" not in confirmation.replace("00 ₫", "")


def test_seller_sets_shipping_and_refused_values_show_errors(client, login):
    shop = make_shop()
    db.session.commit()
    login(client, shop.owner)
    form = {"name": shop.name, "village_id": str(shop.village_id), "phone": "0912345678", "shipping_fee": "30.000",
            "shipping_fee_hanoi": "15.000", "delivery_days_hanoi": "1-2", "delivery_days_other": "3-6",
            "shipping_weight_bands": "3000=20000"}
    r = client.post("/seller/shop/edit", data=form)
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert (shop.shipping_fee_hanoi, shop.delivery_days_hanoi, shop.delivery_days_other,
            shop.shipping_weight_bands) == (15_000, "1–2", "3–6", "3000=20000")
    r = client.post("/seller/shop/edit", data={**form, "delivery_days_other": "9-3", "shipping_weight_bands": "x"})
    assert r.status_code == 400
    db.session.expire_all()
    assert shop.delivery_days_other == "3–6" and shop.shipping_weight_bands == "3000=20000"


# --- phone-only checkout ----------------------------------------------------------------------------

def test_guest_orders_with_phone_only(client):
    vase = _products()
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "email": "", "token": token, "payment_method": "cod"})
    assert r.status_code == 303
    checkout = db.session.scalar(sa.select(Checkout))
    assert checkout.email is None and checkout.orders[0].phone == "0912345678"
    assert read_outbox(dispatch=False) == []  # nobody to mail: nothing queued, nothing fails


def test_bad_phone_refused_with_summary_and_nothing_placed(client):
    vase = _products()
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "email": "", "phone": "0123 456 789", "token": token})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert 'class="error-summary"' in page and 'href="#phone"' in page and 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_buy_now_goes_to_checkout(client):
    vase = _products()
    r = client.post("/cart/add", data={"variant_id": vase.variants[0].id, "quantity": 1, "buy_now": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/checkout")


def test_stepper_buttons_change_quantity(client):
    vase = _products()
    add_to_cart(client, vase.variants[0].id, 1)
    vid = vase.variants[0].id
    client.post("/cart/update", data={"set": f"{vid}:3", f"qty-{vid}": "1"})
    with client.session_transaction() as s:
        assert s["cart"] == {str(vid): 3}
    client.post("/cart/update", data={"set": f"{vid}:0"})
    with client.session_transaction() as s:
        assert s["cart"] == {}


# --- the buyer cancels ----------------------------------------------------------------------------

def _guest_order(client):
    vase = _products()
    add_to_cart(client, vase.variants[0].id, 2)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    link = r.headers["Location"]
    return vase, db.session.scalar(sa.select(Order)), link


def _stock(variant_id):
    db.session.expire_all()
    return db.session.get(Variant, variant_id).stock


def test_guest_cancels_before_shipping_stock_back_shop_told(client):
    vase, order, link = _guest_order(client)
    assert _stock(vase.variants[0].id) == 3
    read_outbox()  # the order-placed mail
    token = link.rsplit("/", 1)[1]
    r = client.post(f"/orders/c/{token}/cancel/{order.id}", data={"reason": "Đặt nhầm"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "cancelled"
    assert _stock(vase.variants[0].id) == 5
    mails = read_outbox()
    cancelled = [m for m in mails if vase.shop.owner.email in m["To"] and "hủy" in m["Subject"]]
    assert len(cancelled) == 1 and order_number(order.id) in cancelled[0]["Subject"], [m["Subject"] for m in mails]
    assert "Đặt nhầm" in cancelled[0].get_content()  # the buyer's reason reaches the shop
    # again: refused, nothing returned twice
    r = client.post(f"/orders/c/{token}/cancel/{order.id}")
    assert r.status_code == 303 and _stock(vase.variants[0].id) == 5


def test_cancel_refused_once_shipped(client, login):
    vase, order, link = _guest_order(client)
    order.status = "shipped"
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    client.post(f"/orders/c/{token}/cancel/{order.id}")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "shipped" and _stock(vase.variants[0].id) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                             .where(OrderEvent.to_status == "cancelled")) == 0


def test_cancel_needs_the_orders_own_link(client):
    vase, order, link = _guest_order(client)
    other = make_product(make_shop(), stock=5)
    db.session.commit()
    add_to_cart(client, other.variants[0].id, 1)
    token2 = checkout_token(client)
    link2 = client.post("/checkout", data={**ADDRESS, "token": token2, "payment_method": "cod"}).headers["Location"]
    r = client.post(f"/orders/c/{link2.rsplit('/', 1)[1]}/cancel/{order.id}")  # another checkout's link
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "awaiting_shipment"


def test_signed_in_buyer_cancels_own_order_only(client, login):
    vase = _products()
    buyer, stranger = make_user("shopper"), make_user("shopper")
    db.session.commit()
    login(client, buyer)
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    order = db.session.scalar(sa.select(Order))
    login(client, stranger)
    assert client.post(f"/account/orders/{order.id}/cancel").status_code == 404
    login(client, buyer)
    assert client.post(f"/account/orders/{order.id}/cancel").status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "cancelled" and _stock(vase.variants[0].id) == 5


# --- order lookup ---------------------------------------------------------------------------------

def test_lookup_by_phone_and_code(client):
    vase, order, link = _guest_order(client)
    r = client.post("/orders/lookup", data={"phone": "+84 912 345 678", "code": order_number(order.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith(link.rsplit("/", 1)[1])


def test_lookup_misses_answer_alike(client):
    vase, order, link = _guest_order(client)
    pages = []
    for phone, code in [("0987654321", order_number(order.id)),        # wrong phone, real code
                        ("0912345678", order_number(order.id + 1)),    # right phone, no such code
                        ("0912345678", "CLN-abc"),                     # malformed code
                        ("12", order_number(order.id))]:               # not a phone
        r = client.post("/orders/lookup", data={"phone": phone, "code": code})
        assert r.status_code == 404 and "Location" not in r.headers
        pages.append(re.sub(r'name="csrf_token"[^>]*>', "", r.get_data(as_text=True)))
        assert link.rsplit("/", 1)[1] not in pages[-1]
    assert all("Không tìm thấy đơn hàng với số điện thoại và mã đơn này" in p for p in pages)


# --- saved addresses ------------------------------------------------------------------------------

def test_saved_address_is_offered_and_another_users_is_404(client, login):
    vase = _products()
    buyer, other = make_user("shopper"), make_user("shopper")
    db.session.commit()
    login(client, buyer)
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod", "save_address": "y"})
    mine = db.session.scalar(sa.select(SavedAddress).where(SavedAddress.user_id == buyer.id))
    assert (mine.phone, mine.province_code, mine.ward) == ("0912345678", "01", "Xã Bát Tràng")
    theirs = SavedAddress(user_id=other.id, recipient_name="Khác", phone="0987654321", province_code="01",
                          ward="Xã Bát Tràng", street="Nhà khác")
    db.session.add(theirs)
    db.session.commit()
    theirs_id = theirs.id
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    page = client.get("/checkout").get_data(as_text=True)
    assert f'value="{mine.id}"' in page and "Nhà khác" not in page
    orders_before = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod",
                                       "saved_address": str(theirs_id)})
    assert r.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == orders_before
    assert client.post(f"/account/addresses/{theirs_id}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(SavedAddress, theirs_id) is not None
    r = client.post("/checkout", data={"token": token, "payment_method": "cod", "saved_address": str(mine.id)})
    assert r.status_code == 303  # the saved address fills every field
    latest = db.session.scalar(sa.select(Order).order_by(Order.id.desc()))
    assert (latest.recipient_name, latest.street) == (mine.recipient_name, mine.street)
    assert client.get("/account/addresses").status_code == 200


def test_hanoi_is_named_as_the_address_list_names_it():
    from marketplace.orders import addresses
    assert shipping.HANOI_CODE == addresses.HANOI_CODE
    assert shipping.is_hanoi(addresses.province_name(addresses.HANOI_CODE))
    assert not any(shipping.is_hanoi(name) for code, name in addresses.provinces() if code != addresses.HANOI_CODE)
