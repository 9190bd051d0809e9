"""Media: image derivatives (Pillow) behind a small storage interface, and the /media route."""
from flask import Blueprint, Flask

from marketplace.media import staging
from marketplace.media.storage import image_srcset, image_url

bp = Blueprint("media", __name__)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(image_url=image_url, image_srcset=image_srcset)
    staging.init_app(app)


from marketplace.media import views  # noqa: E402,F401
