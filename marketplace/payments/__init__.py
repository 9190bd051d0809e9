"""The payments area: Stripe Checkout (when keys are configured), the webhook, reconciliation."""
from __future__ import annotations

import click
from flask import Blueprint, Flask
from flask.cli import AppGroup

bp = Blueprint("payments", __name__)
payments_cli = AppGroup("payments", help="Card payments (Stripe).")


@payments_cli.command("reconcile")
def reconcile_command():
    """Retrieve pending Stripe sessions and settle what the webhooks missed."""
    from marketplace.payments.services import reconcile

    counts = reconcile()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


def init_app(app: Flask) -> None:
    app.cli.add_command(payments_cli)


from marketplace.payments import views  # noqa: E402,F401
