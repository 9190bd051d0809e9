"""/api/v1/openapi.json and a server-rendered page listing the operations (no JavaScript, no CDN)."""
from __future__ import annotations

from flask import jsonify, render_template

from marketplace.accounts.permissions import public
from marketplace.api import bp
from marketplace.api.openapi import current_spec


@bp.get("/openapi.json")
@public
def openapi_json():
    return jsonify(current_spec())


@bp.get("/docs")
@public
def docs():
    spec = current_spec()
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            operations.append({"method": method.upper(), "path": path, **op})
    tags: dict[str, list] = {}
    for op in operations:
        tags.setdefault((op.get("tags") or ["other"])[0], []).append(op)
    return render_template("api/docs.html", spec=spec, tags=tags)
