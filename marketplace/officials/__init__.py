"""Officials: the Plan-282 indicators, dashboard, village table, records, exports and transparency page."""
from flask import Blueprint

bp = Blueprint("officials", __name__, cli_group="stats")


def init_app(app) -> None:
    from marketplace.officials import cache

    cache.install(app)


from marketplace.officials import cli, views  # noqa: E402,F401
