"""``flask ledger backfill``: book the orders, refunds and payouts made before the ledger existed."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.ledger import services

ledger_cli = AppGroup("ledger", help="The shop ledger.")


@ledger_cli.command("backfill")
def backfill_command() -> None:
    """Post the journal lines of paid orders, succeeded refunds and paid payouts that have none (idempotent)."""
    counts = services.backfill()
    click.echo(f"sales {counts['sales']}, refunds {counts['refunds']}, payouts {counts['payouts']} booked")
