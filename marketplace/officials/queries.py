"""Cached reads for the pages, the exports and the JSON API (all share these, so the numbers agree)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from marketplace.catalog.models import CraftVillage
from marketplace.extensions import db
from marketplace.officials import indicators as ind
from marketplace.officials.cache import cached
from marketplace.officials.indicators import stats_today
from marketplace.officials.present import load_snapshots, make_card


def _platform(as_of: date, by: str, commune: str | None, category: str | None):
    """Totals and drill-down rows from one statement, cached together."""
    return cached(("platform", as_of, by, commune, category),
                  lambda: ind.totals_and_groups(as_of, by, commune, category))


def indicator_results(as_of: date | None = None, commune: str | None = None, category: str | None = None):
    as_of = as_of or stats_today()
    return cached(("results", as_of, commune, category), lambda: ind.compute_all(
        as_of, commune, category, totals=_platform(as_of, "commune", commune, category)[0]))


def breakdown(by: str, as_of: date | None = None):
    as_of = as_of or stats_today()
    return cached(("breakdown", by, as_of), lambda: [
        {**dict(row), "results": ind.results_from_totals(row)} for row in _platform(as_of, by, None, None)[1]
    ])


def snapshots(as_of: date | None = None):
    as_of = as_of or stats_today()
    return cached(("snapshots", as_of), lambda: load_snapshots(as_of))


def baselines():
    return cached(("baselines",), ind.baselines)


def cards(as_of: date | None = None, commune: str | None = None, category: str | None = None):
    """Cards with trend and on-track; a drill-down (commune or category) has neither: the snapshots and
    the recorded start values are city-wide."""
    as_of = as_of or stats_today()
    whole = not (commune or category)
    snaps = snapshots(as_of) if whole else {}
    starts = baselines() if whole else {}
    return [make_card(r, snaps, as_of, starts) for r in indicator_results(as_of, commune, category)]


def villages(as_of: date | None = None, **filters):
    as_of = as_of or stats_today()
    key = ("villages", as_of, tuple(sorted(filters.items())))
    return cached(key, lambda: ind.village_rows(as_of, **filters))


def communes() -> list[str]:
    return cached(("communes",), lambda: list(db.session.scalars(
        sa.select(CraftVillage.commune_vi).where(CraftVillage.commune_vi.is_not(None)).distinct()
        .order_by(CraftVillage.commune_vi))))
