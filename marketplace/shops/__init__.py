"""Shops: an artisan's own shop (/seller/shop/...) and assisted listing (/assisted/...)."""
from flask import Blueprint

bp = Blueprint("shops", __name__)

from marketplace.shops import views  # noqa: E402,F401
