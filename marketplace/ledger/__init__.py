"""The shop ledger area: journal lines for every money event, balances (who owes whom), monthly statements
(page, CSV, XLSX), payouts and payout batches for the bank, adjustments. See ``services.py``."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("ledger", __name__)


def init_app(app: Flask) -> None:
    app.cli.add_command(cli.ledger_cli)


from marketplace.ledger import cli, views  # noqa: E402,F401
