"""A tricky world built through the app's own models and services, every indicator line counted by hand,
and every surface checked against the hand count: the functions, the /officials cards, the JSON API, the
CSV, the XLSX and /minh-bach (SQLite and PostgreSQL, through the ``app`` fixture).

The day measured is 30/06/2026 (Hà Nội). Its production-growth windows, in stored UTC:
this year [2025-12-31 17:00, 2026-06-30 17:00), last year [2024-12-31 17:00, 2025-06-30 17:00).

Villages (R = recognized, U = not) — 9 recognized after the decisions below, 1 unrecognized:
  v1 R  two shops (A, B), both verified: A's product photographed + described + verified OCOP 4★;
        B's product photographed + described, covered by a verified collective mark (valid to 2030)
  v2 R  one unverified shop (C): a photographed product with a declared (unverified) OCOP 3★ and a
        declared collective mark → on show, not in e-commerce, OCOP and IP awaiting verification
  v3 R  suspended shop with an active, photographed product holding a verified OCOP → counts nowhere
  v4 R  verified shop with only a draft and an archived product (no visible product)
  v5 R  verified shop, products without photos: OCOP issued after the day (future-dated), OCOP expired on
        01/06/2026, OCOP with a stored 60-month expiry (written past the input checks), a declared OCOP
        (awaiting); an expired certification mark (granted 2014, expired 2024)
  v6 U  verified shop with a photographed, verified-OCOP product and 900.000 ₫ of sales → outside
  v7 R  recognized in 2024 (before the plan), re-confirmed 01/05/2025 (counts nowhere); a fresh Shopee
        presence (e-commerce)
  v8    none → traditional on 01/09/2025: new (not upgraded)
  v9    lang nghề → traditional on 01/02/2026: upgraded
  v10   none → lang nghề on 01/03/2025: new
Hand count (denominator 9 recognized villages):
  e-commerce v1, v5, v7 = 3 → 33,3 %  ·  showcase v1, v2, v5 = 3 → 33,3 %
  digitized A's + B's + C's = 3 (v6's 1 beside)  ·  OCOP v1 = 1 → 11,1 %, 2 awaiting (v2, v5)
  IP v1 = 1 → 11,1 %, 1 awaiting (v2)
  sales last year 3.500.000 − 50.000 refunded = 3.450.000; this year 5.750.000 − 750.000 = 5.000.000
  → growth +44,9 %; like for like (shops A and B) 4.300.000 / 3.450.000 → +24,6 %
  tourism 12 · tour routes 1 (a second opens after the day) · new recognitions 3 (new 2, upgraded 1),
  crafts 1 (another was decided before the plan) · effective 80 % (260/325; exactly 80 is not "> 80 %";
  an entry of 60 % with 188/324 is refused) · trained 64 % · environment and endangered: no entry.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.catalog.models import ClaimStatus, Product, ProductStatus, Recognition
from marketplace.extensions import db
from marketplace.officials import indicators as ind
from marketplace.officials import queries, services
from marketplace.officials.charts import trend_svg
from marketplace.officials.models import ExternalPresence, RecordedValue
from marketplace.orders.models import OrderStatus
from marketplace.payments import cod
from marketplace.payments import services as payments
from marketplace.payments.gateway import EventKind, PaymentEvent, RefundResult, RefundState
from marketplace.payments.models import Refund, RefundStatus
from marketplace.payments.registry import get as gateway
from tests.factories import make_ip, make_product, make_shop, make_user, make_village
from tests.officials.helpers import LONG, make_order, refund

AS_OF = date(2026, 6, 30)


def utc(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi)


@pytest.fixture
def world(app, monkeypatch):
    app.config["STATS_AS_OF"] = AS_OF
    official = make_user(Role.OFFICIAL, name="Chị Mai")
    buyer = make_user(Role.SHOPPER)
    w = {"official": official}

    v1 = w["v1"] = make_village(slug="v1-hai-cua-hang", commune_vi="xã Bát Tràng", category="ceramics")
    shop_a = w["A"] = make_shop(village=v1, slug="a")
    shop_b = w["B"] = make_shop(village=v1, slug="b")
    make_product(shop=shop_a, images=1, description_vi=LONG, ocop_stars=4, ocop_issued_on=date(2025, 1, 10))
    mark = make_ip(village=v1, number="4-2020-00001", expires_on=date(2030, 1, 10))
    make_product(shop=shop_b, images=1, description_vi=LONG, ip_protection_id=mark.id)

    v2 = w["v2"] = make_village(slug="v2-chua-xac-minh", commune_vi="xã Bát Tràng", category="ceramics")
    shop_c = w["C"] = make_shop(village=v2, slug="c", verified=False)
    declared_mark = make_ip(village=v2, number="4-2021-00002", status=ClaimStatus.DECLARED,
                            granted_on=date(2021, 5, 1), expires_on=date(2031, 5, 1))
    make_product(shop=shop_c, images=1, description_vi=LONG, ocop_stars=3, ocop_issued_on=date(2025, 3, 1),
                 ocop_status=ClaimStatus.DECLARED, ip_protection_id=declared_mark.id)

    v3 = make_village(slug="v3-tam-ngung", commune_vi="xã Vạn Phúc", category="textiles")
    make_product(shop=make_shop(village=v3, slug="d", status="suspended"), images=1, description_vi=LONG,
                 ocop_stars=4, ocop_issued_on=date(2025, 2, 1))

    v4 = make_village(slug="v4-khong-tin", commune_vi="xã Vạn Phúc", category="textiles")
    shop_e = make_shop(village=v4, slug="e")
    make_product(shop=shop_e, status=ProductStatus.DRAFT, images=1, description_vi=LONG)
    make_product(shop=shop_e, status=ProductStatus.ARCHIVED, images=1, description_vi=LONG)

    v5 = make_village(slug="v5-ocop-bay", commune_vi="xã Chuông", category="other")
    shop_f = make_shop(village=v5, slug="f")
    make_product(shop=shop_f, ocop_stars=4, ocop_issued_on=date(2026, 7, 15))   # after the day
    make_product(shop=shop_f, ocop_stars=3, ocop_issued_on=date(2023, 6, 1))    # expired 01/06/2026
    long_one = make_product(shop=shop_f, ocop_stars=5, ocop_issued_on=date(2022, 1, 1))
    make_product(shop=shop_f, ocop_stars=5, ocop_issued_on=date(2026, 1, 5), ocop_status=ClaimStatus.DECLARED)
    old_mark = make_ip(village=v5, kind="certification_mark", number="4-2014-00003", granted_on=date(2014, 1, 1),
                       expires_on=date(2024, 1, 1))
    make_product(shop=shop_f, ip_protection_id=old_mark.id)

    v6 = w["v6"] = make_village(slug="v6-chua-cong-nhan", recognition=Recognition.NONE, commune_vi="xã Chuông")
    shop_g = make_shop(village=v6, slug="g")
    make_product(shop=shop_g, images=1, description_vi=LONG, ocop_stars=5, ocop_issued_on=date(2025, 6, 1))

    v7 = make_village(slug="v7-cong-nhan-lai", recognition=Recognition.NONE, commune_vi="xã Chuông")
    v8 = make_village(slug="v8-thang-truyen-thong", recognition=Recognition.NONE, commune_vi="xã Chuông")
    v9 = make_village(slug="v9-nang-cap", recognition=Recognition.CRAFT_VILLAGE, commune_vi="xã Chuông")
    v10 = w["v10"] = make_village(slug="v10-moi", recognition=Recognition.NONE, commune_vi="xã Chuông")
    db.session.add(ExternalPresence(village_id=v7.id, platform="Shopee", evidence="ảnh chụp gian hàng",
                                    evidence_date=date(2026, 4, 2)))
    db.session.commit()
    # A 60-month expiry written past the input checks (a bulk SQL import): the query still refuses it.
    db.session.execute(sa.update(Product).where(Product.id == long_one.id)
                       .values(ocop_expires_on=date(2026, 12, 31)))

    # Recognition decisions and a craft, through the officials' services.
    services.record_recognition(official, v7, "10/QĐ", date(2024, 6, 1), Recognition.CRAFT_VILLAGE)
    services.record_recognition(official, v7, "11/QĐ", date(2025, 5, 1), Recognition.CRAFT_VILLAGE)
    services.record_recognition(official, v8, "12/QĐ", date(2025, 9, 1), Recognition.TRADITIONAL)
    services.record_recognition(official, v9, "13/QĐ", date(2026, 2, 1), Recognition.TRADITIONAL)
    services.record_recognition(official, v10, "14/QĐ", date(2025, 3, 1), Recognition.CRAFT_VILLAGE)
    services.record_craft_recognition(official, "Nghề gốm", "20/QĐ", date(2025, 8, 1), v1)
    services.record_craft_recognition(official, "Nghề lụa", "21/QĐ", date(2024, 11, 1))  # before the plan
    services.create_tour_route(official, "Gốm ven sông", date(2026, 3, 1), "tour mẫu", [v1.id, v10.id, v2.id])
    services.create_tour_route(official, "Mở sau", date(2026, 9, 1), "sau ngày tính", [v2.id, v1.id])

    # Recorded values (the 60 % with 188/324 is refused: see test_inconsistent_fraction_is_refused).
    services.record_value(official, "tourism_villages", date(2025, 1, 1), date(2025, 12, 31), 12, "Sở Du lịch")
    services.record_value(official, "effective_share", date(2025, 1, 1), date(2025, 12, 31), 80.0, "Báo cáo xã",
                          260, 325)
    services.record_value(official, "trained_share", date(2025, 1, 1), date(2025, 12, 31), 64.0, "Sở Lao động",
                          12_800, 20_000)
    # Start values (15/01/2025) with provenance: one indicator ahead, one behind, one exactly at its target.
    services.record_baseline(official, "ecommerce_participation", 20.0, "Khảo sát 01/2025")
    services.record_baseline(official, "ocop_share", 40.0, "Danh sách OCOP 2024")
    services.record_baseline(official, "effective_share", 70.0, "Báo cáo 2024", 70, 100)

    # Orders (cash on delivery, delivered_at in stored UTC) and refunds through the refund flow.
    def order(shop, village, at, amount, status=OrderStatus.DELIVERED):
        return make_order(shop, village, status, at, [(amount, 1)], buyer)

    o1 = order(shop_a, v1, utc(2024, 12, 31, 17, 30), 1_000_000)   # 00:30 01/01/2025 Hà Nội: last year
    o2 = order(shop_a, v1, utc(2025, 6, 30, 16, 30), 500_000)      # 23:30 30/06/2025: last year
    order(shop_a, v1, utc(2025, 6, 30, 17, 30), 9_000_000)         # 00:30 01/07/2025: outside
    order(shop_b, v1, utc(2025, 3, 1, 3), 2_000_000)               # last year
    order(shop_a, v1, utc(2025, 12, 31, 16, 30), 7_000_000)        # 23:30 31/12/2025: neither window
    order(shop_a, v1, utc(2025, 12, 31, 17, 30), 800_000)          # 00:30 01/01/2026: this year
    order(shop_a, v1, utc(2026, 6, 30, 16, 30), 600_000)           # 23:30 30/06/2026: this year
    order(shop_a, v1, utc(2026, 6, 30, 17, 30), 4_000_000)         # 00:30 01/07/2026: outside
    o9 = order(shop_a, v1, utc(2026, 3, 1, 3), 1_200_000)
    o10 = order(shop_a, v1, utc(2026, 2, 1, 3), 300_000)
    order(shop_c, v2, utc(2026, 4, 1, 3), 700_000)                 # a shop new this year (not like for like)
    o12 = order(shop_a, v1, utc(2026, 5, 1, 3), 400_000)
    o13 = order(shop_a, v1, utc(2026, 5, 2, 3), 250_000)
    order(shop_g, v6, utc(2026, 4, 1, 3), 900_000)                 # unrecognized village: beside the figure
    order(shop_a, v1, None, 5_000_000, OrderStatus.CANCELLED)
    order(shop_b, v1, utc(2026, 4, 15, 3), 1_500_000)
    db.session.commit()

    refund(o9, 200_000, utc(2026, 3, 5, 3))       # partial, this year
    refund(o10, 300_000, utc(2026, 2, 3, 3))      # the whole order: it becomes "refunded"
    refund(o2, 100_000, utc(2026, 1, 15, 3))      # last year's sale refunded this year: this year's refund
    refund(o1, 50_000, utc(2025, 2, 1, 3))        # last year
    # The gateway path: the provider answers "pending", its webhook later says "succeeded" (o12) — and one
    # that never succeeds (o13) takes nothing off.
    answers = iter([RefundResult("re_h13_12", RefundState.PENDING), RefundResult("re_h13_13", RefundState.PENDING)])
    monkeypatch.setattr(cod.CashOnDelivery, "refund", lambda self, request: next(answers))
    pending12 = refund(o12, 150_000, utc(2026, 5, 10, 3))
    pending13 = refund(o13, 100_000, utc(2026, 5, 11, 3))
    db.session.commit()
    assert pending12.status == pending13.status == RefundStatus.PENDING
    payments.handle_event(gateway("cod"), PaymentEvent(
        id="evt_h13_1", type="refund.updated", kind=EventKind.REFUND,
        refunds=(RefundResult("re_h13_12", RefundState.SUCCEEDED),)))
    db.session.commit()
    assert db.session.get(Refund, pending12.id).status == RefundStatus.SUCCEEDED
    assert db.session.get(Refund, pending13.id).status == RefundStatus.PENDING
    return w


# The hand count, line by line (value, numerator, denominator).
EXPECTED = {
    "ecommerce_participation": (33.3, 3, 9),
    "online_showcase": (33.3, 3, 9),
    "digitized_products": (3, 3, None),
    "ocop_share": (11.1, 1, 9),
    "ip_share": (11.1, 1, 9),
    "production_growth": (44.9, 5_000_000, 3_450_000),
    "tourism_villages": (12, None, None),
    "tour_routes": (1, 1, None),
    "endangered_restored": (None, None, None),
    "new_recognitions": (3, 3, None),
    "effective_share": (80.0, 260, 325),
    "trained_share": (64.0, 12_800, 20_000),
    "environment_share": (None, None, None),
}
# The start values recorded above: the on-track line from (15/01/2025, start) to (31/12/2030, target).
_DONE = (AS_OF - date(2025, 1, 15)).days / (date(2030, 12, 31) - date(2025, 1, 15)).days
EXPECTED_LINE = {"ecommerce_participation": 20 + (30 - 20) * _DONE,   # 22,4: 33,3 is ahead
                 "ocop_share": 40 + (50 - 40) * _DONE,                # 42,4: 11,1 is behind
                 "effective_share": 70 + (80 - 70) * _DONE}           # 72,4: 80 is ahead
ON_TRACK = {"ecommerce_participation": True, "ocop_share": False, "effective_share": True,
            "production_growth": True,   # +44,9 % against 10 % a year
            "ip_share": None, "online_showcase": None, "digitized_products": None, "tourism_villages": None}


def _num(value):
    return None if value is None else float(value)


def test_functions_equal_the_hand_count(world):
    results = {r.indicator.id: r for r in ind.compute_all(AS_OF)}
    assert set(results) == set(EXPECTED)
    for ind_id, (value, num, den) in EXPECTED.items():
        r = results[ind_id]
        assert (_num(r.value), _num(r.numerator), _num(r.denominator)) == (_num(value), _num(num), _num(den)), ind_id
    assert results["digitized_products"].detail["outside_recognized"] == 1
    assert results["ocop_share"].detail["awaiting_verification"] == 2
    assert results["ocop_share"].detail["awaiting_villages"] == 2
    assert results["ip_share"].detail["awaiting_verification"] == 1
    g = results["production_growth"].detail
    assert g["refunds_this"] == 750_000 and g["refunds_last"] == 50_000 and g["outside_recognized_this"] == 900_000
    assert (g["like_for_like_this"], g["like_for_like_last"], g["like_for_like_shops"]) == (4_300_000, 3_450_000, 2)
    assert g["like_for_like_growth"] == 24.6
    rec = results["new_recognitions"].detail
    assert (rec["new_villages"], rec["upgraded_traditional"], rec["crafts"]) == (2, 1, 1)
    assert rec["reconfirmations_not_counted"] == 1
    routes = results["tour_routes"].detail["routes"]
    assert [(r["name"], r["villages"]) for r in routes] == [("Gốm ven sông", [world["v1"].name_vi,
                                                                              world["v10"].name_vi,
                                                                              world["v2"].name_vi])]
    eff = results["effective_share"].detail
    assert eff["entered_by"] == "Chị Mai" and eff["evidence"] == "Báo cáo xã"
    assert eff["period_start"] == date(2025, 1, 1) and eff["entered_at"] is not None


def test_cards_on_track_and_strict_targets(world):
    from_cards = {c.result.indicator.id: c for c in _cards()}
    for ind_id, expected in EXPECTED_LINE.items():
        assert from_cards[ind_id].expected == pytest.approx(expected)
    for ind_id, on_track in ON_TRACK.items():
        assert from_cards[ind_id].on_track is on_track, ind_id
    # "> 80 %": exactly 80 is not on target; "≥ 80 %" (trained) at 64 is not either; e-commerce ≥ 30 % is.
    assert from_cards["effective_share"].target_met is False
    assert from_cards["trained_share"].target_met is False
    assert from_cards["ecommerce_participation"].target_met is True
    # The trend ends on the headline value (this month's point is the card's figure).
    for card in from_cards.values():
        if card.result.value is not None:
            assert card.trend[-1] == (AS_OF.replace(day=1), float(card.result.value))


def _cards():
    return queries.cards(AS_OF)


def test_inconsistent_fraction_is_refused(world, client, login):
    with pytest.raises(services.StatsInputError) as refused:
        services.record_value(world["official"], "environment_share", date(2025, 1, 1), date(2025, 12, 31), 60.0,
                              "Sở NN&MT", 188, 324)
    assert refused.value.field == "numerator"
    db.session.rollback()
    # The same entry through the page: a field error beside the numerator, 400, nothing stored.
    login(client, world["official"])
    page = client.post("/officials/records/values", data={
        "indicator_id": "environment_share", "period_start": "2025-01-01", "period_end": "2025-12-31",
        "value": "60", "numerator": "188", "denominator": "324", "evidence": "Sở NN&MT"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="err-value-numerator"' in html and "58.0" in html
    assert db.session.scalar(sa.select(sa.func.count(RecordedValue.id))
                             .where(RecordedValue.indicator_id == "environment_share")) == 0


def _card_html(html: str, ind_id: str) -> str:
    match = re.search(rf'<li class="ind-card[^"]*" id="ind-{ind_id}">(.*?)</li>\s*(?=<li class="ind-card|</ul>)',
                      html, re.S)
    assert match, ind_id
    return match.group(1)


VALUE_TEXT = {"ecommerce_participation": "33,3 %", "online_showcase": "33,3 %", "digitized_products": "3",
              "ocop_share": "11,1 %", "ip_share": "11,1 %", "production_growth": "+44,9 %",
              "tourism_villages": "12", "tour_routes": "1", "endangered_restored": "—", "new_recognitions": "3",
              "effective_share": "80 %", "trained_share": "64 %", "environment_share": "—"}


def test_officials_cards_equal_the_hand_count(world, client, login):
    login(client, world["official"])
    html = client.get("/officials").get_data(as_text=True)
    for ind_id, text in VALUE_TEXT.items():
        card = _card_html(html, ind_id)
        assert f'<p class="ind-value">{text}</p>' in card, ind_id
    assert "3 / 9" in _card_html(html, "ecommerce_participation")
    assert "5.000.000 ₫ / 3.450.000 ₫" in _card_html(html, "production_growth")
    assert "+24,6 %" in _card_html(html, "production_growth")            # like for like
    assert "900.000 ₫ của làng chưa được công nhận" in _card_html(html, "production_growth")
    assert "2 bản ghi đang chờ xác minh" in _card_html(html, "ocop_share")
    assert "1 tin của làng chưa được công nhận" in _card_html(html, "digitized_products")
    rec = _card_html(html, "new_recognitions")
    assert "công nhận mới: 2" in rec and "nâng lên truyền thống: 1 / 10" in rec and "nghề được công nhận: 1 / 10" in rec
    eff = _card_html(html, "effective_share")
    assert "260 / 325" in eff and "Chị Mai" in eff and "Báo cáo xã" in eff and "01/01/2025" in eff
    assert "Chậm tiến độ" in _card_html(html, "ocop_share") and "Đúng tiến độ" in _card_html(html, "ecommerce_participation")


def test_transparency_page_equals_the_hand_count(world, client):
    html = client.get("/minh-bach").get_data(as_text=True)
    for ind_id in ("ecommerce_participation", "online_showcase", "digitized_products", "ocop_share", "ip_share",
                   "production_growth", "new_recognitions", "tourism_villages"):
        assert f'<p class="ind-value">{VALUE_TEXT[ind_id]}</p>' in _card_html(html, ind_id), ind_id


def test_json_equals_the_hand_count(world, client):
    data = json.loads(client.get("/api/v1/stats/indicators").get_data(as_text=True))
    assert data["as_of"] == "2026-06-30"
    items = {i["id"]: i for i in data["indicators"]}
    for ind_id, (value, num, den) in EXPECTED.items():
        i = items[ind_id]
        assert (_num(i["value"]), _num(i["numerator"]), _num(i["denominator"])) == (_num(value), _num(num), _num(den))
    assert items["ocop_share"]["awaiting_verification"] == 2 and items["ip_share"]["awaiting_verification"] == 1
    assert items["digitized_products"]["outside_recognized"] == 1
    assert items["production_growth"]["like_for_like_growth"] == 24.6
    assert items["production_growth"]["refunds_subtracted"] == 750_000
    assert (items["new_recognitions"]["new_villages"], items["new_recognitions"]["upgraded_traditional"],
            items["new_recognitions"]["crafts_recognized"]) == (2, 1, 1)
    assert items["effective_share"]["entered_by"] == "Chị Mai" and items["effective_share"]["period_end"] == "2025-12-31"
    assert items["effective_share"]["target_met"] is False and items["effective_share"]["on_track"] is True
    assert items["ocop_share"]["on_track"] is False and items["ocop_share"]["baseline_value"] == 40
    assert items["ocop_share"]["baseline_source"] == "Danh sách OCOP 2024"
    assert items["tour_routes"]["tour_routes"][0]["villages"][0] == world["v1"].name_vi


def test_csv_equals_the_hand_count_and_holds_data_rows_only(world, client, login):
    login(client, world["official"])
    text = client.get("/officials/export/indicators.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(EXPECTED)                  # header + one row per indicator, no notes
    assert not any(line.startswith("#") for line in text.splitlines())
    by_id = {r["id"]: r for r in rows}
    for ind_id, (value, num, den) in EXPECTED.items():
        r = by_id[ind_id]
        unit = ind.BY_ID[ind_id].unit
        got = _num(r["giá trị"] or None)
        want = None if value is None else (round(value / 100, 4) if unit in ("percent", "growth") else value)
        assert got == _num(want), ind_id
        assert _num(r["tử số"] or None) == _num(num) and _num(r["mẫu số"] or None) == _num(den), ind_id
    assert by_id["new_recognitions"]["làng nâng lên truyền thống"] == "1"
    assert by_id["new_recognitions"]["nghề được công nhận"] == "1"
    assert by_id["ocop_share"]["chờ xác minh (không tính)"] == "2"
    assert by_id["effective_share"]["người nhập"] == "Chị Mai" and by_id["effective_share"]["kỳ từ"] == "2025-01-01"
    assert by_id["effective_share"]["đạt mục tiêu 2030"] == "không"
    # The ZIP: the same CSV and a README with the definitions.
    z = zipfile.ZipFile(io.BytesIO(client.get("/officials/export/indicators.zip").data))
    names = z.namelist()
    assert "README.txt" in names and any(n.endswith(".csv") for n in names)
    assert "ocop_share" in z.read("README.txt").decode("utf-8")


def test_xlsx_equals_the_hand_count(world, client, login):
    login(client, world["official"])
    wb = load_workbook(io.BytesIO(client.get("/officials/export/indicators.xlsx").data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    for ind_id, (value, num, den) in EXPECTED.items():
        r = rows[ind_id]
        unit = ind.BY_ID[ind_id].unit
        want = None if value is None else (round(value / 100, 4) if unit in ("percent", "growth") else value)
        assert _num(r["giá trị"]) == _num(want), ind_id
        assert _num(r["tử số"]) == _num(num) and _num(r["mẫu số"]) == _num(den), ind_id
    assert rows["new_recognitions"]["làng nâng lên truyền thống"] == 1
    assert rows["effective_share"]["người nhập"] == "Chị Mai"
    assert rows["ocop_share"]["khởi điểm: nguồn"] == "Danh sách OCOP 2024"
    assert "Định nghĩa" in wb.sheetnames


def test_negative_axis_labels_keep_their_minus_sign(app):
    with app.test_request_context("/?lang=vi"):
        svg = str(trend_svg([(date(2026, 1, 1), -12.5), (date(2026, 2, 1), -0.6), (date(2026, 3, 1), 4.2)], 10,
                            "tăng trưởng", " %"))
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', svg)
    assert labels[:3] == ["-12,5 %", "0 %", "10 %"]
