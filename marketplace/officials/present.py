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


def expected_on(ind: Indicator, day: date, base: float | None) -> float | None:
    """The straight line from (15/01/2025, the recorded start value) to (end of target year, target).
    No recorded start value, no line (a growth rate needs none: on track means growing at least the
    target rate every year)."""
    line = ind.line_target
    if line is None:
        return None
    target, end = line
    if ind.unit == GROWTH:
        return target
    if base is None:
        return None
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
    baseline: dict | None = None   # the start value in force, with provenance (IndicatorBaseline row)
    target_met: bool | None = None


def trend_series(result: Result, snapshots: dict, as_of: date) -> list[tuple[date, float]]:
    """The card's monthly series: the stored snapshots of earlier months, then this month = the headline
    value itself (so the chart always ends where the card's figure is)."""
    month = as_of.replace(day=1)
    points = [(m, v) for m, v in snapshots.get(result.indicator.id, []) if m < month]
    if result.value is not None:
        points.append((month, float(result.value)))
    return points


def make_card(result: Result, snapshots: dict, as_of: date | None = None, starts: dict | None = None) -> Card:
    ind = result.indicator
    as_of = as_of or stats_today()
    line = ind.line_target
    progress = None
    if line is not None and result.value is not None and line[0]:
        progress = max(0, min(100, round(result.value * 100 / line[0])))
    start = (starts or {}).get(ind.id)
    expected = expected_on(ind, as_of, start["value"] if start else None) if line else None
    on_track = ind.meets(result.value, expected)
    return Card(result, fmt_value(ind, result.value), ind.target_text_vi, progress, expected,
                fmt_value(ind, expected) if expected is not None else "—", on_track,
                trend_series(result, snapshots, as_of), start, ind.meets(result.value, ind.target_2030))


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
