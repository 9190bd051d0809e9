"""Public catalog: home, villages (the craft-village handbook), products, shops."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)

from marketplace.catalog import views  # noqa: E402,F401
