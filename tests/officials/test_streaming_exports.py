"""Streamed exports: the village table, the indicators and every product go out as a generator written a few
rows at a time (the product rows from a server-side cursor, ``yield_per``), with the right content."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog.models import ClaimStatus, Product, ProductStatus, Recognition
from marketplace.extensions import db
from marketplace.officials import exports
from marketplace.shops.models import ShopStatus
from tests.factories import make_ip, make_product, make_shop, make_user, make_village
from tests.officials.helpers import AS_OF, LONG

BULK = 450  # more than two chunks of the CSV writer (200 rows each)


@pytest.fixture
def app_overrides():
    return {"STATS_AS_OF": AS_OF}


@pytest.fixture
def catalog(app):
    w = {}
    v1 = w["v1"] = make_village(slug="v1", commune_vi="xã Bát Tràng")
    v2 = w["v2"] = make_village(slug="v2", recognition=Recognition.NONE, commune_vi="xã Chuông")
    s1 = w["s1"] = make_shop(village=v1, slug="s1")
    s2 = make_shop(village=v2, slug="s2", status=ShopStatus.SUSPENDED)
    mark = make_ip(village=v1, number="4-2020-00001", expires_on=date(2030, 1, 1))
    w["ocop"] = make_product(shop=s1, images=1, description_vi=LONG, ocop_stars=4, ocop_issued_on=date(2025, 1, 10),
                             title_vi="Bình OCOP")
    w["declared"] = make_product(shop=s1, ocop_stars=3, ocop_issued_on=date(2025, 1, 10),
                                 ocop_status=ClaimStatus.DECLARED, ip_protection_id=mark.id, title_vi="Đĩa chờ")
    w["draft"] = make_product(shop=s1, status=ProductStatus.DRAFT, images=1, description_vi=LONG, title_vi="Nháp")
    w["suspended"] = make_product(shop=s2, images=1, description_vi=LONG, title_vi="Cửa hàng tạm ngưng")
    db.session.flush()
    db.session.execute(sa.insert(Product.__table__), [
        {"shop_id": s1.id, "title_vi": f"Hàng loạt {i}", "description_vi": "", "category": "ceramics",
         "status": ProductStatus.ACTIVE} for i in range(BULK)])
    db.session.commit()
    return w


def _streamed(client, url: str, **query):
    response = client.get(url, buffered=False, query_string=query)
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert response.is_streamed                           # a generator, not a body built in memory
    chunks = [c for c in response.response]
    response.close()
    return chunks, list(csv.DictReader(io.StringIO(b"".join(
        c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8-sig"))))


def test_product_export_streams_every_product_with_its_facts(catalog, client, login, official):
    login(client, official)
    chunks, rows = _streamed(client, "/officials/export/products.csv")
    assert len(chunks) >= 3                               # written as it goes: 454 rows, 200 per chunk
    assert len(rows) == BULK + 4
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    by_title = {r["sản phẩm"]: r for r in rows}
    ocop = by_title["Bình OCOP"]
    assert (ocop["đang bán"], ocop["số hoá"], ocop["OCOP tính"], ocop["OCOP chờ xác minh"], ocop["OCOP sao"],
            ocop["làng được công nhận"], ocop["OCOP hết hạn"]) == ("có", "có", "có", "không", "4", "có", "2028-01-10")
    declared = by_title["Đĩa chờ"]
    assert (declared["OCOP tính"], declared["OCOP chờ xác minh"], declared["SHTT tính"],
            declared["SHTT số đăng ký"], declared["số hoá"]) == ("không", "có", "có", "4-2020-00001", "không")
    assert (by_title["Nháp"]["đang bán"], by_title["Nháp"]["trạng thái"]) == ("không", "draft")
    suspended = by_title["Cửa hàng tạm ngưng"]
    assert (suspended["đang bán"], suspended["cửa hàng hoạt động"], suspended["làng được công nhận"],
            suspended["số hoá"]) == ("không", "không", "không", "không")
    # The commune filter applies; the digitized and OCOP counts agree with the indicator's.
    _, filtered = _streamed(client, "/officials/export/products.csv", commune="xã Chuông")
    assert [r["sản phẩm"] for r in filtered] == ["Cửa hàng tạm ngưng"]
    assert sum(r["số hoá"] == "có" and r["làng được công nhận"] == "có" for r in rows) == 1


def test_product_rows_come_from_a_server_side_cursor_in_batches(catalog, monkeypatch):
    seen = []
    real = db.session.execute

    def spy(stmt, *args, **kwargs):
        seen.append(stmt.get_execution_options())
        return real(stmt, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", spy)
    table = exports.product_table()
    assert seen == []                                     # nothing read before the rows are asked for
    first = next(iter(table.rows))
    assert seen and seen[0]["yield_per"] == exports.STREAM_BATCH
    assert first[1] == "Bình OCOP"


def test_village_and_indicator_csv_are_streamed_and_complete(catalog, client, login, official):
    login(client, official)
    _, villages = _streamed(client, "/officials/export/villages.csv")
    assert {r["slug"]: r["tin đang bán"] for r in villages} == {"v1": str(2 + BULK), "v2": "0"}
    _, indicators = _streamed(client, "/officials/export/indicators.csv")
    assert {r["id"]: r["giá trị"] for r in indicators}["digitized_products"] == "1"


def test_product_export_is_for_officials_only(catalog, client, login):
    anonymous = client.get("/officials/export/products.csv")
    assert anonymous.status_code == 302 and "login" in anonymous.headers["Location"]
    shopper = make_user(Role.SHOPPER)
    db.session.commit()
    login(client, shopper)
    refused = client.get("/officials/export/products.csv")
    assert refused.status_code == 403 and "Hàng loạt".encode() not in refused.data
