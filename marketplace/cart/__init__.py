"""The cart area: a guest's session cart, a signed-in shopper's stored cart (merged at login), favourites."""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_login import user_logged_in

bp = Blueprint("cart", __name__)


def init_app(app: Flask) -> None:
    app.add_template_global(services.cart_count, "cart_count")
    app.add_template_global(services.is_favourite, "is_favourite")
    user_logged_in.connect(_on_login, app, weak=False)


def _on_login(sender, user, **extra) -> None:
    """Runs inside the login view's transaction: the unit of work commits the merged cart with the login."""
    services.merge_session_cart(user)


from marketplace.cart import services, views  # noqa: E402,F401
