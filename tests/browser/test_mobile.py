"""Phones (issue 16): at 320, 360 and 412 px no page is wider than the screen, no picture is broken and axe-core
finds no serious or critical violation — home, a product, the cart with items, checkout, the confirmation,
order lookup, the shopper's account pages, the seller dashboard and the officials' dashboard. And the guest's
journey without JavaScript: order with a phone number only (no e-mail), then find the order again by phone +
order code."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import run_axe, shot, sign_in
from tests.browser.test_quality import _report

pytestmark = pytest.mark.browser

WIDTHS = (320, 360, 412)
PHONE = "0987 654 321"

_MEASURE = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.race([
    Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }))),
    new Promise(r => setTimeout(r, 8000)),
  ]);
  const wide = Array.from(document.querySelectorAll('body *')).filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 1;
  }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide,
          broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src)};
}"""


def _check(page, name: str, problems: dict, axe_source: str) -> None:
    found = page.evaluate(_MEASURE)
    if found["scroll"] > found["inner"]:
        problems[f"{name}: overflow"] = f"{found['scroll']} > {found['inner']} ({found['wide']})"
    if found["broken"]:
        problems[f"{name}: broken images"] = found["broken"][:5]
    violations = run_axe(page, axe_source)
    if violations:
        problems[f"{name}: axe"] = _report(violations)


def _fill_guest_checkout(page, email: str = "") -> None:
    page.fill("input[name=recipient_name]", "Trần Văn Minh")
    page.fill("input[name=phone]", PHONE)
    page.fill("input[name=email]", email)
    page.select_option("select[name=province]", "01")
    page.fill("input[name=ward]", "Bát Tràng")
    page.fill("input[name=street]", "Số 12, xóm 2")
    page.check("input[name=payment_method][value=cod]")


def _first_buyable_product(page) -> str:
    page.goto("/search?q=gom+bat+trang")
    for href in page.eval_on_selector_all("a.card-link", "els => els.map(e => e.getAttribute('href'))")[:20]:
        page.goto(href)
        if page.locator("form.buy-form").count():
            return href
    raise AssertionError("no buyable product among the first results")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_overflow_no_broken_image_no_serious_axe_violation(new_page, axe_source, artifacts, width):
    problems: dict = {}
    guest = new_page(width=width, height=740, bypass_csp=True)
    product = _first_buyable_product(guest)
    for name, url in (("home", "/"), ("product", product), ("lookup", "/orders/lookup")):
        guest.goto(url)
        _check(guest, name, problems, axe_source)
    guest.goto(product)
    guest.click("form.buy-form button[type=submit]")
    guest.wait_for_url(re.compile(r"/cart"))
    _check(guest, "cart", problems, axe_source)
    shot(guest, artifacts, f"mobile-cart-{width}")
    guest.goto("/checkout")
    _check(guest, "checkout", problems, axe_source)
    guest.click("form.checkout-form button[type=submit]")  # empty: the error summary
    guest.wait_for_load_state()
    assert guest.locator(".error-summary a[href='#phone']").count() == 1
    _check(guest, "checkout with errors", problems, axe_source)
    _fill_guest_checkout(guest)
    guest.click("form.checkout-form button[type=submit]")
    guest.wait_for_url(re.compile(r"/orders/c/"))
    _check(guest, "confirmation", problems, axe_source)
    shot(guest, artifacts, f"mobile-confirmation-{width}")

    shopper = new_page(width=width, height=740, bypass_csp=True)
    sign_in(shopper, "shopper@demo.cholangnghe.vn")
    for url in ("/account", "/account/orders", "/account/favourites", "/account/addresses"):
        shopper.goto(url)
        _check(shopper, url, problems, axe_source)
    shopper.click(".account-menu summary")  # the open account menu stays on screen
    _check(shopper, "account menu open", problems, axe_source)

    artisan = new_page(width=width, height=740, bypass_csp=True)
    sign_in(artisan, "artisan01@demo.cholangnghe.vn")
    artisan.goto("/seller/")
    _check(artisan, "seller dashboard", problems, axe_source)
    official = new_page(width=width, height=740, bypass_csp=True)
    sign_in(official, "official@demo.cholangnghe.vn")
    official.goto("/officials")
    _check(official, "officials", problems, axe_source)
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_guest_orders_by_phone_only_then_finds_the_order(new_page, artifacts):
    page = new_page(width=360, height=740, javascript=False)
    product = _first_buyable_product(page)
    page.goto(product)
    page.click("form.buy-form button[name=buy_now]")  # "Mua ngay": straight to checkout
    page.wait_for_url(re.compile(r"/checkout"))
    _fill_guest_checkout(page, email="")
    shot(page, artifacts, "guest-phone-checkout")
    page.click("form.checkout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/c/"))
    confirmation_url = page.url
    text = page.inner_text("main")
    code = re.search(r"CLN-\d{6}", text).group(0)
    assert "Tiếp theo là gì?" in text and "Phí vận chuyển" in text
    # the header's cart badge is gone (the cart is empty) and the menu opens without JavaScript
    assert page.locator(".cart-count").count() == 0
    page.click(".account-menu summary")
    page.click(".account-menu a[href='/orders/lookup']")
    page.wait_for_url(re.compile(r"/orders/lookup"))
    page.fill("input[name=phone]", "0912 000 111")  # the wrong phone: not found, nothing revealed
    page.fill("input[name=code]", code)
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_load_state()
    assert "Không tìm thấy đơn hàng" in page.inner_text("main") and "/orders/lookup" in page.url
    page.fill("input[name=phone]", PHONE)
    page.fill("input[name=code]", code)
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/c/"))
    assert page.url == confirmation_url and code in page.inner_text("main")
    shot(page, artifacts, "guest-lookup-found")
