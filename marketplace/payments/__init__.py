"""The payments area: Stripe Checkout (when keys are configured), the webhook, reconciliation."""
from __future__ import annotations

import click
from flask import Blueprint, Flask
from flask.cli import AppGroup

bp = Blueprint("payments", __name__)
payments_cli = AppGroup("payments", help="Card payments (Stripe).")


@payments_cli.command("reconcile")
@click.option("--every", type=click.IntRange(min=10), default=None, metavar="SECONDS",
              help="Keep running, once every SECONDS (a scheduler for hosts without cron).")
def reconcile_command(every):
    """Retrieve pending Stripe sessions and refunds; settle what the webhooks missed and release
    stock held past its expiry. Run it from cron (e.g. every 5 minutes) or with --every."""
    import logging
    import time

    from marketplace.extensions import db
    from marketplace.payments.services import reconcile

    while True:
        try:
            counts = reconcile()
            click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
        except Exception:  # a loop that dies silently would stop releasing stock: log and go on
            if every is None:
                raise
            logging.getLogger(__name__).exception("payments reconcile failed; retrying in %s s", every)
        if every is None:
            return
        db.session.remove()  # a fresh session (and connection) for the next round
        time.sleep(every)


def init_app(app: Flask) -> None:
    app.cli.add_command(payments_cli)


from marketplace.payments import views  # noqa: E402,F401
