"""Turning results into what the pages show: Vietnamese-style numbers, progress, on track / behind, trends."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from marketplace.core.templating import current_lang
from marketplace.core.time import add_months
from marketplace.extensions import db
from marketplace.officials.indicators import COUNT, GROWTH, PERCENT, PLAN_START, Indicator, Result, stats_today
from marketplace.officials.models import StatSnapshot

TREND_MONTHS = 24


def fmt_number(value: float | None, decimals: int = 1) -> str:
    """27.4 → "27,4" (vi) / "27.4" (en); 1234567 → "1.234.567"."""
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) >= 1 or value == 0:
        text = f"{int(round(value)):,}"
        return text.replace(",", ".") if current_lang() == "vi" else text
    text = f"{value:,.{decimals}f}"
    if current_lang() == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_value(ind: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if ind.unit == PERCENT:
        return f"{fmt_number(value)} %"
    if ind.unit == GROWTH:
        return f"{'+' if value > 0 else ''}{fmt_number(value)} %"
    return fmt_number(value)


def unit_suffix(ind: Indicator) -> str:
    return " %" if ind.unit in (PERCENT, GROWTH) else ""


def baseline(ind: Indicator, snapshots: dict[str, list[tuple[date, float]]]) -> float:
    """The value at the plan's start: the snapshot of January 2025 or the earliest one after; 0 if none."""
    for month, value in snapshots.get(ind.id, []):
        if month >= PLAN_START.replace(day=1):
            return value
    return 0.0


def expected_on(ind: Indicator, day: date, base: float) -> float | None:
    """The straight line from (15/01/2025, baseline) to (end of target year, target)."""
    line = ind.line_target
    if line is None:
        return None
    target, end = line
    if ind.unit == GROWTH:
        return target  # a rate: on track means growing at least that fast every year
    total = (end - PLAN_START).days
    done = min(max((day - PLAN_START).days, 0), total)
    return base + (target - base) * done / total


@dataclass
class Card:
    result: Result
    value_text: str
    target_text: str
    progress: int | None  # 0–100 toward the 2030 (or 2050) target
    expected: float | None
    expected_text: str
    on_track: bool | None
    trend: list[tuple[date, float]]


def make_card(result: Result, snapshots: dict, as_of: date | None = None) -> Card:
    ind = result.indicator
    as_of = as_of or stats_today()
    line = ind.line_target
    progress = None
    if line is not None and result.value is not None and line[0]:
        progress = max(0, min(100, round(result.value * 100 / line[0])))
    expected = expected_on(ind, as_of, baseline(ind, snapshots)) if line else None
    on_track = None if expected is None or result.value is None else result.value >= expected - 1e-9
    return Card(result, fmt_value(ind, result.value), ind.target_text_vi, progress, expected,
                fmt_value(ind, expected) if expected is not None else "—", on_track,
                snapshots.get(ind.id, []))


def load_snapshots(as_of: date | None = None) -> dict[str, list[tuple[date, float]]]:
    """The last 24 months of snapshots per indicator, oldest first (one query)."""
    as_of = as_of or stats_today()
    since = add_months(as_of.replace(day=1), -(TREND_MONTHS - 1))
    out: dict[str, list[tuple[date, float]]] = {}
    rows = db.session.execute(
        sa.select(StatSnapshot.indicator_id, StatSnapshot.month, StatSnapshot.value)
        .where(StatSnapshot.month >= since, StatSnapshot.value.is_not(None))
        .order_by(StatSnapshot.indicator_id, StatSnapshot.month)
    )
    for ind_id, month, value in rows:
        out.setdefault(ind_id, []).append((month, value))
    return out


__all__ = ["COUNT", "fmt_number", "fmt_value", "make_card", "load_snapshots", "Card", "unit_suffix"]
