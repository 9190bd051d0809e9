"""Accessibility (axe-core: no serious or critical violations) on the key pages, and the home page's
transfer size at a 360-px viewport (≤ 150 KB: HTML + CSS + JS + images, measured over CDP)."""
from __future__ import annotations

import json

import pytest

from tests.browser.conftest import run_axe, shot, sign_in

pytestmark = pytest.mark.browser

HOME_BUDGET_BYTES = 150 * 1024


def _report(violations) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                     + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                                 for n in v["nodes"][:5])
                     for v in violations)


def _first_product(page) -> str:
    page.goto("/search?q=gom+bat+trang")
    return page.get_attribute("a.card-link", "href")


@pytest.mark.parametrize("width", [1280, 360])
def test_public_pages_have_no_serious_axe_violations(new_page, axe_source, artifacts, width):
    page = new_page(width=width, height=900, bypass_csp=True)
    product = _first_product(page)
    found = {}
    for name, url in (("home", "/"), ("search", "/search?q=gom+bat+trang"), ("product", product)):
        page.goto(url)
        found[name] = run_axe(page, axe_source)
    # the cart, with something in it
    page.goto(product)
    page.click("form.buy-form button[type=submit]")
    page.goto("/cart")
    found["cart"] = run_axe(page, axe_source)
    shot(page, artifacts, f"axe-cart-{width}")
    problems = {name: _report(v) for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_listing_form_and_dashboard_have_no_serious_axe_violations(new_page, axe_source):
    found = {}
    artisan = new_page(bypass_csp=True)
    sign_in(artisan, "artisan01@demo.cholangnghe.vn")
    artisan.goto("/seller/products/new")
    assert artisan.locator("input[name=title_vi]").count() == 1
    found["listing form"] = run_axe(artisan, axe_source)
    official = new_page(bypass_csp=True)
    sign_in(official, "official@demo.cholangnghe.vn")
    official.goto("/officials")
    found["dashboard"] = run_axe(official, axe_source)
    problems = {name: _report(v) for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_home_page_weight_at_360px(new_page, artifacts):
    page = new_page(width=360, height=740)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto("/", wait_until="networkidle")
    page.wait_for_timeout(300)
    total = sum(sizes.values())
    lines = [f"{sizes[rid]:>8} {urls.get(rid, '?')}" for rid in sorted(sizes, key=lambda r: -sizes[r])]
    (artifacts / "home-weight-360.txt").write_text(f"total {total} bytes ({total / 1024:.1f} KB)\n" + "\n".join(lines))
    shot(page, artifacts, "home-360")
    print(f"home page at 360 px: {total} bytes ({total / 1024:.1f} KB) in {len(sizes)} requests")
    assert len(sizes) >= 2, "HTML and at least the stylesheet were measured"
    assert total <= HOME_BUDGET_BYTES, "\n".join(lines)
