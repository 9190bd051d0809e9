"""Site-wide routes and operations: /healthz, /sitemap.xml, and ``flask backup``."""
from flask import Blueprint, Flask

from marketplace.site.backup import backup_cli

bp = Blueprint("site", __name__)


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_cli)


from marketplace.site import views  # noqa: E402,F401
