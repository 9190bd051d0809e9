"""Media: image derivatives (Pillow) behind a small storage interface, and the /media route."""
from flask import Blueprint

bp = Blueprint("media", __name__)

from marketplace.media import views  # noqa: E402,F401
