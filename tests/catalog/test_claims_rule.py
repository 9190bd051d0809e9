"""The OCOP and IP validity rules: one statement in SQL (``ocop_valid_clause``, ``ip_valid_clause``) and one in
Python (``Product.ocop_valid_on``, ``IpProtection.valid_on``), equal on every day and both databases; the stored
expiry is never later than the law allows."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.catalog.models import (
    ClaimStatus,
    CraftVillage,
    IpKind,
    IpProtection,
    Product,
    VillageImage,
    ip_valid_clause,
    ocop_valid_clause,
)
from marketplace.catalog.queries import village_badges
from marketplace.core.time import today_vn
from marketplace.extensions import db
from tests.factories import make_ip, make_product, make_shop, make_village


def _ocop(issued, expires=None, status=ClaimStatus.VERIFIED, stars=4, **kw):
    product = make_product(ocop_stars=stars, ocop_issued_on=issued, ocop_status=status, **kw)
    product.ocop_expires_on = expires
    db.session.flush()
    return product


def test_expiry_is_stored_as_issue_plus_36_months_when_not_typed(app):
    product = _ocop(date(2023, 7, 1))
    db.session.expire(product)
    assert product.ocop_expires_on == date(2026, 7, 1)


def test_a_typed_expiry_never_goes_past_issue_plus_36_months(app):
    product = _ocop(date(2023, 7, 1), expires=date(2028, 7, 1))  # 60 months typed
    db.session.expire(product)
    assert product.ocop_expires_on == date(2026, 7, 1)
    shorter = _ocop(date(2023, 7, 1), expires=date(2025, 1, 1))
    db.session.expire(shorter)
    assert shorter.ocop_expires_on == date(2025, 1, 1)


def test_day_of_expiry_counts_the_day_after_does_not(app):
    product = _ocop(date(2023, 7, 1), expires=date(2026, 7, 1))
    assert product.ocop_valid_on(date(2026, 7, 1))
    assert not product.ocop_valid_on(date(2026, 7, 2))
    assert product.ocop_valid_on(date(2023, 7, 1))          # the day of issue counts
    assert not product.ocop_valid_on(date(2023, 6, 30))     # before issue it does not


def test_issue_date_in_the_future_does_not_count(app):
    product = _ocop(today_vn() + timedelta(days=3))
    assert not product.ocop_valid_on(today_vn())
    assert not product.ocop_valid_on(today_vn(), verified_only=False)
    assert product.ocop_valid_on(today_vn() + timedelta(days=3))
    assert product.ocop_state == "expired"  # not valid today: no badge


def test_only_verified_certificates_count(app):
    declared = _ocop(date(2025, 1, 10), status=ClaimStatus.DECLARED)
    rejected = _ocop(date(2025, 1, 10), status=ClaimStatus.REJECTED)
    day = date(2025, 6, 1)
    assert not declared.ocop_valid_on(day) and declared.ocop_valid_on(day, verified_only=False)
    assert not rejected.ocop_valid_on(day) and rejected.ocop_valid_on(day, verified_only=False)
    assert declared.ocop_state == "pending" and rejected.ocop_state == "rejected"
    assert make_product().ocop_state is None


def test_ocop_status_is_constrained(app):
    product = _ocop(date(2025, 1, 10))
    db.session.commit()
    product.ocop_status = "approved"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _ocop_world():
    today = today_vn()
    issued = [date(2022, 1, 31), date(2023, 2, 28), date(2023, 7, 1), date(2024, 2, 29), today, today + timedelta(1)]
    products = []
    for i, day in enumerate(issued):
        for status in ClaimStatus.CHOICES:
            products.append(_ocop(day, status=status, stars=3 + i % 3))
    products.append(_ocop(date(2024, 5, 1), expires=date(2025, 5, 1)))
    products.append(make_product())  # no certificate
    return products


def test_sql_clause_equals_python_rule_on_every_day(app):
    products = _ocop_world()
    db.session.commit()
    days = sorted({d for p in products if p.ocop_stars for d in
                   (p.ocop_issued_on, p.ocop_expires_on, p.ocop_issued_on - timedelta(1), p.ocop_expires_on + timedelta(1))})
    assert len(days) > 20
    sizes = set()
    for day in days:
        for verified_only in (True, False):
            in_sql = set(db.session.scalars(sa.select(Product.id).where(ocop_valid_clause(day, verified_only))))
            in_python = {p.id for p in products if p.ocop_valid_on(day, verified_only=verified_only)}
            assert in_sql == in_python, (day, verified_only)
            sizes.add(len(in_sql))
    assert 0 in sizes and len(sizes) > 2  # the days chosen tell the rules apart: none, some, more valid


def test_village_page_and_officials_agree_on_a_certificate_with_only_an_issue_date(app):
    village = make_village(slug="chi-ngay-cap")
    product = make_product(shop=make_shop(village=village), ocop_stars=3, ocop_issued_on=today_vn() - timedelta(30))
    product.ocop_expires_on = None
    db.session.commit()
    badges = village_badges(village.id)
    counted = db.session.scalar(sa.select(sa.func.count(Product.id)).where(ocop_valid_clause(today_vn())))
    assert badges["ocop_products"] == 1 == counted and badges["ocop_best"] == 3
    product.ocop_status = ClaimStatus.DECLARED
    db.session.commit()
    assert village_badges(village.id)["ocop_products"] == 0


def test_mark_runs_ten_years_geographical_indication_never_expires(app):
    mark = make_ip(kind=IpKind.COLLECTIVE_MARK, granted_on=date(2015, 3, 10))
    cert = make_ip(kind=IpKind.CERTIFICATION_MARK, granted_on=date(2016, 2, 29), number="4-2016-1")
    gi = make_ip(kind=IpKind.GEOGRAPHICAL_INDICATION, granted_on=date(2010, 1, 1), number="00099",
                 expires_on=date(2020, 1, 1))
    renewed = make_ip(kind=IpKind.COLLECTIVE_MARK, granted_on=date(2015, 3, 10), expires_on=date(2035, 3, 10),
                      number="4-2015-2")
    db.session.commit()
    assert mark.expires_on == date(2025, 3, 10) and cert.expires_on == date(2026, 2, 28)
    assert gi.expires_on is None and renewed.expires_on == date(2035, 3, 10)
    assert mark.valid_on(date(2025, 3, 10)) and not mark.valid_on(date(2025, 3, 11))
    assert mark.state == "expired" and renewed.state == "valid" and gi.valid_on(date(2099, 1, 1))


def test_ip_sql_clause_equals_python_rule(app):
    ips = [
        make_ip(kind=IpKind.COLLECTIVE_MARK, granted_on=date(2015, 3, 10), number=f"4-{i}", status=status)
        for i, status in enumerate(ClaimStatus.CHOICES)
    ] + [
        make_ip(kind=IpKind.GEOGRAPHICAL_INDICATION, granted_on=date(2024, 6, 1), number="GI-1"),
        make_ip(kind=IpKind.OTHER, granted_on=date(2023, 1, 1), expires_on=date(2024, 1, 1), number="O-1"),
        make_ip(kind=IpKind.OTHER, granted_on=None, number="O-2"),
        make_ip(kind=IpKind.GEOGRAPHICAL_INDICATION, granted_on=today_vn() + timedelta(2), number="GI-2"),
    ]
    db.session.commit()
    days = sorted({d for ip in ips for d in (ip.granted_on, ip.expires_on) if d} | {today_vn()})
    days = sorted({d + timedelta(k) for d in days for k in (-1, 0, 1)})
    for day in days:
        for verified_only in (True, False):
            in_sql = set(db.session.scalars(sa.select(IpProtection.id).where(ip_valid_clause(day, verified_only))))
            in_python = {ip.id for ip in ips if ip.valid_on(day, verified_only=verified_only)}
            assert in_sql == in_python, (day, verified_only)
    assert ips[0].status == ClaimStatus.DECLARED and ips[1].status == ClaimStatus.VERIFIED
    assert not ips[0].valid_on(date(2020, 1, 1)) and ips[0].valid_on(date(2020, 1, 1), verified_only=False)
    assert ips[1].valid_on(date(2020, 1, 1))


def test_expired_protection_does_not_count_on_the_village_page(app):
    village = make_village(slug="het-han")
    shop = make_shop(village=village)
    old = make_ip(village=village, granted_on=date(2010, 1, 5))
    make_product(shop=shop, ip_protection_id=old.id)
    db.session.commit()
    assert village_badges(village.id)["ip_products"] == 0
    old.expires_on = date(2030, 1, 5)  # renewed
    db.session.commit()
    assert village_badges(village.id)["ip_products"] == 1


def test_village_code_defaults_to_slug_and_is_unique(app):
    village = make_village(slug="lang-ma")
    db.session.commit()
    assert village.code == "lang-ma"
    db.session.add(CraftVillage(slug="khac", code="lang-ma", name_vi="Khác", craft_vi="x", category="other"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_village_images_go_with_their_village(app):
    village = make_village(slug="co-anh")
    village.images.append(VillageImage(storage_key="villages/x", width=10, height=10, alt_text="ảnh"))
    db.session.commit()
    db.session.delete(village)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(VillageImage.id))) == 0


def test_village_page_labels_a_protection_the_plan_does_not_count(app, client):
    """The village page lists every protection on record; one of a kind the IP indicator does not count
    ("other") says so, and a counted kind does not."""
    village = make_village(slug="lang-vb")
    make_ip(village, kind=IpKind.OTHER, name="Bằng độc quyền kiểu dáng", number="3-2021-00077",
            expires_on=date(2031, 1, 10))
    make_ip(village, kind=IpKind.GEOGRAPHICAL_INDICATION, name="Chỉ dẫn địa lý Vạn Phúc", number="00099")
    db.session.commit()
    page = client.get(f"/villages/{village.slug}").get_data(as_text=True)
    rows = [row for row in page.split("<dd>") if "Bằng độc quyền kiểu dáng" in row or "Chỉ dẫn địa lý Vạn" in row]
    assert len(rows) == 2
    other, gi = sorted(rows, key=lambda r: "Bằng độc quyền" not in r)
    assert "không tính vào chỉ tiêu sở hữu trí tuệ của Đề án" in other.split("</dd>")[0]
    assert "không tính vào chỉ tiêu" not in gi.split("</dd>")[0]
    assert [ip.counts_for_plan for ip in sorted(village.ip_protections, key=lambda i: i.kind)] == [True, False]
