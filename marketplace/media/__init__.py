"""Media: image derivatives (Pillow) behind a small storage interface, and the /media route."""
from flask import Blueprint, Flask

from marketplace.media import evidence, staging
from marketplace.media.storage import image_srcset, image_url

bp = Blueprint("media", __name__)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(image_url=image_url, image_srcset=image_srcset, EVIDENCE_ACCEPT=evidence.ACCEPT)
    staging.init_app(app)
    evidence.init_app(app)  # claims' evidence files: private, written with the transaction


from marketplace.media import views  # noqa: E402,F401
