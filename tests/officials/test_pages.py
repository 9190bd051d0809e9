"""Dashboard, village table, records, exports, snapshots, public page and JSON."""
import csv
import io
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.officials.models import (
    ExternalPresence,
    RecognitionDecision,
    RecordedValue,
    StatSnapshot,
    TourRoute,
)
from tests.factories import make_user
from tests.officials.helpers import AS_OF, build_world

PERSONAL = ("Nguyễn Thị Bí Mật", "bimat@example.vn", "0912345678", "Ngõ Riêng Tư", "Phường Kín")
OFFICIAL_PAGES = ("/officials", "/officials/villages", "/officials/records", "/officials/villages?sort=sales&dir=desc",
                  "/officials?commune=xã Bát Tràng&by=category", "/officials/villages?only=not_ecommerce&category=textiles",
                  "/officials/export/indicators.csv", "/officials/export/villages.csv",
                  "/officials/export/indicators.xlsx", "/officials/export/villages.xlsx", "/api/v1/stats/villages")


@pytest.fixture
def app_overrides():
    return {"STATS_AS_OF": AS_OF}


def test_access(app, client, login, official):
    for url in OFFICIAL_PAGES:
        anon = client.get(url)
        if url.startswith("/api/"):  # JSON clients: 401 with the API's error document
            assert anon.status_code == 401 and anon.json["error"]["code"] == "unauthorized", url
            continue
        # pages and downloads: 302 to the sign-in form, which comes back to the same address
        assert anon.status_code == 302, url
        location = urlsplit(anon.headers["Location"])
        assert location.path == "/account/login", url
        assert parse_qs(location.query)["next"] == [unquote(url)], url
    shopper = make_user(Role.SHOPPER)
    db.session.commit()
    login(client, shopper)
    for url in OFFICIAL_PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post("/officials/records/values", data={}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordedValue)) == 0  # nothing recorded
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    assert client.get("/officials").status_code == 200


def test_pages_render_without_personal_data(app, client, login, official):
    build_world()
    login(client, official)
    for url in OFFICIAL_PAGES + ("/minh-bach", "/transparency", "/api/v1/stats/indicators"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data()
        if url.endswith(".xlsx"):
            continue
        text = body.decode("utf-8")
        for secret in PERSONAL:
            assert secret not in text, (url, secret)
    page = client.get("/officials").get_data(as_text=True)
    assert "37,5 %" in page and "3 / 8" in page and "+10 %" in page and "1.100.000 ₫ / 1.000.000 ₫" in page
    assert "<script" not in page
    english = client.get("/officials?lang=en").get_data(as_text=True)
    assert "37.5 %" in english and "Craft villages taking part in e-commerce" in english
    table = client.get("/officials/villages?lang=vi").get_data(as_text=True)
    assert "cửa hàng chưa xác minh" in table and "OCOP hết hạn 01/03/2025" in table
    assert "chỉ có tin nháp" in table and "cửa hàng bị tạm ngưng" in table


def test_public_page_needs_no_login(app, client):
    build_world()
    page = client.get("/minh-bach")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Làng nghề tham gia thương mại điện tử" in text
    assert client.get("/transparency").status_code == 200
    for secret in PERSONAL:
        assert secret not in text


def test_json_matches_the_indicators(app, client, login, official):
    build_world()
    data = client.get("/api/v1/stats/indicators").get_json()
    by_id = {i["id"]: i for i in data["indicators"]}
    assert len(by_id) == 13
    e = by_id["ecommerce_participation"]
    assert e["denominator"] == 8 and e["target_2030"] == 30 and e["unit"] == "percent"
    assert set(e) >= {"label", "value", "numerator", "definition", "on_track", "orientation_2050"}
    login(client, official)
    villages = client.get("/api/v1/stats/villages").get_json()
    assert villages["count"] == 9
    first = villages["villages"][0]
    assert set(first["counts"]) == {"ecommerce_participation", "online_showcase", "ocop_share", "ip_share"}
    assert "reasons" in first and "email" not in str(first)


def test_xlsx_export(app, client, login, official):
    build_world()
    login(client, official)
    for table, first_header in (("indicators", "id"), ("villages", "slug")):
        response = client.get(f"/officials/export/{table}.xlsx")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        wb = load_workbook(io.BytesIO(response.data))
        ws = wb.worksheets[0]
        assert ws.freeze_panes == "A2"
        assert ws.cell(row=1, column=1).value == first_header
        assert "Định nghĩa" in wb.sheetnames and "Thông tin" in wb.sheetnames
        assert wb["Thông tin"]["A1"].value.startswith("xuất lúc")
        assert wb["Thông tin"]["B1"].number_format == "yyyy-mm-dd hh:mm:ss"
        defs = [row[0].value for row in wb["Định nghĩa"].iter_rows(min_row=2)]
        assert "ecommerce_participation" in defs
    wb = load_workbook(io.BytesIO(client.get("/officials/export/indicators.xlsx").data))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    value_col = headers.index("giá trị")
    assert rows["ecommerce_participation"][value_col].number_format == "0.0%"
    assert rows["digitized_products"][value_col].number_format == "#,##0"
    wb = load_workbook(io.BytesIO(client.get("/officials/export/villages.xlsx").data))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    col = headers.index("tin đang bán")
    assert ws.cell(row=2, column=col + 1).number_format == "#,##0"
    assert ws.max_row == 10


def test_csv_export(app, client, login, official):
    build_world()
    login(client, official)
    text = client.get("/officials/export/villages.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "slug"
    body = [r for r in rows[1:10]]
    assert {r[0] for r in body} >= {"v1-ok", "v9-no-cert"}
    assert all(len(r) == len(rows[0]) for r in rows)  # data rows only: no notes under the table
    ind_text = client.get("/officials/export/indicators.csv").data.decode("utf-8-sig")
    assert "ecommerce_participation" in ind_text and "#" not in ind_text


def test_snapshot_is_idempotent_per_month(app, runner):
    build_world()
    result = runner.invoke(args=["stats", "snapshot", "--as-of", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert "2026-06" in result.output
    count = db.session.scalar(sa.select(sa.func.count(StatSnapshot.id)))
    assert count == 13
    runner.invoke(args=["stats", "snapshot", "--as-of", "2026-06-15"])
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(StatSnapshot.id))) == 13
    runner.invoke(args=["stats", "snapshot", "--as-of", "2026-07-01"])
    assert db.session.scalar(sa.select(sa.func.count(StatSnapshot.id))) == 26
    june = db.session.scalar(sa.select(StatSnapshot).where(StatSnapshot.month == date(2026, 6, 1),
                                                          StatSnapshot.indicator_id == "ecommerce_participation"))
    assert (june.numerator, june.denominator) == (3, 8)


def test_trend_reads_snapshots(app, client, login, official):
    for i, value in enumerate((10.0, 12.0, 15.0)):
        db.session.add(StatSnapshot(month=date(2025, 1 + i, 1), indicator_id="ecommerce_participation", value=value,
                                    numerator=value, denominator=100))
    db.session.commit()
    login(client, official)
    page = client.get("/officials").get_data(as_text=True)
    assert "<polyline" in page and "01/2025" in page


def test_record_forms(app, client, login, official):
    build_world()
    login(client, official)
    v = db.session.scalar(sa.select(RecordedValue.id))
    assert v is None
    r = client.post("/officials/records/values", data={
        "indicator_id": "tour_routes", "period_start": "2025-01-01", "period_end": "2025-12-31", "value": "3",
        "evidence": "Quyết định 55/QĐ-SDL"})
    assert r.status_code == 400  # a route is entered as its villages, not as a count
    r = client.post("/officials/records/values", data={
        "indicator_id": "tourism_villages", "period_start": "2025-01-01", "period_end": "2025-12-31", "value": "3",
        "evidence": "Báo cáo 55/BC-SDL"})
    assert r.status_code == 303
    rec = db.session.scalar(sa.select(RecordedValue))
    assert rec.value == 3 and rec.entered_by_id == official.id
    r = client.post(f"/officials/records/values/{rec.id}/correct", data={
        "value": "4", "evidence": "bổ sung tuyến", "note": "thiếu một tuyến"})
    assert r.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(RecordedValue.id))) == 2
    r = client.post("/officials/records/values", data={"indicator_id": "tourism_villages", "period_start": "x",
                                                       "period_end": "2025-12-31", "value": "3", "evidence": "e"})
    assert r.status_code == 400  # the form again, the error beside the field, nothing stored
    assert 'id="err-value-period_start"' in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RecordedValue.id))) == 2
    from marketplace.catalog.models import CraftVillage

    v7 = db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == "v7-stale"))
    r = client.post("/officials/records/presences", data={
        "village_id": str(v7.id), "platform": "TikTok Shop", "evidence": "ảnh chụp 01/06/2026",
        "evidence_date": "2026-06-01", "url": "https://example.vn/shop"})
    assert r.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(ExternalPresence.id))) == 3
    r = client.post("/officials/records/recognitions", data={
        "village_id": str(v7.id), "number": "77/QĐ-UBND", "decided_on": "2025-09-09",
        "title": "lang_nghe_truyen_thong"})
    assert r.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(RecognitionDecision.id))) == 1
    v1 = db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == "v1-ok"))
    r = client.post("/officials/records/routes", data={
        "name": "Gốm và sừng", "opened_on": "2026-03-01", "evidence": "Quyết định 55/QĐ-SDL",
        "stop_1": str(v1.id), "stop_2": "", "stop_3": str(v7.id)})
    assert r.status_code == 303
    route = db.session.scalar(sa.select(TourRoute))
    assert [s.village_id for s in route.stops] == [v1.id, v7.id] and [s.position for s in route.stops] == [1, 2]
    r = client.post("/officials/records/routes", data={"name": "Một làng", "opened_on": "2026-03-01",
                                                       "evidence": "e", "stop_1": str(v1.id)})
    assert r.status_code == 400 and 'id="err-route-villages"' in r.get_data(as_text=True)
    r = client.post("/officials/records/crafts", data={"craft_name": "Nghề khảm trai", "number": "88/QĐ-UBND",
                                                       "decided_on": "2025-10-10"})
    assert r.status_code == 303
    r = client.post("/officials/records/baselines", data={"indicator_id": "ocop_share", "value": "25",
                                                          "numerator": "2", "denominator": "8", "source": "Sở NN"})
    assert r.status_code == 303
    r = client.post("/officials/records/baselines", data={"indicator_id": "ocop_share", "value": "60",
                                                          "numerator": "188", "denominator": "324", "source": "x"})
    assert r.status_code == 400 and 'id="err-baseline-numerator"' in r.get_data(as_text=True)
    page = client.get("/officials/records").get_data(as_text=True)
    assert "77/QĐ-UBND" in page and "thiếu một tuyến" in page and "TikTok Shop" in page
    assert "Gốm và sừng" in page and "Nghề khảm trai" in page and "Sở NN" in page


def test_cached_pages_follow_changes(app, client, login, official):
    w = build_world()
    login(client, official)
    assert "3 / 8" in client.get("/officials").get_data(as_text=True)
    assert client.get("/api/v1/stats/indicators").get_json()["indicators"][0]["numerator"] == 3
    w["s9"].status = "suspended"  # v9 drops out
    db.session.commit()
    assert "2 / 8" in client.get("/officials").get_data(as_text=True)
    assert client.get("/api/v1/stats/indicators").get_json()["indicators"][0]["numerator"] == 2
    db.session.execute(sa.update(type(w["s9"])).where(type(w["s9"]).id == w["s9"].id).values(status="active"))
    db.session.commit()  # a Core UPDATE, no ORM objects
    assert "3 / 8" in client.get("/officials").get_data(as_text=True)


def test_demo_dashboard_has_history(demo_app):
    from marketplace.accounts.models import User

    client = demo_app.test_client()
    official = db.session.scalar(sa.select(User).where(User.role == "official"))
    with client.session_transaction() as session:
        session["_user_id"] = official.get_id()
    page = client.get("/officials").get_data(as_text=True)
    assert page.count("<polyline") >= 10
    assert db.session.scalar(sa.select(sa.func.count(StatSnapshot.id))) == 24 * 13
    from marketplace.orders.models import Order

    statuses = set(db.session.scalars(sa.select(Order.status).distinct()))
    assert {"delivered", "completed", "cancelled", "refunded"} <= statuses
    assert db.session.scalar(sa.select(sa.func.count(ExternalPresence.id))) >= 4
    for secret in ("@demo.cholangnghe.vn", "Lan Nguyễn"):
        assert secret not in page


def test_stats_villages_json_answers_401_json_when_not_signed_in(client):
    r = client.get("/api/v1/stats/villages")
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
