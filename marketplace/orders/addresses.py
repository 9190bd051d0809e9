"""Vietnamese addresses after 1 July 2025: 34 provinces/cities, communes/wards directly under them
(no district level). The list ships with the package (data/vn_admin_units_2025.json, 3,321 units,
Hanoi's 126); nothing is fetched at run time. Phones: Vietnamese mobile numbers."""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "vn_admin_units_2025.json"
HANOI_CODE = "01"
# Mobile prefixes in use (after the 2018 11→10 digit change): 03x, 05x, 07x, 08x, 09x.
_MOBILE = re.compile(r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-46-9])\d{7}$")


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def provinces() -> list[tuple[str, str]]:
    """(code, name) for the 34 provinces and centrally-run cities, Hanoi first."""
    items = [(p["code"], p["name"]) for p in _data()["provinces"]]
    return sorted(items, key=lambda item: (item[0] != HANOI_CODE, item[0]))


def province_name(code: str) -> str | None:
    return dict(provinces()).get(code)


def wards(province_code: str) -> list[str]:
    for p in _data()["provinces"]:
        if p["code"] == province_code:
            return [name for _code, name in p["wards"]]
    return []


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", " ".join((text or "").split())).casefold()
    return text


def match_ward(province_code: str, typed: str) -> str | None:
    """The official name of the commune/ward the shopper typed ("Bát Tràng" or "Xã Bát Tràng"), or None."""
    wanted = _fold(typed)
    if not wanted:
        return None
    for name in wards(province_code):
        folded = _fold(name)
        short = folded.split(" ", 1)[1] if folded.startswith(("xã ", "phường ", "đặc khu ")) else folded
        if wanted in (folded, short):
            return name
    return None


def normalize_phone(raw: str) -> str | None:
    """'+84 912 345 678', '0912.345.678' → '0912345678'; None if not a Vietnamese mobile number."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.match(digits) else None
