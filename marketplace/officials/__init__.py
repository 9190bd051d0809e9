"""Officials: the Plan-282 indicators, dashboard, village table, records, exports and transparency page."""
from flask import Blueprint

bp = Blueprint("officials", __name__, cli_group="stats")


def init_app(app) -> None:
    cache.init_app(app)  # subscribes to the change feed as "officials-stats"
    aggregates.install()  # the sales aggregates, written before each commit that moves them
    register_cli.register_cli(app)  # flask ip …, flask register …


from marketplace.officials import aggregates, cache, claims, cli, protections, register, register_cli, views  # noqa: E402,F401
