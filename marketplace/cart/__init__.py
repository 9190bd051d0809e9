"""The cart area: a guest's session cart, a signed-in shopper's stored cart (merged at login), favourites."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("cart", __name__)


def init_app(app: Flask) -> None:
    from flask_login import user_logged_in

    from marketplace.cart.services import cart_count, merge_session_cart

    app.add_template_global(cart_count, "cart_count")
    user_logged_in.connect(_on_login, app, weak=False)


def _on_login(sender, user, **extra) -> None:
    from marketplace.cart.services import merge_session_cart
    from marketplace.extensions import db

    merge_session_cart(user)
    db.session.commit()


from marketplace.cart import views  # noqa: E402,F401
