"""``flask seed-demo``: load the demo catalog (idempotent; ``--reset`` starts over).

The seed is one transaction (the command's unit of work); it commits before the search index is rebuilt."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from marketplace.catalog.models import CraftVillage
from marketplace.core import uow
from marketplace.demo.seed import seed_demo as run
from marketplace.extensions import db
from marketplace.search import reindex_all


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete all data first, then seed.")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no villages yet.")
@click.option("--images/--no-images", default=True, help="Draw product photos (slower).")
@click.option("--reindex/--no-reindex", default=True, help="Rebuild the search index afterwards.")
@with_appcontext
def seed_demo(reset: bool, if_empty: bool, images: bool, reindex: bool) -> None:
    if if_empty and not reset and db.session.scalar(sa.select(sa.func.count(CraftVillage.id))):
        click.echo("Database already has data; nothing to seed.")
        return
    report = run(reset=reset, with_images=images)
    uow.commit_early("the search index is rebuilt below from the committed catalog, through its own session")
    click.echo(
        f"Seeded {report.villages} villages, {report.users} users, {report.shops} shops, "
        f"{report.products} new products, {report.images} product photos."
    )
    for note in report.notes:
        click.echo(note)
    if reindex:
        count = reindex_all()
        click.echo(f"Search index rebuilt: {count} products.")
