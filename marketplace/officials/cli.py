"""``flask stats snapshot``: store this month's indicator values (idempotent per month)."""
from __future__ import annotations

from datetime import date

import click

from marketplace.core import jobs
from marketplace.officials import bp
from marketplace.officials.services import take_snapshot


@jobs.job("officials.snapshot", timeout=900, retries=3, intervals=(60, 600, 3600), cron="JOB_STATS_CRON")
def snapshot_job() -> int:
    """The scheduled snapshot (``flask worker``): idempotent per month, like the command."""
    _month, n = take_snapshot(None)
    return n


@bp.cli.command("snapshot")
@click.option("--as-of", "as_of", default=None, help="Day to measure (YYYY-MM-DD); default today (Hà Nội).")
def snapshot(as_of: str | None) -> None:
    day = date.fromisoformat(as_of) if as_of else None
    month, n = take_snapshot(day)  # committed when the command returns (unit of work)
    click.echo(f"Snapshot {month:%Y-%m}: {n} indicators stored.")
