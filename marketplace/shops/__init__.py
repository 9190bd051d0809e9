"""Shops: the Shop model and its status, assisted listing (consent, hand-over), the shop services, the one
ownership rule (``access``), and the pages: an artisan's own shop (/seller/shop/...) and assisted listing
(/assisted/...)."""
from flask import Blueprint, Flask

from marketplace.shops import shipping
from marketplace.shops.access import can_handle_orders

bp = Blueprint("shops", __name__)


def init_app(app: Flask) -> None:
    # The pages are loaded here, not at the bottom of this module as in the other areas: catalog.models
    # imports shops.models, and loading the views (which need catalog.models) whenever shops.models is
    # imported would be a cycle.
    from marketplace.shops import views  # noqa: F401

    app.add_template_global(can_handle_orders, "can_handle_orders")
    app.add_template_global(shipping.quote, "shipping_quote")
