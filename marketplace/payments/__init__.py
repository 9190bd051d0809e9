"""The payments area: the payment gateway seam (``gateway.py``), its methods (cash on delivery, Stripe
Checkout when keys are configured; registered in ``registry.py``), provider callbacks, reconciliation."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("payments", __name__)


def init_app(app: Flask) -> None:
    app.cli.add_command(cli.payments_cli)


from marketplace.payments import cli, views  # noqa: E402,F401
