"""Serving stored images through the site (in production nginx can serve MEDIA_ROOT directly, or browsers
fetch derivatives from the bucket's public address, ``MEDIA_PUBLIC_URL``). Originals are never served."""
from __future__ import annotations

from flask import Response, abort, request, send_file

from marketplace.accounts.permissions import public
from marketplace.media import bp
from marketplace.media.storage import ONE_YEAR, PUBLIC_CACHE_CONTROL, get_storage, is_private, mimetype, valid_key


@bp.get("/media/<path:key>")
@public
def serve(key: str):
    if not valid_key(key) or is_private(key):
        abort(404)
    storage = get_storage()
    if storage.kind == "local":
        if not storage.exists(key):
            abort(404)
        response = send_file(storage.path(key), mimetype=mimetype(key), max_age=ONE_YEAR, conditional=True)
    else:
        # The key names its content, so it is its own ETag: a revalidation costs no bucket request.
        etag = key.rsplit("/", 1)[-1]
        if request.if_none_match.contains(etag):
            response = Response(status=304)
            response.set_etag(etag)
        else:
            try:
                data = storage.open(key)
            except FileNotFoundError:
                abort(404)
            response = Response(data, mimetype=mimetype(key))
            response.set_etag(etag)
    response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
