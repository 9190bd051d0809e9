"""``flask catalog import <csv> [--zip photos.zip] --shop <slug> [--all-or-nothing] [--dry-run]``."""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from marketplace.catalog.importer import run_import
from marketplace.catalog.services import SYSTEM
from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.shops.models import Shop

catalog_cli = AppGroup("catalog", help="Catalog tools (bulk import).")


@catalog_cli.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--zip", "zip_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="ZIP of the photos named in the CSV.")
@click.option("--shop", "shop_slug", required=True, help="Slug of the shop that receives the products.")
@click.option("--all-or-nothing", is_flag=True, help="Import nothing unless every row is valid.")
@click.option("--dry-run", is_flag=True, help="Only validate and report.")
def import_products(csv_path: Path, zip_path: Path | None, shop_slug: str, all_or_nothing: bool, dry_run: bool):
    """Import products (with variants and photos) into a shop. One transaction: the command commits when it
    returns (``core/uow.py``); an import that is not applied writes nothing."""
    shop = db.session.scalars(sa.select(Shop).where(Shop.slug == shop_slug)).first()
    if shop is None:
        raise click.ClickException(f"No shop with slug {shop_slug!r}")
    try:
        result = run_import(SYSTEM, shop, csv_path.read_bytes(),
                            zip_path.read_bytes() if zip_path else None,
                            all_or_nothing=all_or_nothing, dry_run=dry_run)
    except InvalidInput as exc:  # a file-level problem: said on the command line, nothing stored
        raise click.ClickException(exc.message) from None
    plan = result.plan
    for line, messages in plan.errors.items():
        for message in messages:
            click.echo(f"line {line}: {message}", err=True)
    if result.applied:
        click.echo(f"Imported {result.created} products ({plan.valid_rows} rows, {result.photos} photos); "
                   f"{len(plan.errors)} rows with errors.")
    else:
        click.echo(f"Nothing imported: {plan.valid_rows}/{plan.total_rows} rows valid, "
                   f"{len(plan.errors)} rows with errors.")
        if plan.errors:
            raise SystemExit(1)


def register_catalog_cli(app: Flask) -> None:
    existing = app.cli.commands.get("catalog")
    if existing is None:
        app.cli.add_command(catalog_cli)
    elif "import" not in getattr(existing, "commands", {}):
        existing.add_command(import_products)
