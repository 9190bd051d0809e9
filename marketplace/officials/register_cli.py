"""``flask ip add|list`` (IP protection records) and ``flask register import`` (the city's village register).
Each command is one transaction (``core/uow.py``): a refused command writes nothing."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.catalog import claims, protections
from marketplace.catalog.models import IpKind
from marketplace.catalog.services import SYSTEM
from marketplace.errors import DomainError
from marketplace.media.evidence import store_evidence
from marketplace.officials import village_register

ip_cli = AppGroup("ip", help="IP protection records (collective/certification marks, geographical indications).")


@ip_cli.command("add")
@click.option("--kind", required=True, type=click.Choice(IpKind.CHOICES))
@click.option("--name", required=True)
@click.option("--number", "registration_number", required=True, help="Registration number.")
@click.option("--holder", default="")
@click.option("--granted", "granted_on", required=True, help="Grant date (YYYY-MM-DD or DD/MM/YYYY).")
@click.option("--expires", "expires_on", default="", help="Expiry (marks: default grant + 10 years; GI: none).")
@click.option("--village", default="", help="The village's register code, slug or id.")
@click.option("--products", "product_ids", default="", help="Ids of the village's products carrying it (1,2,3).")
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PDF or photo of the document (stored privately).")
def add_ip(evidence: Path | None, **data):
    """Add a record (status "declared" until an official verifies it in /officials/claims)."""
    try:
        ip = protections.create_ip(SYSTEM, data)
        if evidence is not None:
            ip.evidence_key = store_evidence(evidence.read_bytes())
            claims.reset_ip_claim(ip)
    except DomainError as exc:
        errors = exc.details.get("errors") or {exc.field or "error": exc.message}
        for field, message in errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Added IP record {ip.id}: {ip.kind} {ip.registration_number}, expires "
               f"{ip.expires_on.isoformat() if ip.expires_on else 'never'}, status {ip.status}.")


@ip_cli.command("list")
@click.option("--village", default="", help="Only this village (code, slug or id).")
def list_ip(village: str):
    """One line per record: id, kind, number, village, granted, expires, status, state today."""
    village_row = protections.find_village(village) if village else None
    if village and village_row is None:
        raise click.ClickException(f"No village {village!r}")
    for ip in protections.ip_records(village_row.id if village_row else None):
        click.echo("\t".join([
            str(ip.id), ip.kind, ip.registration_number or "-", ip.village.code if ip.village else "-",
            ip.granted_on.isoformat() if ip.granted_on else "-", ip.expires_on.isoformat() if ip.expires_on else "never",
            ip.status, ip.state, ip.name]))


register_group = AppGroup("register", help="The city's register of craft villages.")


@register_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check and report.")
def import_register(path: Path, dry_run: bool):
    """Import the city's list (CSV or XLSX, matched on "code"): every row is checked, then all are applied or
    none. Importing the same file again changes nothing."""
    try:
        result = village_register.run_register_import(SYSTEM, path.read_bytes(), path.name, dry_run=dry_run)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    plan = result.plan
    for line, messages in plan.errors.items():
        for message in messages:
            click.echo(f"line {line}: {message}", err=True)
    summary = (f"{plan.total_rows} rows: {plan.count('create')} new, {plan.count('update')} updated, "
               f"{plan.count('unchanged')} unchanged, {plan.decisions} recognition decisions")
    if result.applied:
        click.echo(f"Imported. {summary}.")
    else:
        click.echo(f"Nothing imported ({'dry run' if dry_run and plan.ok else f'{len(plan.errors)} rows with errors'}). "
                   f"{summary}.")
        if plan.errors:
            raise SystemExit(1)


def register_cli(app: Flask) -> None:
    for group in (ip_cli, register_group):
        if group.name not in app.cli.commands:
            app.cli.add_command(group)
