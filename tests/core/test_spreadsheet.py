from __future__ import annotations

import pytest

from marketplace.core.spreadsheet import safe_cell, safe_row


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Bát Tràng", "xã Bát Tràng", "", "1-2", None, 350000, -5, 0.25, True])
def test_data_is_left_alone(value):
    assert safe_cell(value) == value


def test_rows():
    assert safe_row(["=1", 2, "a"]) == ["'=1", 2, "a"]
