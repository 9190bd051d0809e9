"""Bearer-token authentication for the API's write endpoints (no cookies, so no CSRF)."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, request

from marketplace.api.services import user_for_secret


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def token_required(*roles: str):
    """The request must carry ``Authorization: Bearer <token>`` of an active user with one of ``roles``.

    Missing or bad token → 401 (the session cookie is ignored); ``view.access`` lists the roles for the
    route-inventory test.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = user_for_secret(bearer_secret())
            if user is None:
                abort(401, description="A valid bearer token is required (Authorization: Bearer <token>).")
            if user.role not in roles:
                abort(403)
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.access = tuple(roles)
        wrapped.openapi_security = True
        return wrapped

    return decorator
