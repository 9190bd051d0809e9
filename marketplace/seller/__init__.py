"""The seller area: dashboard, listing editor, photos and bulk import (``/seller/...``)."""
from flask import Blueprint, Flask

from marketplace.catalog.cli import register_catalog_cli

bp = Blueprint("seller", __name__, url_prefix="/seller")


def init_app(app: Flask) -> None:
    register_catalog_cli(app)


from marketplace.seller import claims, importing, labels, makers, photos, views  # noqa: E402,F401
