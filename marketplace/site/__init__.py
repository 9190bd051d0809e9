"""Site-wide routes: /healthz and /sitemap.xml."""
from flask import Blueprint

bp = Blueprint("site", __name__)

from marketplace.site import views  # noqa: E402,F401
