"""CSV and XLSX exports of the indicator table and the village table (ISO dates; definitions; export time).

Every row goes out through ``core.spreadsheet.safe_row``: a text cell from a filter in the URL, a village's or
shop's name or any other string is written so that a spreadsheet reads it as data, never as a formula.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font

from marketplace.catalog.models import (
    Category,
    CraftVillage,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
)
from marketplace.core.spreadsheet import safe_row
from marketplace.core.time import to_vn, utcnow
from marketplace.extensions import db
from marketplace.officials import indicators as ind
from marketplace.officials import queries
from marketplace.officials.reasons import reasons_for
from marketplace.shops.models import Shop, ShopStatus

STREAM_BATCH = 1000  # rows fetched per round trip by the streamed exports (server-side cursor)


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]  # (header, kind: text|int|pct|vnd|date|bool|num)
    rows: Iterable[list]  # read once (a generator for the streamed tables)
    filters: dict


def _pct(v):
    return None if v is None else round(v / 100, 4)


def card_facts(card) -> dict:
    """What a card says besides its value, as plain data (shared by the JSON API, CSV and XLSX)."""
    r = card.result
    d = r.detail or {}
    start = card.baseline
    return {
        "target_met": card.target_met,
        "awaiting_verification": d.get("awaiting_verification"),
        "awaiting_verification_villages": d.get("awaiting_villages"),
        "outside_recognized": d.get("outside_recognized", d.get("outside_recognized_this")),
        "refunds_subtracted": d.get("refunds_this"),
        "like_for_like_growth": d.get("like_for_like_growth"),
        "like_for_like_this": d.get("like_for_like_this"),
        "like_for_like_last": d.get("like_for_like_last"),
        "like_for_like_shops": d.get("like_for_like_shops"),
        "new_villages": d.get("new_villages"),
        "upgraded_traditional": d.get("upgraded_traditional"),
        "crafts_recognized": d.get("crafts"),
        "tour_routes": [{"name": x["name"], "villages": x["villages"]} for x in d.get("routes", [])] or None,
        "period_start": d.get("period_start"),
        "period_end": d.get("period_end"),
        "entered_by": d.get("entered_by"),
        "entered_at": d.get("entered_at"),
        "evidence": d.get("evidence"),
        "baseline_value": start["value"] if start else None,
        "baseline_numerator": start["numerator"] if start else None,
        "baseline_denominator": start["denominator"] if start else None,
        "baseline_source": start["source"] if start else None,
        "baseline_entered_by": start["entered_by_name"] if start else None,
        "baseline_entered_at": start["entered_at"] if start else None,
    }


def _routes_text(routes) -> str | None:
    return " | ".join(f"{x['name']}: {' → '.join(x['villages'])}" for x in routes) if routes else None


def indicator_table(commune: str | None = None, category: str | None = None) -> Table:
    rows = []
    for card in queries.cards(commune=commune, category=category):
        r = card.result
        i = r.indicator
        f = card_facts(card)
        percent_like = i.unit in (ind.PERCENT, ind.GROWTH)

        def v(x, pct=percent_like):
            return _pct(x) if pct else x

        rows.append([
            i.id, i.label_vi, i.label_en, i.unit, "nền tảng đo" if i.kind == "platform" else "ghi nhận",
            v(r.value), r.numerator, r.denominator,
            v(i.target_2030) if i.target_2030 is not None else None,
            i.target_text_vi, i.orientation_2050_vi,
            None if card.on_track is None else ("đúng tiến độ" if card.on_track else "chậm tiến độ"),
            f["target_met"], f["awaiting_verification"], f["outside_recognized"], f["refunds_subtracted"],
            _pct(f["like_for_like_growth"]), f["like_for_like_shops"], f["new_villages"], f["upgraded_traditional"],
            f["crafts_recognized"], _routes_text(f["tour_routes"]), f["period_start"], f["period_end"],
            f["entered_by"], _vn_time(f["entered_at"]), f["evidence"],
            v(f["baseline_value"]), f["baseline_numerator"], f["baseline_denominator"], f["baseline_source"],
            f["baseline_entered_by"], _vn_time(f["baseline_entered_at"]),
        ])
    cols = [("id", "text"), ("chỉ tiêu", "text"), ("indicator", "text"), ("đơn vị", "text"), ("loại", "text"),
            ("giá trị", "value"), ("tử số", "num"), ("mẫu số", "num"), ("mục tiêu 2030", "value"),
            ("mục tiêu 2030 (văn bản)", "text"), ("định hướng 2050", "text"), ("tiến độ", "text"),
            ("đạt mục tiêu 2030", "bool"), ("chờ xác minh (không tính)", "int"),
            ("ngoài làng được công nhận (không tính)", "num"), ("đã trừ hoàn tiền (₫)", "vnd"),
            ("tăng trưởng cùng cửa hàng", "pct"), ("số cửa hàng so sánh", "int"), ("làng công nhận mới", "int"),
            ("làng nâng lên truyền thống", "int"), ("nghề được công nhận", "int"), ("tuyến (các làng theo thứ tự)", "text"),
            ("kỳ từ", "date"), ("kỳ đến", "date"), ("người nhập", "text"), ("nhập lúc (giờ Hà Nội)", "datetime"),
            ("minh chứng", "text"), ("khởi điểm 15/01/2025", "value"), ("khởi điểm: tử số", "num"),
            ("khởi điểm: mẫu số", "num"), ("khởi điểm: nguồn", "text"), ("khởi điểm: người nhập", "text"),
            ("khởi điểm: nhập lúc (giờ Hà Nội)", "datetime")]
    return Table("Chỉ tiêu Kế hoạch 282", cols, rows, {"commune": commune, "category": category})


def _vn_time(moment: datetime | None) -> datetime | None:
    return to_vn(moment).replace(tzinfo=None, microsecond=0) if moment else None


def village_dict(row) -> dict:
    reasons = reasons_for(row)
    return {
        "slug": row["slug"], "name": row["name_vi"], "commune": row["commune"], "category": row["category"],
        "recognition": row["recognition"], "recognized": bool(row["recognized"]),
        "shops_active": int(row["shops_active"]), "shops_verified": int(row["shops_verified"]),
        "listings_active": int(row["listings_visible"]), "digitized_products": int(row["digitized"]),
        "ocop_valid_products": int(row["ocop_valid"]), "ip_products": int(row["ip_listings"]),
        "ocop_awaiting_verification": int(row["ocop_awaiting"]), "ip_awaiting_verification": int(row["ip_awaiting"]),
        "external_presence_latest": row["presence_latest"].isoformat() if row["presence_latest"] else None,
        "sales_this_year_to_date": int(row["sales_this"]), "sales_same_period_last_year": int(row["sales_last"]),
        "counts": {"ecommerce_participation": bool(row["ecommerce"]), "online_showcase": bool(row["showcase"]),
                   "ocop_share": bool(row["ocop"]), "ip_share": bool(row["ip"])},
        "reasons": {"ecommerce_participation": reasons["ecommerce"], "online_showcase": reasons["showcase"],
                    "ocop_share": reasons["ocop"], "ip_share": reasons["ip"]},
    }


def _village_rows(rows) -> Iterator[list]:
    for row in rows:
        d = village_dict(row)
        yield [
            d["slug"], d["name"], d["commune"], Category.LABELS.get(d["category"], (d["category"],))[0],
            Recognition.LABELS.get(d["recognition"], (d["recognition"],))[0], d["shops_active"], d["shops_verified"],
            d["listings_active"], d["digitized_products"], d["ocop_valid_products"], d["ip_products"],
            row["presence_latest"], d["sales_this_year_to_date"], d["sales_same_period_last_year"],
            d["counts"]["ecommerce_participation"], d["reasons"]["ecommerce_participation"],
            d["counts"]["online_showcase"], d["counts"]["ocop_share"], d["reasons"]["ocop_share"],
            d["counts"]["ip_share"], d["reasons"]["ip_share"],
        ]


def village_table(commune: str | None = None, category: str | None = None) -> Table:
    """The village table (one row per village: a few hundred, made in the request)."""
    rows = list(_village_rows(queries.villages(commune=commune, category=category)))
    cols = [("slug", "text"), ("làng nghề", "text"), ("xã/phường", "text"), ("nghề", "text"),
            ("danh hiệu", "text"), ("cửa hàng hoạt động", "int"), ("cửa hàng đã xác minh", "int"),
            ("tin đang bán", "int"), ("sản phẩm số hoá", "int"), ("sản phẩm OCOP còn hạn", "int"),
            ("sản phẩm có SHTT", "int"), ("minh chứng sàn khác gần nhất", "date"),
            ("giá trị giao năm nay (₫)", "vnd"), ("cùng kỳ năm trước (₫)", "vnd"),
            ("tính TMĐT", "bool"), ("lý do (TMĐT)", "text"), ("tính gian hàng trực tuyến", "bool"),
            ("tính OCOP", "bool"), ("lý do (OCOP)", "text"), ("tính SHTT", "bool"), ("lý do (SHTT)", "text")]
    return Table("Làng nghề", cols, rows, {"commune": commune, "category": category})


def _cell(value, kind: str):
    if value is None:
        return ""
    if kind == "bool":
        return "có" if value else "không"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _exported_at() -> str:
    return to_vn(utcnow()).replace(microsecond=0).isoformat()


def csv_lines(table: Table) -> Iterator[str]:
    """The CSV as it is written, a few rows at a time (a streamed response holds no more than that)."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer.writerow(safe_row([h for h, _ in table.columns]))
    for n, row in enumerate(table.rows, start=1):
        writer.writerow(safe_row([_cell(v, kind) for v, (_, kind) in zip(row, table.columns)]))
        if n % 200 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def to_csv(table: Table) -> str:
    """The header and the data rows, nothing else (Excel filters and pandas read it as it is); the notes and
    definitions are in ``readme`` (the ZIP export) and the XLSX's sheets."""
    return "".join(csv_lines(table))


PRODUCT_COLUMNS = [
    ("id", "int"), ("sản phẩm", "text"), ("trạng thái", "text"), ("cửa hàng", "text"), ("cửa hàng (slug)", "text"),
    ("cửa hàng hoạt động", "bool"), ("cửa hàng đã xác minh", "bool"), ("làng nghề (slug)", "text"),
    ("làng nghề", "text"), ("xã/phường", "text"), ("làng được công nhận", "bool"), ("đang bán", "bool"),
    ("có ảnh", "bool"), ("số hoá", "bool"), ("OCOP sao", "int"), ("OCOP trạng thái", "text"),
    ("OCOP cấp ngày", "date"), ("OCOP hết hạn", "date"), ("OCOP tính", "bool"), ("OCOP chờ xác minh", "bool"),
    ("SHTT loại", "text"), ("SHTT số đăng ký", "text"), ("SHTT trạng thái", "text"), ("SHTT tính", "bool"),
]


def _product_statement(as_of: date, commune: str | None, category: str | None):
    ocop_ok, ocop_awaiting = ind.ocop_counted_clauses(as_of)
    ip_ok, _ = ind.ip_counted_clauses(as_of)
    visible = sa.and_(Product.status == ProductStatus.ACTIVE, Shop.status == ShopStatus.ACTIVE)
    has_photo = sa.exists(sa.select(ProductImage.id).where(ProductImage.product_id == Product.id))
    described = sa.func.length(sa.func.trim(Product.description_vi)) >= ind.MIN_DESCRIPTION_CHARS
    stmt = (
        sa.select(Product.id, Product.title_vi, Product.status, Shop.name, Shop.slug, Shop.status == ShopStatus.ACTIVE,
                  Shop.verified, CraftVillage.slug, CraftVillage.name_vi, CraftVillage.commune_vi,
                  CraftVillage.recognition.in_(Recognition.RECOGNIZED), visible, has_photo,
                  sa.and_(visible, described, has_photo), Product.ocop_stars, Product.ocop_status,
                  Product.ocop_issued_on, Product.ocop_expires_on, sa.and_(visible, ocop_ok),
                  sa.and_(visible, ocop_awaiting), IpProtection.kind, IpProtection.registration_number,
                  IpProtection.status, sa.and_(visible, ip_ok))
        .select_from(Product).join(Shop, Shop.id == Product.shop_id)
        .join(CraftVillage, CraftVillage.id == Shop.village_id)
        .outerjoin(IpProtection, IpProtection.id == Product.ip_protection_id)
        .order_by(Product.id)
    )
    if commune:
        stmt = stmt.where(CraftVillage.commune_vi == commune)
    if category:
        stmt = stmt.where(CraftVillage.category == category)
    return stmt


def _product_rows(stmt) -> Iterator[list]:
    """Rows from a server-side cursor, ``STREAM_BATCH`` at a time (constant memory at any catalog size)."""
    result = db.session.execute(stmt.execution_options(yield_per=STREAM_BATCH))
    try:
        for row in result:
            yield [None if v is None else bool(v) if kind == "bool" else v
                   for v, (_, kind) in zip(row, PRODUCT_COLUMNS)]
    finally:
        result.close()


def product_table(commune: str | None = None, category: str | None = None) -> Table:
    """Every product with the facts the indicators count it by (on the day measured); rows are read as the
    export is written, never all at once."""
    stmt = _product_statement(ind.stats_today(), commune, category)
    return Table("Sản phẩm", PRODUCT_COLUMNS, _product_rows(stmt), {"commune": commune, "category": category})


def readme(table: Table) -> str:
    """The notes that go with a CSV: export time, filters, how values are written, every definition."""
    lines = [f"{table.title} — Chợ Làng Nghề, Kế hoạch 282/QĐ-UBND", "",
             f"Xuất lúc (giờ Hà Nội): {_exported_at()}"]
    for key, value in table.filters.items():
        lines.append(f"Lọc {key}: {value or 'tất cả'}")
    lines += ["", "Tỷ lệ trong các cột 'giá trị', 'mục tiêu 2030', 'khởi điểm' là phân số (0.274 = 27,4 %).",
              "Ngày theo ISO (YYYY-MM-DD); tiền là đồng (số nguyên).", "", "Định nghĩa:"]
    for i in ind.INDICATORS:
        lines += [f"- {i.id} — {i.label_vi}: {i.definition_vi}", f"  ({i.definition_en})"]
    return "\n".join(lines) + "\n"


def to_zip(table: Table, csv_name: str) -> bytes:
    """The CSV (data rows only) and README.txt (notes and definitions) in one ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(csv_name, to_csv(table).encode("utf-8"))
        z.writestr("README.txt", readme(table).encode("utf-8"))
    return buf.getvalue()


def to_xlsx(table: Table) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = table.title[:31]
    ws.append(safe_row(h for h, _ in table.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    formats = {"int": "#,##0", "vnd": "#,##0", "num": "#,##0.##", "date": "yyyy-mm-dd", "pct": "0.0%",
               "datetime": "yyyy-mm-dd hh:mm:ss"}
    unit_col = next((n for n, (h, _) in enumerate(table.columns) if h == "đơn vị"), None)
    for row in table.rows:
        values = [("có" if v else "không") if kind == "bool" and v is not None else v
                  for v, (_, kind) in zip(row, table.columns)]
        ws.append(safe_row(values))
        r = ws.max_row
        for c, (_, kind) in enumerate(table.columns, start=1):
            cell = ws.cell(row=r, column=c)
            if kind == "value":
                is_pct = unit_col is not None and row[unit_col] in (ind.PERCENT, ind.GROWTH)
                cell.number_format = "0.0%" if is_pct else "#,##0"
            elif kind in formats:
                cell.number_format = formats[kind]
    ws.freeze_panes = "A2"
    for c, (header, _kind) in enumerate(table.columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = max(12, min(40, len(header) + 4))
    defs = wb.create_sheet("Định nghĩa")
    defs.append(safe_row(["id", "chỉ tiêu", "đơn vị", "mục tiêu 2030", "định hướng 2050", "định nghĩa",
                          "definition"]))
    for cell in defs[1]:
        cell.font = Font(bold=True)
    for i in ind.INDICATORS:
        defs.append(safe_row([i.id, i.label_vi, i.unit, i.target_text_vi, i.orientation_2050_vi, i.definition_vi,
                              i.definition_en]))
    defs.freeze_panes = "A2"
    defs.column_dimensions["F"].width = 80
    defs.column_dimensions["G"].width = 80
    meta = wb.create_sheet("Thông tin")
    meta.append(safe_row(["xuất lúc (giờ Hà Nội)", to_vn(utcnow()).replace(tzinfo=None, microsecond=0)]))
    meta["B1"].number_format = "yyyy-mm-dd hh:mm:ss"
    for key, value in table.filters.items():
        meta.append(safe_row([f"lọc: {key}", value or "tất cả"]))
    meta.append(safe_row(["nguồn", "Chợ Làng Nghề — Kế hoạch 282/QĐ-UBND"]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
