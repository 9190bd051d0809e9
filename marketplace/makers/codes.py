"""The short code of a product's QR (``/q/<code>``): the product id in Crockford base32, at least four
symbols, then one check symbol (the id mod 37), so that a mistyped code answers 404 instead of another
product. Derived from the id alone: it never changes, whatever happens to the title or slug, and every
product has one without storing anything."""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"  # Crockford's 37 check symbols
MIN_LENGTH = 4
MAX_ID = 2**31 - 1
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def encode(product_id: int) -> str:
    if not 1 <= product_id <= MAX_ID:
        raise ValueError("product id out of range")
    digits, n = [], product_id
    while n:
        n, r = divmod(n, 32)
        digits.append(ALPHABET[r])
    body = "".join(reversed(digits)).rjust(MIN_LENGTH, "0")
    return body + CHECK_SYMBOLS[product_id % 37]


def decode(code: str) -> int | None:
    """The product id of ``code`` (case-insensitive, O/I/L read as 0/1), or None when it is not one."""
    if not isinstance(code, str) or not MIN_LENGTH + 1 <= len(code) <= 9:
        return None
    text = code.upper().translate(_ALIASES)
    body, check = text[:-1], text[-1]
    value = 0
    for symbol in body:
        index = ALPHABET.find(symbol)
        if index < 0:
            return None
        value = value * 32 + index
    if not 1 <= value <= MAX_ID or CHECK_SYMBOLS[value % 37] != check:
        return None
    return value if encode(value) == text else None  # one spelling per product (no extra leading zeros)
