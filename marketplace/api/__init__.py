"""/api/v1: JSON over the same services and queries as the HTML pages; OpenAPI at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app

from marketplace.api.cli import register_cli
from marketplace.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    register_cli(app)
    csrf.exempt(bp)  # bearer tokens only, never the session cookie: nothing for a cross-site form to ride on


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


from marketplace.api import docs, views  # noqa: E402,F401  (routes on bp)

limiter.limit(_api_limit)(bp)
