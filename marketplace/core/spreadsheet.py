"""Exports never carry formulas: one rule for every CSV and XLSX cell, whatever its source (a filter from
the URL, a product title, a shop name).

A text cell that a spreadsheet would read as a formula or a command — starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (OWASP "CSV injection") — is written with a leading apostrophe, which
spreadsheets show as plain text. Numbers, dates and booleans are left alone: they are never formulas.
"""
from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """``value`` as a spreadsheet cell that can only be data."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]
