"""Who may use a route. Every view declares it (``@public`` or ``@role_required(...)``);
a test walks the URL map and fails on any route that does not.

Who may manage a shop or handle its orders is ``marketplace.shops.access``.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from marketplace.extensions import login_manager

PUBLIC = "public"
ACCESS_LEVELS = ("public", "shopper", "artisan", "official", "admin")


# The decorators run at import (mutation testing leaves them alone: see `make mutate`); the rule they
# apply at request time is ``refusal``.
def public(view):  # pragma: no mutate block
    view.access = (PUBLIC,)
    return view


def refusal(roles: tuple[str, ...]):
    """None when the current user may use a route for ``roles``; else the answer: anonymous → the login
    page, signed in with another role → 403. ``admin`` may use every role's pages only where it is listed."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in roles:
        abort(403)
    return None


def role_required(*roles: str):  # pragma: no mutate block
    """Anonymous → login page; signed in with another role → 403 (``refusal``)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refused = refusal(roles)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        wrapped.access = tuple(roles)
        return wrapped

    return decorator


def login_required_any(view):  # pragma: no mutate block
    """Any signed-in user (e.g. their own account pages)."""
    return role_required("shopper", "artisan", "official", "admin")(view)
