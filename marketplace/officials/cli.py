"""``flask stats snapshot``: store this month's indicator values (idempotent per month);
``flask stats verify`` / ``flask stats rebuild``: the sales aggregates against the raw rows."""
from __future__ import annotations

import logging
from datetime import date

import click

from marketplace.core import jobs
from marketplace.extensions import db
from marketplace.officials import aggregates, bp
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


log = logging.getLogger(__name__)


@jobs.job("officials.verify_aggregates", timeout=1800, retries=0, cron="JOB_STATS_VERIFY_CRON")
def verify_job() -> int:
    """The nightly check (``flask worker``): differences are logged as errors (repair: ``flask stats rebuild``)."""
    differences = aggregates.verify(db.session.connection())
    for difference in differences[:50]:
        log.error("stats aggregate differs: %s", difference)
    if differences:
        log.error("%d stats aggregate rows differ from the orders: run `flask stats rebuild`", len(differences))
    return len(differences)


@bp.cli.command("verify")
@click.option("--limit", default=50, show_default=True, help="How many differences to print.")
def verify(limit: int) -> None:
    """Recompute the sales aggregates from the orders and report any difference (exit code 1 if any)."""
    differences = aggregates.verify(db.session.connection())
    for difference in differences[:limit]:
        click.echo(str(difference))
    click.echo(f"{len(differences)} differences.")
    if differences:
        raise SystemExit(1)


@bp.cli.command("rebuild")
def rebuild() -> None:
    """Refill the sales aggregates from the orders (after a bulk SQL import)."""
    days, months = aggregates.rebuild(db.session.connection())
    click.echo(f"Sales aggregates rebuilt: {days} day rows, {months} month rows.")
