"""Text helpers: Unicode normalisation, Vietnamese folding, slugs."""
from __future__ import annotations

import re
import unicodedata

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def fold(text: str | None) -> str:
    """Lower-case and strip Vietnamese diacritics, including đ/Đ → d."""
    text = nfc(text).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).lower()


def slugify(text: str, max_length: int = 80) -> str:
    slug = _SLUG_STRIP.sub("-", fold(text)).strip("-")
    return slug[:max_length].strip("-") or "item"
