"""Public catalog: home, villages (the craft-village handbook), products, shops."""
from flask import Blueprint, Flask

from marketplace.catalog import seo
from marketplace.catalog.maps import village_map_svg
from marketplace.catalog.models import Category, ClaimStatus, IpKind, Recognition

bp = Blueprint("catalog", __name__)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(CATEGORY_LABELS=Category.LABELS, RECOGNITION_LABELS=Recognition.LABELS,
                                 IP_LABELS=IpKind.LABELS, CLAIM_LABELS=ClaimStatus.LABELS,
                                 village_map_svg=village_map_svg)
    seo.register(app)  # head tags and JSON-LD (sharing and search engines)


from marketplace.catalog import views  # noqa: E402,F401
