"""OCOP input: at most 36 months from the issue date, expiry after issue, refused with a field error in the
seller's form, the bulk importer and the service the API shares; an edited certificate is a new claim."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.catalog import services
from marketplace.catalog.models import ClaimStatus, Product
from marketplace.errors import InvalidInput
from marketplace.extensions import db
from tests.seller.test_seller_import import DESC, make_csv, post_import
from tests.seller.test_seller_services import GOOD, errors_of

OCOP = dict(GOOD, ocop_stars="4", ocop_certificate_number="12/QĐ-UBND", ocop_issuer="UBND TP Hà Nội",
            ocop_issued_on="2024-05-20")


def test_expiry_more_than_36_months_after_issue_is_refused(artisan, shop):
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(OCOP, ocop_expires_on="2029-05-20"))  # 60 months
    assert "36" in errors_of(exc)["ocop_expires_on"] and "20/05/2027" in errors_of(exc)["ocop_expires_on"]
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(OCOP, ocop_expires_on="2027-05-21"))  # one day too many
    assert "ocop_expires_on" in errors_of(exc)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(OCOP, ocop_expires_on="2023-01-01"))  # before issue
    assert "ocop_expires_on" in errors_of(exc)
    product = services.create_product(artisan, shop, dict(OCOP, ocop_expires_on="2027-05-20"))  # exactly 36
    assert product.ocop_expires_on == date(2027, 5, 20) and product.ocop_status == ClaimStatus.DECLARED


def test_editing_a_certificate_makes_it_a_new_claim(artisan, shop):
    product = services.create_product(artisan, shop, OCOP)
    product.ocop_status = ClaimStatus.VERIFIED
    product.ocop_reviewed_at = date(2025, 1, 1)
    product.ocop_review_note = "ok"
    db.session.flush()
    services.update_product(artisan, product, dict(OCOP, title_vi="Tên mới"))  # OCOP unchanged
    assert product.ocop_status == ClaimStatus.VERIFIED
    services.update_product(artisan, product, dict(OCOP, ocop_stars="5"))
    assert product.ocop_status == ClaimStatus.DECLARED and product.ocop_reviewed_at is None
    assert product.ocop_review_note is None
    product.ocop_status = ClaimStatus.REJECTED
    services.update_product(artisan, product, {"ocop_issued_on": "2024-06-01"}, partial=True)
    assert product.ocop_status == ClaimStatus.DECLARED and product.ocop_expires_on == date(2027, 5, 20)


def test_seller_form_shows_the_36_month_error(seller, shop):
    response = seller.post("/seller/products/new", data={
        **OCOP, "ocop_expires_on": "2029-05-20", "variants-0-name": "Nhỏ", "variants-0-price": "350.000",
        "variants-0-stock": "3"})
    assert response.status_code == 400  # InvalidInput: the form again, with its field error
    assert "tối đa 36 tháng" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0  # nothing saved


def test_importer_refuses_a_60_month_expiry_per_row(seller, shop):
    rows = [{"product_ref": "A", "title_vi": "Bình", "description_vi": DESC, "price": "350.000", "stock": "1",
             "ocop_stars": "4", "ocop_certificate_number": "12/QĐ", "ocop_issuer": "UBND TP Hà Nội",
             "ocop_issued_on": "20/05/2024", "ocop_expires_on": "20/05/2029"}]
    response = post_import(seller, make_csv(rows))
    html = response.get_data(as_text=True)
    assert "ocop_expires_on:" in html and "tối đa 36 tháng" in html
