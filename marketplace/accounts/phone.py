"""Vietnamese mobile numbers: 10 digits starting 03/05/07/08/09 (or +84 / 84 followed by the 9 digits)."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"^0[35789]\d{8}$")


def normalize_vn_mobile(raw: str | None) -> str | None:
    """``0912 345 678`` / ``+84 912345678`` → ``0912345678``; None when it is not a Vietnamese mobile."""
    if not raw:
        return None
    value = _SEPARATORS.sub("", raw.strip())
    if value.startswith("+84"):
        value = "0" + value[3:]
    elif value.startswith("84") and len(value) == 11:
        value = "0" + value[2:]
    return value if _MOBILE.match(value) else None
