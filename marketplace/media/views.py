"""Serving stored images (in production a web server can serve MEDIA_ROOT directly)."""
from __future__ import annotations

from flask import abort, send_file

from marketplace.accounts.permissions import public
from marketplace.media import bp
from marketplace.media.storage import get_storage

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<path:key>")
@public
def serve(key: str):
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    mimetype = "image/webp" if key.endswith(".webp") else "image/jpeg"
    response = send_file(storage.path(key), mimetype=mimetype, max_age=ONE_YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
