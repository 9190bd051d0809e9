"""``flask payments reconcile [--every SECONDS]``. The command runs in the unit of work; it commits after
each item (``uow.commit_early``) so that one item the provider fails on is rolled back alone."""
from __future__ import annotations

import logging
import time

import click
from flask.cli import AppGroup

from marketplace.core import jobs, uow
from marketplace.extensions import db
from marketplace.payments import services
from marketplace.payments.gateway import PaymentGatewayError

log = logging.getLogger(__name__)
payments_cli = AppGroup("payments", help="Online payments (Stripe…).")


@jobs.job("payments.reconcile", timeout=600, retries=2, intervals=(60, 300), every="JOB_RECONCILE_EVERY")
def reconcile_once() -> dict:
    """One round: each pending item settled and committed on its own; an item the provider fails on is
    rolled back alone and counted in ``errors``."""
    counts, steps = services.reconcile_steps()
    for step in steps:
        with uow.field_errors() as outcome:  # a DomainError rolls back this item only
            step()
        if outcome.error is not None and not isinstance(outcome.error, PaymentGatewayError):
            raise outcome.error
        uow.commit_early("reconcile: each item is settled at its provider and committed on its own")
    return counts


@payments_cli.command("reconcile")
@click.option("--every", type=click.IntRange(min=10), default=None, metavar="SECONDS",
              help="Keep running, once every SECONDS (a scheduler for hosts without cron).")
def reconcile_command(every):
    """Ask the payment providers about pending sessions and refunds; settle what the webhooks missed and
    release stock held past its expiry. Run it from cron (e.g. every 5 minutes) or with --every."""
    while True:
        try:
            counts = reconcile_once()
            click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
        except Exception:  # a loop that dies silently would stop releasing stock: log and go on
            if every is None:
                raise
            log.exception("payments reconcile failed; retrying in %s s", every)
        if every is None:
            return
        # A fresh session (and connection) for the next round; what a failed round left uncommitted is
        # discarded with it.
        db.session.remove()
        time.sleep(every)
