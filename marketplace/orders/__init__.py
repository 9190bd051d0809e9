"""The orders area: checkout, orders per shop, the artisan's queue, refunds, reviews."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("orders", __name__)


def init_app(app: Flask) -> None:
    app.add_template_global(services.review_summary, "review_summary")
    app.add_template_global(services.order_number, "order_number")
    app.add_template_global(services.buyer_may_cancel, "buyer_may_cancel")
    app.add_template_global(services.STATUS_LABELS, "ORDER_STATUS_LABELS")
    app.add_template_global(services.ACTOR_LABELS, "ORDER_ACTOR_LABELS")
    app.jinja_env.filters["vntime"] = services.format_vn_time


from marketplace.orders import services, views  # noqa: E402,F401
