"""``flask search reindex | check | sync``."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from marketplace.core import jobs
from marketplace.extensions import db
from marketplace.search import maintenance
from marketplace.search.documents import visible_count

search_cli = AppGroup("search", help="Search index: rebuild, check, apply pending updates.")


@jobs.job("search.maintain", timeout=1800, retries=2, intervals=(60, 600), every="JOB_SEARCH_EVERY")
def maintain_job() -> dict:
    """Search maintenance on the worker's host: apply pending (dirty) updates, rebuild the index if stale."""
    applied = maintenance.sync_pending()
    rebuilt = None if maintenance.index_is_fresh() else maintenance.reindex_all()
    return {"applied": applied, "rebuilt": rebuilt}


@search_cli.command("reindex")
@click.option("--if-stale", is_flag=True, help="Rebuild only when the index is missing or differs from the database.")
def reindex(if_stale: bool) -> None:
    """Rebuild the index from the database (one commit)."""
    if if_stale and maintenance.index_is_fresh():
        click.echo("Search index is up to date.")
        return
    with Session(db.engine) as session:
        total = visible_count(session)
    with click.progressbar(length=total, label="Indexing products", file=sys.stderr) as bar:
        count = maintenance.reindex_all(progress=bar.update)
    click.echo(f"Search index rebuilt: {count} products.")


@search_cli.command("check")
def check() -> None:
    """Report products missing from or stale in the index (exit status 1 if any)."""
    report = maintenance.check_index()
    click.echo(f"Visible products: {report['expected']}; documents in the index: {report['indexed']}")
    problems = 0
    for key, label in (("missing", "missing from the index"), ("stale", "stale in the index"),
                       ("extra", "in the index but not visible"), ("dirty", "waiting in search_dirty")):
        ids = report[key]
        if ids:
            problems += len(ids)
            shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
            click.echo(f"{len(ids)} {label}: {shown}")
    if problems:
        click.echo("Run `flask search sync --full` or `flask search reindex` to fix.")
        raise SystemExit(1)
    click.echo("OK: the index matches the database.")


@search_cli.command("sync")
@click.option("--full", is_flag=True, help="Also compare every document with the database and fix drift.")
def sync_cmd(full: bool) -> None:
    """Apply index updates left pending (dirty) while another process held the index lock."""
    count = maintenance.sync_pending()
    click.echo(f"Applied {count} pending update(s).")
    if full:
        fixed = maintenance.sync_everything()
        click.echo(f"Fixed {fixed} drifted document(s).")
