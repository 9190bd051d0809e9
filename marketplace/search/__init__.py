"""Search: Whoosh, diacritic-aware, faceted, safe (all engine code lives in this package).

``reindex_all()`` rebuilds the index from the database and returns the number of indexed products
(``flask seed-demo`` calls it). Views and the API call ``services.search_products``.
"""
from flask import Blueprint

bp = Blueprint("search", __name__)


def init_app(app) -> None:
    from marketplace.search import sync
    from marketplace.search.backend import WhooshBackend
    from marketplace.search.cli import search_cli

    app.extensions["search"] = WhooshBackend(
        app.config["SEARCH_INDEX_DIR"], write_timeout=float(app.config.get("SEARCH_WRITE_TIMEOUT", 0.3))
    )
    sync.register()
    app.cli.add_command(search_cli)


def reindex_all(progress=None) -> int:
    """Rebuild the index from the database (needs an app context); returns the indexed product count."""
    from marketplace.search.services import reindex_all as run

    return run(progress=progress)


from marketplace.search import views  # noqa: E402,F401
