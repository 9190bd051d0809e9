"""Each indicator to the unit on a hand-built world of edge cases (as of 30/06/2026)."""
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role
from marketplace.catalog.models import Recognition
from marketplace.extensions import db
from marketplace.officials import indicators as ind
from marketplace.officials import services
from marketplace.officials.models import RecordedValue
from marketplace.officials.reasons import reasons_for
from tests.factories import make_product, make_shop, make_user, make_village
from tests.officials.helpers import AS_OF, build_world


def _results(as_of=AS_OF, **kw):
    return {r.indicator.id: r for r in ind.compute_all(as_of, **kw)}


def _rows(as_of=AS_OF):
    return {r["slug"]: r for r in ind.village_rows(as_of)}


def test_every_indicator_has_its_definition():
    ids = [i.id for i in ind.INDICATORS]
    assert len(ids) == len(set(ids)) == 13
    assert ind.INDICATORS[0].id == "ecommerce_participation" and ind.INDICATORS[0].headline
    for i in ind.INDICATORS:
        assert i.label_vi and i.label_en and i.definition_vi and i.definition_en and i.numerator_vi
        assert i.unit in ("percent", "count", "growth") and i.kind in ("platform", "recorded")


def test_platform_indicators_to_the_unit(app):
    build_world()
    r = _results()
    # Recognized: v1..v7 and v9 (v8 is not recognized, so not in any denominator).
    e = r["ecommerce_participation"]
    assert (e.numerator, e.denominator, e.value) == (3, 8, 37.5)  # v1 (verified listing), v6 (fresh Shopee), v9
    s = r["online_showcase"]
    assert (s.numerator, s.denominator, s.value) == (3, 8, 37.5)  # v1, v5 (unverified shop), v9
    o = r["ocop_share"]
    assert (o.numerator, o.denominator, o.value) == (1, 8, 12.5)  # only v1: v5 expired, v8 unrecognized
    p = r["ip_share"]
    assert (p.numerator, p.denominator, p.value) == (1, 8, 12.5)  # v9's mark has no registration number
    d = r["digitized_products"]
    # v1's photographed product only: v8's is beside the figure (v8 is not recognized), v2's shop is suspended,
    # v3's listing is a draft
    assert d.value == 1 and d.detail["outside_recognized"] == 1
    g = r["production_growth"]
    assert (g.numerator, g.denominator, g.value) == (1_100_000, 1_000_000, 10.0)


def test_village_flags_and_reasons(app):
    build_world()
    rows = _rows()
    why = {slug: reasons_for(row) for slug, row in rows.items()}
    assert rows["v1-ok"]["ecommerce"] == 1 and rows["v1-ok"]["ocop"] == 1 and rows["v1-ok"]["ip"] == 1
    assert rows["v2-suspended"]["ecommerce"] == 0 and rows["v2-suspended"]["showcase"] == 0
    assert why["v2-suspended"]["ecommerce"] == "cửa hàng bị tạm ngưng"
    assert why["v3-draft"]["ecommerce"] == "chỉ có tin nháp"
    assert why["v4-archived"]["showcase"] == "chỉ có tin đã lưu trữ"
    assert rows["v5-unverified"]["showcase"] == 1 and rows["v5-unverified"]["ecommerce"] == 0
    assert why["v5-unverified"]["ecommerce"] == "cửa hàng chưa xác minh"
    assert why["v5-unverified"]["ocop"] == "OCOP hết hạn 01/03/2025"
    assert rows["v6-shopee"]["ecommerce"] == 1 and rows["v6-shopee"]["showcase"] == 0
    assert rows["v7-stale"]["ecommerce"] == 0
    assert "quá 12 tháng" in why["v7-stale"]["ecommerce"] and "31/05/2025" in why["v7-stale"]["ecommerce"]
    assert rows["v8-unrecognized"]["recognized"] == 0 and rows["v8-unrecognized"]["ocop"] == 0
    assert "không tính vào mẫu số" in why["v8-unrecognized"]["ecommerce"]
    assert why["v9-no-cert"]["ocop"] == "chưa có chứng nhận OCOP"
    assert rows["v9-no-cert"]["ip"] == 0
    assert rows["v1-ok"]["sales_this"] == 1_100_000 and rows["v1-ok"]["sales_last"] == 1_000_000
    assert rows["v8-unrecognized"]["sales_this"] == 0  # delivered after the as-of day


def test_presence_age_is_relative_to_the_day_measured(app):
    build_world()
    # On 01/06/2026 the Lazada evidence of 31/05/2025 is 12 months old: still counted; a day later it is not.
    assert _rows(date(2026, 5, 31))["v7-stale"]["ecommerce"] == 1
    assert _rows(date(2026, 6, 1))["v7-stale"]["ecommerce"] == 0


def test_ocop_validity_from_issue_date_when_no_expiry(app):
    v = make_village(slug="issued-only")
    p = make_product(shop=make_shop(village=v), ocop_stars=3, ocop_issued_on=date(2023, 7, 1))
    p.ocop_expires_on = None
    db.session.commit()
    assert _rows(date(2026, 6, 30))["issued-only"]["ocop"] == 1   # 36 months end 01/07/2026
    assert _rows(date(2026, 7, 2))["issued-only"]["ocop"] == 0
    assert reasons_for(_rows(date(2026, 7, 2))["issued-only"])["ocop"] == "OCOP hết hạn 01/07/2026"


def test_two_star_rating_cannot_exist(app):
    with pytest.raises(IntegrityError):
        make_product(ocop_stars=2, ocop_issued_on=date(2025, 1, 1))
    db.session.rollback()


def test_drill_down_by_commune_and_category(app):
    build_world()
    r = _results(commune="xã Bát Tràng")
    e = r["ecommerce_participation"]
    assert (e.numerator, e.denominator) == (2, 3)  # v1, v9 of v1, v2, v9
    r = _results(category="textiles")
    assert (r["online_showcase"].numerator, r["online_showcase"].denominator) == (1, 3)
    groups = {g["key"]: g for g in ind.platform_totals(AS_OF, group_by="commune")}
    assert groups["xã Chuông"]["recognized"] == 2 and groups["xã Chuông"]["ecommerce"] == 1
    assert sum(g["recognized"] for g in groups.values()) == 8


def test_recorded_values_keep_history(app):
    official = make_user(Role.OFFICIAL)
    first = services.record_value(official, "tourism_villages", date(2025, 1, 1), date(2025, 12, 31), 4,
                                  "Báo cáo số 12/BC-SNN")
    db.session.commit()
    assert _results()["tourism_villages"].value == 4
    services.correct_value(official, first, 5, "Báo cáo số 12/BC-SNN (bổ sung)", "Thiếu làng Chuông")
    db.session.commit()
    assert _results()["tourism_villages"].value == 5
    assert db.session.scalar(sa.select(sa.func.count(RecordedValue.id))) == 2
    assert db.session.get(RecordedValue, first.id).value == 4  # the original stays
    with pytest.raises(services.StatsInputError):
        services.correct_value(official, first, 6, "x", "again")  # only the latest can be corrected
    db.session.rollback()
    with pytest.raises(services.StatsInputError):
        services.record_value(official, "ecommerce_participation", date(2025, 1, 1), date(2025, 1, 2), 1, "x")
    with pytest.raises(services.StatsInputError):
        services.record_value(official, "trained_share", date(2025, 1, 1), date(2025, 1, 2), 50, "  ")
    db.session.rollback()
    services.record_value(official, "trained_share", date(2025, 1, 1), date(2025, 12, 31), 62.5, "Khảo sát",
                          numerator=625, denominator=1000)
    db.session.commit()
    t = _results()["trained_share"]
    assert (t.value, t.numerator, t.denominator) == (62.5, 625, 1000)
    assert _results()["environment_share"].value is None


def test_recognition_decisions_are_data(app):
    official = make_user(Role.OFFICIAL)
    new = make_village(slug="moi", recognition=Recognition.NONE)
    up = make_village(slug="nang-hang", recognition=Recognition.CRAFT_VILLAGE)
    old = make_village(slug="cu", recognition=Recognition.NONE)
    db.session.commit()
    services.record_recognition(official, new, "1234/QĐ-UBND", date(2025, 6, 1), Recognition.CRAFT_VILLAGE)
    services.record_recognition(official, up, "2345/QĐ-UBND", date(2026, 2, 1), Recognition.TRADITIONAL)
    services.record_recognition(official, old, "99/QĐ-UBND", date(2024, 12, 1), Recognition.CRAFT_VILLAGE)
    db.session.commit()
    assert new.recognition == Recognition.CRAFT_VILLAGE and new.recognition_decision == "1234/QĐ-UBND"
    assert new.recognition_year == 2025
    assert up.recognition == Recognition.TRADITIONAL
    r = _results()["new_recognitions"]
    assert r.value == 2 and r.detail["upgraded_traditional"] == 1  # the 2024 decision predates the plan
    assert _results()["ecommerce_participation"].denominator == 3  # all three now recognized


def test_listing_counts_agree_with_visible_products_clause(app):
    from marketplace.catalog.models import Product, visible_products_clause

    build_world()
    visible = db.session.scalar(sa.select(sa.func.count(Product.id)).where(visible_products_clause()))
    total = sum(row["listings_visible"] for row in ind.village_rows(AS_OF))
    assert total == visible == 5


def test_totals_and_groups_match_separate_queries(app):
    build_world()
    for by in ("commune", "category"):
        total, groups = ind.totals_and_groups(AS_OF, by)
        assert dict(total) | {"level": 0, "key": None} == dict(total)
        assert {k: total[k] for k in ("recognized", "ecommerce", "sales_this")} == \
            {k: ind.platform_totals(AS_OF)[k] for k in ("recognized", "ecommerce", "sales_this")}
        separate = {g["key"]: dict(g) for g in ind.platform_totals(AS_OF, group_by=by)}
        assert {g["key"]: {k: g[k] for k in separate[g["key"]]} for g in groups} == separate


def test_ocop_counts_to_the_day(app):
    """Issued ≤ day ≤ expiry; the expiry is at most issue + 36 months (the stored value) — on its expiry day a
    certificate counts, the day after it does not; before its issue day it does not either."""
    capped = make_village(slug="het-han-36")
    make_product(shop=make_shop(village=capped), ocop_stars=4, ocop_issued_on=date(2023, 6, 30))  # → 30/06/2026
    typed = make_village(slug="het-han-ghi")
    p = make_product(shop=make_shop(village=typed), ocop_stars=3, ocop_issued_on=date(2025, 1, 1))
    p.ocop_expires_on = date(2025, 12, 31)
    db.session.commit()

    def ocop(day):
        return {slug: row["ocop"] for slug, row in _rows(day).items()}

    assert ocop(date(2023, 6, 29))["het-han-36"] == 0   # not yet issued
    assert ocop(date(2023, 6, 30))["het-han-36"] == 1   # its issue day
    assert ocop(date(2026, 6, 30))["het-han-36"] == 1   # issue + 36 months: its last day
    assert ocop(date(2026, 7, 1))["het-han-36"] == 0
    assert ocop(date(2025, 12, 31))["het-han-ghi"] == 1  # the typed expiry day
    assert ocop(date(2026, 1, 1))["het-han-ghi"] == 0


def test_strict_target_at_exactly_its_level(app):
    """"> 50 %": two recognized villages, one with a valid verified OCOP = exactly 50 % — not on target."""
    make_product(shop=make_shop(village=make_village(slug="co-ocop")), ocop_stars=4, ocop_issued_on=date(2025, 1, 1))
    make_village(slug="khong-ocop")
    db.session.commit()
    r = _results()["ocop_share"]
    assert r.value == 50.0
    assert r.indicator.strict and r.indicator.meets(r.value, 50) is False
    assert r.indicator.meets(50.1, 50) is True
    # "≥ 30 %" is not strict: exactly 30 is on target.
    assert ind.BY_ID["ip_share"].meets(30.0, 30) is True
    assert ind.BY_ID["effective_share"].meets(80.0, 80) is False
