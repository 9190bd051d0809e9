"""Search: Whoosh or PostgreSQL (``SEARCH_BACKEND``), diacritic-aware, faceted, safe (all engine code
lives in this package).

Parts: ``vocabulary`` (sorts, price bands, ``SearchResult``, ``SearchUnavailable``: what other areas
import), ``analysis`` + ``index`` (the write side: text → terms, schema, codec, writers), ``engine`` (the
read side: postings → masks, BM25, facets), ``backend`` (one index folder: its writers and searchers),
``services`` (search and suggest for views and the API), ``maintenance`` (write now or mark dirty;
reindex, check, sync) and ``sync`` (the change feed's ``search`` subscriber: keeps the index in step with
committed changes). ``pg_index`` + ``pg_engine`` + ``pg_backend``: the PostgreSQL backend (documents
written inside the change's own transaction by ``sync.before_commit``).

``reindex_all()`` rebuilds the index from the database and returns the number of indexed products
(``flask seed-demo`` calls it). Views and the API call ``services.search_products``.
"""
from flask import Blueprint

from marketplace.core import changes
from marketplace.extensions import db
from marketplace.search import sync
from marketplace.search.backend import WhooshBackend
from marketplace.search.cli import search_cli
from marketplace.search.maintenance import reindex_all
from marketplace.search.pg_backend import PostgresBackend

bp = Blueprint("search", __name__)


BACKENDS = ("whoosh", "postgres")


def init_app(app) -> None:
    choice = app.config["SEARCH_BACKEND"]
    if choice not in BACKENDS:
        raise RuntimeError(f"SEARCH_BACKEND={choice!r} is not a search backend; use one of {', '.join(BACKENDS)}")
    if choice == "postgres":
        with app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL on PostgreSQL "
                               f"(the database is {engine.dialect.name}); use SEARCH_BACKEND=whoosh")
        app.extensions["search"] = PostgresBackend(engine)
        sync.install_in_transaction()
    else:
        app.extensions["search"] = WhooshBackend(
            app.config["SEARCH_INDEX_DIR"], write_timeout=float(app.config["SEARCH_WRITE_TIMEOUT"])
        )
    changes.subscribe(app, "search", sync.on_change)
    app.cli.add_command(search_cli)


__all__ = ["bp", "init_app", "reindex_all"]

from marketplace.search import views  # noqa: E402,F401
