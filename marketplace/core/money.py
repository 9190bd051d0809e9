"""Money is an integer number of đồng (VND has no minor unit)."""
from __future__ import annotations

from numbers import Integral

MIN_PRICE = 1_000
MAX_PRICE = 99_999_999


def format_vnd(amount: int | None) -> str:
    """``350000`` → ``"350.000 ₫"`` (dot thousands, no decimals)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(int(amount)):,}".replace(",", ".") + " ₫"


def to_minor_unit(amount: int) -> int:
    """The amount Stripe expects for VND (zero-decimal): the same whole number of đồng."""
    if isinstance(amount, bool) or not isinstance(amount, Integral):
        raise TypeError(f"money must be an int number of đồng, got {type(amount).__name__}")
    return int(amount)


def parse_vnd(text: str) -> int | None:
    """Parse what a person types: ``350.000``, ``350,000``, ``350000 ₫`` → 350000; None if not a whole number."""
    if text is None:
        return None
    cleaned = str(text).strip().replace("₫", "").replace("đ", "").replace("VND", "").replace(" ", "")
    cleaned = cleaned.replace("\u00a0", "")
    if not cleaned:
        return None
    digits = cleaned.replace(".", "").replace(",", "")
    if not digits.isdigit():
        return None
    # "350.5" is not a whole number of đồng: dots/commas must group thousands.
    for sep in (".", ","):
        if sep in cleaned:
            groups = cleaned.split(sep)
            if any(len(g) != 3 for g in groups[1:]) or not groups[0]:
                return None
    return int(digits)
