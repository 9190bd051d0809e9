"""Who may use a route. Every view declares it (``@public`` or ``@role_required(...)``);
a test walks the URL map and fails on any route that does not.

Ownership rules (an artisan touches only their own shop's things) live here too, as functions.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from marketplace.extensions import login_manager

PUBLIC = "public"
ACCESS_LEVELS = ("public", "shopper", "artisan", "official", "admin")


def public(view):
    view.access = (PUBLIC,)
    return view


def role_required(*roles: str):
    """Anonymous → login page; signed in with another role → 403. ``admin`` may use every role's pages
    only where it is listed explicitly."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = tuple(roles)
        return wrapped

    return decorator


def login_required_any(view):
    """Any signed-in user (e.g. their own account pages)."""
    return role_required("shopper", "artisan", "official", "admin")(view)


def owns_shop(user, shop) -> bool:
    return bool(user and user.is_authenticated and shop is not None and shop.owner_id == user.id)


def is_assisted_shop(shop) -> bool:
    """A shop run on an artisan's behalf (consent recorded, not yet handed over)."""
    if shop is None or getattr(shop, "id", None) is None:
        return False
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.shops.models import ShopConsent

    return db.session.scalar(
        sa.select(ShopConsent.id).where(ShopConsent.shop_id == shop.id, ShopConsent.handed_over_at.is_(None))
    ) is not None


def can_manage_shop(user, shop) -> bool:
    """The one rule for changing a shop and its products: its owner, or an official/admin while the shop
    is assisted (run on behalf of an artisan who is not online; see ``marketplace.shops``)."""
    if not (user and getattr(user, "is_authenticated", False) and shop is not None):
        return False
    if shop.owner_id is not None and shop.owner_id == user.id:
        return True
    return user.role in ("official", "admin") and is_assisted_shop(shop)
