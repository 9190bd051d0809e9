"""The admin's ledger pages at a 360-px viewport, without JavaScript: no horizontal overflow, the amounts
are there (a cash-on-delivery shop owes the platform its commission)."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_admin_ledger_pages_at_360px_without_javascript(new_page, artifacts):
    page = new_page(width=360, height=740, javascript=False)
    sign_in(page, "admin@demo.cholangnghe.vn")
    page.goto("/admin/ledger")
    assert page.locator("h1").count() == 1
    assert page.evaluate(NO_OVERFLOW), "the ledger overview overflows at 360 px"
    owes = page.locator("[data-amount=shops-owe]").inner_text()
    assert re.fullmatch(r"[\d.]+ ₫", owes) and owes != "0 ₫", owes
    shot(page, artifacts, "ledger-admin-360")
    # a cash-on-delivery shop that owes the platform its commission (the demo also has shops paid by card
    # or transfer, which the platform owes)
    page.locator("table.ledger-shops tbody tr", has_text="Cửa hàng nợ sàn").first.locator("a").click()
    page.wait_for_url(re.compile(r"/admin/ledger/shops/\d+"))
    page.select_option("select[name=month]", "2026-10")
    page.click("form.month-pick button[type=submit]")
    page.wait_for_url(re.compile(r"month=2026-10"))
    assert page.evaluate(NO_OVERFLOW), "the shop statement overflows at 360 px"
    assert page.locator("table.statement-lines tbody tr").count() >= 3
    assert "Cửa hàng nợ sàn" in page.locator(".position-text").inner_text()
    shot(page, artifacts, "ledger-statement-360")
