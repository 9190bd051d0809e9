"""The orders area: checkout, orders per shop, the artisan's queue, refunds, ledger, reviews."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("orders", __name__)


def init_app(app: Flask) -> None:
    from marketplace.core import outbox  # noqa: F401  (registers the after-commit mail dispatch)
    from marketplace.orders.services import STATUS_LABELS, order_number, review_summary

    app.add_template_global(review_summary, "review_summary")
    app.add_template_global(order_number, "order_number")
    app.add_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")


from marketplace.orders import views  # noqa: E402,F401
