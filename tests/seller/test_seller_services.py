"""Product services: validation, publishing rules, ownership (request-free, as the API calls them)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.catalog import services
from marketplace.catalog.models import ProductImage, ProductStatus
from marketplace.core.audit import AuditEntry
from marketplace.core.time import add_months, today_vn
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from tests.factories import make_ip, make_product, make_village

GOOD = {"title_vi": "Bình hút lộc", "description_vi": "Bình gốm men lam vẽ tay tại Bát Tràng, nung 1.200 độ."}


def errors_of(exc_info) -> dict:
    return exc_info.value.details["errors"]


def test_create_product_is_a_draft_of_the_shop_whatever_the_input_says(artisan, shop, other_shop):
    data = dict(GOOD, status="active", shop_id=other_shop.id, owner_id=999, published_at="2020-01-01", id=12345)
    product = services.create_product(artisan, shop, data, variants=[{"name": "Nhỏ", "price": "350.000", "stock": "3"}])
    db.session.commit()
    assert product.shop_id == shop.id
    assert product.status == ProductStatus.DRAFT
    assert product.published_at is None
    assert product.id != 12345
    assert [(v.name, v.price, v.stock) for v in product.variants] == [("Nhỏ", 350_000, 3)]
    assert product.variants[0].sku.startswith(f"P{product.id}-")
    assert product.category == shop.village.category
    assert db.session.query(AuditEntry).filter_by(action="product.create", target_id=str(product.id)).count() == 1


def test_required_fields_and_all_errors_reported_together(artisan, shop):
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, {"title_vi": "  ", "description_vi": "", "weight_grams": "nặng"},
                                variants=[{"price": "12,5", "stock": "-1"}])
    errors = errors_of(exc)
    assert set(errors) >= {"title_vi", "description_vi", "weight_grams", "variants-0-price", "variants-0-stock"}


@pytest.mark.parametrize("price, expected", [
    ("1.000", 1_000), ("350.000", 350_000), ("350,000", 350_000), ("350000 ₫", 350_000), ("99.999.999", 99_999_999),
    (2_500_000, 2_500_000),
])
def test_prices_in_whole_dong(price, expected):
    clean, errors = services.clean_variant_data({"name": "A", "price": price, "stock": "1"})
    assert errors == {}
    assert clean["price"] == expected


@pytest.mark.parametrize("price", ["999", "100.000.000", "350.5", "0", "-5", "abc", "", None, 1.5, True, "1e6"])
def test_bad_prices_refused(price):
    _clean, errors = services.clean_variant_data({"name": "A", "price": price, "stock": "1"})
    assert "price" in errors


@pytest.mark.parametrize("stock, ok", [("0", True), ("12", True), (7, True), ("-1", False), ("1.5x", False), ("abc", False)])
def test_stock_is_a_non_negative_int(stock, ok):
    _clean, errors = services.clean_variant_data({"price": "10.000", "stock": stock})
    assert ("stock" not in errors) is ok


def test_ocop_stars_only_3_4_5_with_number_issuer_and_date(artisan, shop):
    base = dict(GOOD, ocop_certificate_number="12/QĐ-UBND", ocop_issuer="UBND TP Hà Nội", ocop_issued_on="2024-05-20")
    for stars in ("1", "2", "6", "x"):
        with pytest.raises(InvalidInput) as exc:
            services.create_product(artisan, shop, dict(base, ocop_stars=stars))
        assert "ocop_stars" in errors_of(exc)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(GOOD, ocop_stars="4"))
    assert {"ocop_certificate_number", "ocop_issuer", "ocop_issued_on"} <= set(errors_of(exc))
    product = services.create_product(artisan, shop, dict(base, ocop_stars="4"))
    assert product.ocop_stars == 4
    assert product.ocop_issued_on == date(2024, 5, 20)
    assert product.ocop_expires_on == date(2027, 5, 20)  # 36 months unless given


def test_ocop_dates_sensible(artisan, shop):
    base = dict(GOOD, ocop_stars=5, ocop_certificate_number="1", ocop_issuer="UBND")
    tomorrow = today_vn() + timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(base, ocop_issued_on=tomorrow.isoformat()))
    assert "ocop_issued_on" in errors_of(exc)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(base, ocop_issued_on="2024-05-20", ocop_expires_on="2024-05-19"))
    assert "ocop_expires_on" in errors_of(exc)
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(base, ocop_issued_on="31/02/2024"))
    assert "ocop_issued_on" in errors_of(exc)
    product = services.create_product(artisan, shop, dict(base, ocop_issued_on="20/05/2024", ocop_expires_on="2026-01-01"))
    assert product.ocop_expires_on == date(2026, 1, 1)
    # removing the stars clears the certificate
    services.update_product(artisan, product, dict(GOOD, ocop_stars=""))
    assert product.ocop_stars is None and product.ocop_issued_on is None and product.ocop_certificate_number is None


def test_ip_reference_must_belong_to_the_shops_village(artisan, shop):
    own_ip = shop.village.ip_protections[0]
    foreign_ip = make_ip(make_village(), number="4-2020-99999")
    with pytest.raises(InvalidInput) as exc:
        services.create_product(artisan, shop, dict(GOOD, ip_protection_id=foreign_ip.id))
    assert "ip_protection_id" in errors_of(exc)
    with pytest.raises(InvalidInput):
        services.create_product(artisan, shop, dict(GOOD, ip_protection_id="999999"))
    product = services.create_product(artisan, shop, dict(GOOD, ip_protection_id=str(own_ip.id)))
    assert product.ip_protection_id == own_ip.id


def test_details_and_english_text(artisan, shop):
    product = services.create_product(artisan, shop, dict(
        GOOD, title_en="Fortune vase", description_en="Hand painted.", materials="Đất sét", technique="Vuốt tay",
        dimensions="Cao 30 cm", weight_grams="1.500", category="lacquer"))
    assert (product.title_en, product.materials, product.technique, product.dimensions, product.weight_grams,
            product.category) == ("Fortune vase", "Đất sét", "Vuốt tay", "Cao 30 cm", 1500, "lacquer")
    with pytest.raises(InvalidInput) as exc:
        services.update_product(artisan, product, dict(GOOD, category="weapons"))
    assert "category" in errors_of(exc)


def test_publish_needs_a_variant_and_sets_published_at_once(artisan, shop):
    product = services.create_product(artisan, shop, GOOD)
    with pytest.raises(InvalidInput) as exc:
        services.publish_product(artisan, product)
    assert exc.value.field == "variants"
    services.add_variant(artisan, product, {"name": "Bộ", "price": "1.200.000", "stock": "2"})
    with pytest.raises(InvalidInput) as exc:
        services.publish_product(artisan, product)
    assert exc.value.field == "photos" and product.status == ProductStatus.DRAFT
    product.images.append(ProductImage(storage_key="test/svc/1", width=800, height=800, position=0))
    services.publish_product(artisan, product)
    first = product.published_at
    assert product.status == ProductStatus.ACTIVE and first is not None
    services.unpublish_product(artisan, product)
    assert product.status == ProductStatus.DRAFT
    services.publish_product(artisan, product)
    assert product.published_at == first
    services.archive_product(artisan, product)
    assert product.status == ProductStatus.ARCHIVED


def test_variants_update_delete_and_stock(artisan, shop):
    product = make_product(shop=shop, variants=[("Nhỏ", 100_000, 5), ("Lớn", 200_000, 1)])
    small, large = product.variants
    services.update_variant(artisan, small, {"price": "120.000", "status": "x", "product_id": 999})
    assert small.price == 120_000 and small.product_id == product.id
    services.set_stock(artisan, large, "9")
    assert large.stock == 9
    with pytest.raises(InvalidInput):
        services.set_stock(artisan, large, "-3")
    with pytest.raises(InvalidInput) as exc:
        services.update_variant(artisan, large, {"sku": small.sku})
    assert exc.value.field == "sku"
    services.delete_variant(artisan, large)
    assert [v.name for v in product.variants] == ["Nhỏ"]
    with pytest.raises(InvalidInput):  # an active product keeps at least one variant
        services.delete_variant(artisan, small)


def test_another_artisans_shop_is_not_found(artisan, shop, other_shop):
    theirs = other_shop.products[0]
    for call in (
        lambda: services.create_product(artisan, other_shop, GOOD),
        lambda: services.update_product(artisan, theirs, GOOD),
        lambda: services.publish_product(artisan, theirs),
        lambda: services.unpublish_product(artisan, theirs),
        lambda: services.archive_product(artisan, theirs),
        lambda: services.add_variant(artisan, theirs, {"price": "10.000"}),
        lambda: services.update_variant(artisan, theirs.variants[0], {"price": "10.000"}),
        lambda: services.set_stock(artisan, theirs.variants[0], 0),
        lambda: services.delete_variant(artisan, theirs.variants[0]),
        lambda: services.product_for_seller(artisan, theirs.id),
        lambda: services.delete_photo(artisan, theirs.images[0]),
    ):
        with pytest.raises(NotFound):
            call()
    db.session.rollback()
    db.session.refresh(theirs)
    assert theirs.status == ProductStatus.ACTIVE and theirs.variants[0].price == 350_000


def test_add_months_matches_model_expiry():
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)
