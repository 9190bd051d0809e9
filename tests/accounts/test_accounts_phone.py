"""Vietnamese mobile numbers as accounts and shops store them."""
from __future__ import annotations

import pytest

from marketplace.accounts.phone import normalize_vn_mobile


@pytest.mark.parametrize("raw,expected", [
    ("0912 345 678", "0912345678"), ("+84 912-345-678", "0912345678"), ("84912345678", "0912345678"),
    ("0387.123.456", "0387123456"), ("0212345678", None), ("091234567", None), ("09123456789", None),
    ("abc", None), ("", None), ("024 3825 1234", None),
])
def test_vietnamese_mobile_numbers(raw, expected):
    assert normalize_vn_mobile(raw) == expected
