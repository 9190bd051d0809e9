"""Register files for tests: a city list of ``n`` villages as CSV or XLSX (deterministic)."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from marketplace.catalog.hanoi import UNITS
from marketplace.catalog.models import Category
from marketplace.officials.village_register import COLUMNS


def register_rows(n: int = 300, *, start: int = 1) -> list[dict]:
    rows = []
    categories = Category.CHOICES
    for i in range(start, start + n):
        rows.append({
            "code": f"HN-LN-{i:04d}", "name_vi": f"Làng nghề số {i}", "name_en": f"Craft village {i}",
            "commune_vi": UNITS[i % len(UNITS)], "former_district_vi": "huyện Thường Tín" if i % 2 else "",
            "commune_note": "", "craft_vi": "mây tre đan", "craft_en": "bamboo and rattan",
            "category": categories[i % len(categories)], "latitude": f"{20.6 + (i % 70) / 100:.4f}",
            "longitude": f"{105.4 + (i % 55) / 100:.4f}", "tourism": "có" if i % 5 == 0 else "không",
            "notable_products": "", "story_vi": "", "story_en": "", "sources": "Sở NN&MT Hà Nội",
            "recognition": "lang_nghe" if i % 10 == 0 else "",
            "decision_number": f"{i}/QĐ-UBND" if i % 10 == 0 else "", "decision_date": "15/01/2024" if i % 10 == 0 else "",
        })
    return rows


def register_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def register_xlsx(rows: list[dict]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c, "") for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
