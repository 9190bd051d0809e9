"""Browser journey (issue 17): a guest orders; the shop sees the "to ship" count, prints a packing slip and
ships with a tracking number; the guest sees the tracking on the signed order page and sends a message; the
shop reads it. The seller pages are checked at 360 px for horizontal overflow."""
from __future__ import annotations

import re

from tests.browser.conftest import shot, sign_in

ARTISAN = "artisan01@demo.cholangnghe.vn"


def _no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _buyable_product(seller) -> str:
    seller.goto("/seller/products?status=active")
    ids = {int(m) for m in re.findall(r"/seller/products/(\d+)/edit", seller.content())}
    for product_id in sorted(ids):
        seller.goto(f"/products/{product_id}")
        if seller.locator("form.buy-form").count():
            return f"/products/{product_id}"
    raise AssertionError("the demo artisan has a product in stock")


def test_journey_5_guest_order_reaches_the_shop_ships_and_talks(new_page, artifacts):
    seller = new_page(width=360, height=740)
    sign_in(seller, ARTISAN)
    seller.goto("/seller/")
    before = int(seller.inner_text("strong.to-ship"))
    product_url = _buyable_product(seller)

    guest = new_page(width=360, height=740)
    guest.goto(product_url)
    guest.click("form.buy-form button[type=submit]")
    guest.wait_for_load_state()
    guest.goto("/checkout")
    guest.fill("input[name=recipient_name]", "Khách Vãng Lai")
    guest.fill("input[name=phone]", "0987654321")
    guest.fill("input[name=email]", "khach@example.vn")
    guest.fill("input[name=ward]", "Bát Tràng")
    guest.fill("input[name=street]", "Số 9, thôn 1")
    guest.check("input[name=payment_method][value=cod]")
    guest.click("form.checkout-form button[type=submit]")
    guest.wait_for_url(re.compile(r"/orders/c/"))
    order_link = guest.url
    number = re.search(r"CLN-\d{6}", guest.inner_text("main")).group(0)
    order_id = int(number.split("-")[1])

    seller.goto("/seller/")
    assert int(seller.inner_text("strong.to-ship")) == before + 1
    assert _no_overflow(seller), "dashboard at 360 px"
    seller.goto("/seller/orders")
    assert number in seller.inner_text("main"), "the queue opens on 'to ship' with the new order"
    assert _no_overflow(seller), "order queue at 360 px (tables become cards)"
    shot(seller, artifacts, "journey5-1-queue-360")
    seller.goto(f"/seller/orders/slips?ids={order_id}")
    assert "Khách Vãng Lai" in seller.inner_text("body") and "Số 9, thôn 1" in seller.inner_text("body")
    shot(seller, artifacts, "journey5-2-slip")

    seller.goto(f"/seller/orders/{order_id}")
    assert _no_overflow(seller), "seller order page at 360 px"
    seller.fill("input[name=carrier]", "VNPost")
    seller.fill("input[name=tracking_number]", "EB987654321VN")
    seller.click("form.ship-form button[type=submit]")
    seller.wait_for_load_state()
    assert "EB987654321VN" in seller.inner_text("p.tracking")

    guest.goto(order_link)
    assert "EB987654321VN" in guest.inner_text("main"), "the guest sees the tracking number"
    guest.fill(f"#body-{order_id}", "Cảm ơn shop, em chờ hàng ạ.")
    guest.click(f"#messages-h-{order_id} ~ form button[type=submit]")
    guest.wait_for_load_state()
    assert "Cảm ơn shop, em chờ hàng ạ." in guest.inner_text("main")
    shot(guest, artifacts, "journey5-3-guest-message")

    seller.goto("/seller/")
    assert int(seller.inner_text("strong.new-messages")) >= 1
    seller.goto(f"/seller/orders/{order_id}")
    assert "Cảm ơn shop, em chờ hàng ạ." in seller.inner_text("section.order-messages")
    shot(seller, artifacts, "journey5-4-seller-reads")
    assert seller.console.csp_violations() == [] and guest.console.csp_violations() == []
