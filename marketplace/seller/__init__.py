"""The seller area: dashboard, listing editor, photos and bulk import (``/seller/...``)."""
from flask import Blueprint

bp = Blueprint("seller", __name__, url_prefix="/seller")


def init_app(app) -> None:
    from marketplace.catalog.cli import register_catalog_cli

    register_catalog_cli(app)


from marketplace.seller import views  # noqa: E402,F401
