"""The register and the claims in a real browser (Chromium through Playwright) against the served demo site.

5. An official imports the city's 300-row register CSV (generated here): preview with the counts, apply, the
   register lists the new villages; importing the same file again changes nothing.
6. An artisan declares an OCOP certificate on a product of a recognized village that has no valid OCOP product
   and sends the certificate's PDF; an official opens the claims queue, downloads the evidence, verifies it with
   a reason; the OCOP indicator on /officials moves by one village, the product page shows the verified badge.

The product and the artisan are picked from a private copy of the same deterministic demo seed (``demo_app``).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.catalog.models import (
    CraftVillage,
    Product,
    ProductStatus,
    Recognition,
    ocop_valid_clause,
    visible_products_clause,
)
from marketplace.core.time import today_vn
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus
from tests.browser.conftest import shot, sign_in
from tests.officials.register_files import register_csv, register_rows

pytestmark = pytest.mark.browser

OFFICIAL = "official@demo.cholangnghe.vn"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def test_journey_5_official_imports_a_300_row_register(new_page, artifacts, tmp_path):
    path = tmp_path / "so-lang-nghe.csv"
    path.write_bytes(register_csv(register_rows(300, start=1001)))
    page = new_page(width=390, height=844)  # a phone
    sign_in(page, OFFICIAL)
    page.goto("/officials/register")
    before = int(re.search(r"(\d+) làng nghề", page.inner_text("main")).group(1))
    page.goto("/officials/register/import")
    page.set_input_files("input[name=file]", str(path))
    page.click("button[value=preview]")
    page.wait_for_load_state()
    summary = page.inner_text("#import-summary")
    assert "300 dòng: 300 làng mới, 0 cập nhật, 0 không đổi, 30 quyết định công nhận; 0 dòng lỗi" in summary
    shot(page, artifacts, "journey5-1-preview")
    page.click("button[value=apply]")
    page.wait_for_url(re.compile(r"/officials/register$"))
    assert "300 làng mới" in page.inner_text(".flash, [role=status]")
    after = int(re.search(r"(\d+) làng nghề", page.inner_text("main")).group(1))
    assert after == before + 300
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no horizontal overflow"
    shot(page, artifacts, "journey5-2-applied")
    # the same file again: the preview says nothing changes
    page.goto("/officials/register/import")
    page.set_input_files("input[name=file]", str(path))
    page.click("button[value=preview]")
    page.wait_for_load_state()
    assert "0 làng mới, 0 cập nhật, 300 không đổi, 0 quyết định" in page.inner_text("#import-summary")
    assert page.console.csp_violations() == []


def _candidate(demo_app) -> tuple[str, int, str]:
    """(artisan email, product id, product title): an active product without OCOP of an active, verified,
    owned shop in a recognized village where no visible product has a valid, verified certificate."""
    today = today_vn()
    with_ocop = (sa.select(Shop.village_id).join(Product, Product.shop_id == Shop.id)
                 .where(visible_products_clause(), ocop_valid_clause(today)))
    row = db.session.execute(
        sa.select(User.email, Product.id, Product.title_vi)
        .join(Shop, Shop.owner_id == User.id).join(Product, Product.shop_id == Shop.id)
        .join(CraftVillage, CraftVillage.id == Shop.village_id)
        .where(CraftVillage.recognition.in_(Recognition.RECOGNIZED), CraftVillage.id.not_in(with_ocop),
               Shop.status == ShopStatus.ACTIVE, Shop.verified.is_(True), Product.status == ProductStatus.ACTIVE,
               Product.ocop_stars.is_(None))
        .order_by(Product.id).limit(1)).first()
    assert row is not None, "the demo has a recognized village without a valid OCOP product"
    return row


def _ocop_card(page) -> tuple[int, int, str]:
    page.goto("/officials")
    card = page.locator("#ind-ocop_share")
    text = card.inner_text()
    numerator, denominator = (int(n.replace(".", "")) for n in re.search(r"([\d.]+) / ([\d.]+)", text).groups())
    return numerator, denominator, text


def test_journey_6_artisan_declares_official_verifies_and_the_indicator_moves(new_page, artifacts, tmp_path,
                                                                             demo_app):
    email, product_id, title = _candidate(demo_app)
    evidence = tmp_path / "giay-chung-nhan-ocop.pdf"
    evidence.write_bytes(PDF)
    issued = (today_vn() - timedelta(days=30)).isoformat()

    official = new_page()
    sign_in(official, OFFICIAL)
    before, total, _text = _ocop_card(official)
    shot(official, artifacts, "journey6-1-dashboard-before")

    artisan = new_page(width=412, height=900)
    sign_in(artisan, email)
    artisan.goto(f"/seller/products/{product_id}/edit")
    assert title in artisan.inner_text("h1")
    artisan.select_option("select[name=ocop_stars]", "4")
    artisan.fill("input[name=ocop_certificate_number]", "1234/QĐ-UBND")
    artisan.fill("input[name=ocop_issuer]", "UBND thành phố Hà Nội")
    artisan.fill("input[name=ocop_issued_on]", issued)
    artisan.click("button[name=action][value=save]")
    artisan.wait_for_load_state()
    assert artisan.locator("#ocop-evidence").count() == 1
    artisan.set_input_files("#ocop-evidence input[name=evidence]", str(evidence))
    artisan.click("#ocop-evidence button[type=submit]")
    artisan.wait_for_load_state()
    assert "Đã gửi bằng chứng" in artisan.inner_text("body") and "Xem tệp đã gửi" in artisan.inner_text("main")
    shot(artisan, artifacts, "journey6-2-artisan-sent")
    public = artisan.context.new_page()
    public.goto(f"/products/{product_id}")
    assert "đang chờ xác minh" in public.inner_text(".ocop")
    public.close()

    # declared, not verified: the figure does not move, the card says one more awaits verification
    declared, _total, text = _ocop_card(official)
    assert declared == before and "đang chờ xác minh" in text

    official.goto("/officials/claims")
    claim = official.locator(f"#ocop-{product_id}")
    assert title in claim.inner_text() and "1234/QĐ-UBND" in claim.inner_text()
    with official.expect_download() as download_info:
        claim.locator("a[href*='/evidence/ocop/']").click()
    download = download_info.value
    saved = artifacts / "journey6-evidence.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes() == PDF
    claim.locator("textarea[name=reason]").fill("Đối chiếu bản gốc giấy chứng nhận 1234/QĐ-UBND")
    shot(official, artifacts, "journey6-3-queue")
    claim.locator("button[value=verified]").click()
    official.wait_for_url(re.compile(r"/officials/claims"))
    assert "Đã xác minh" in official.inner_text(".flash, [role=status]")
    assert official.locator(f"#ocop-{product_id}").count() == 0

    after, total_after, _text = _ocop_card(official)
    assert (after, total_after) == (before + 1, total)
    shot(official, artifacts, "journey6-4-dashboard-after")
    artisan.goto(f"/products/{product_id}")
    assert artisan.locator(".ocop .badge-ocop").count() == 1
    assert "đang chờ xác minh" not in artisan.inner_text(".ocop")
    assert official.console.csp_violations() == [] and artisan.console.csp_violations() == []
