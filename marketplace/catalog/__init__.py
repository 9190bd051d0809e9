"""Public catalog: home, villages (the craft-village handbook), products, shops."""
from flask import Blueprint, Flask

from marketplace.catalog.models import Category, ClaimStatus, IpKind, Recognition

bp = Blueprint("catalog", __name__)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(CATEGORY_LABELS=Category.LABELS, RECOGNITION_LABELS=Recognition.LABELS,
                                 IP_LABELS=IpKind.LABELS, CLAIM_LABELS=ClaimStatus.LABELS)


from marketplace.catalog import views  # noqa: E402,F401
