"""The orders area: checkout, orders per shop, the artisan's queue, refunds, reviews."""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_login import user_logged_in

bp = Blueprint("orders", __name__)


def init_app(app: Flask) -> None:
    app.add_template_global(reviews.review_summary, "review_summary")
    app.add_template_global(reviews.shop_review_stats, "shop_review_stats")
    app.add_template_global(reviews.reviewable_orders, "reviewable_orders")
    app.add_template_global(reviews.review_token, "review_token")
    user_logged_in.connect(views.claim_on_login, app)
    app.add_template_global(services.order_number, "order_number")
    app.add_template_global(services.buyer_may_cancel, "buyer_may_cancel")
    app.add_template_global(services.STATUS_LABELS, "ORDER_STATUS_LABELS")
    app.add_template_global(services.ACTOR_LABELS, "ORDER_ACTOR_LABELS")
    app.jinja_env.filters["vntime"] = services.format_vn_time


from marketplace.orders import reviews, services, views  # noqa: E402,F401
