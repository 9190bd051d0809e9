"""Search fixtures: the demo catalog with its index built once per session and copied per test."""
from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from tests.conftest import PG_URL, make_app

# The search backends the read-only search tests (relevance, hostile input) run against: Whoosh always,
# PostgreSQL when TEST_DATABASE_URL is set (always under CI=true, which requires it).
SEARCH_BACKENDS = ["whoosh"] + (["postgres"] if PG_URL else [])
PG_SEARCH_SCHEMA = "search_demo"  # a schema of its own: the `app` fixture truncates the public one


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory, demo_template):
    """A Whoosh index of the seeded demo database, built once with ``reindex_all``."""
    base = tmp_path_factory.mktemp("demo-index")
    shutil.copy(demo_template, base / "test.sqlite")
    app = make_app(base, "sqlite")
    with app.app_context():
        from marketplace.search import reindex_all

        count = reindex_all()
        db.session.remove()
        db.engine.dispose()
    assert count > 250
    return base / "instance" / "search-index"


@pytest.fixture
def search_app(demo_app, demo_index):
    """``demo_app`` with a private copy of the built demo index."""
    target = demo_app.config["SEARCH_INDEX_DIR"]
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(demo_index, target)
    return demo_app


@pytest.fixture
def search_client(search_app):
    return search_app.test_client()


def copy_database(source_url: str, target) -> None:
    """Every table's rows from the SQLite demo database into ``target`` (a connection, tables created)."""
    source = sa.create_engine(source_url)
    try:
        with source.connect() as src:
            for table in db.metadata.sorted_tables:
                rows = [dict(r) for r in src.execute(sa.select(table)).mappings()]
                if rows:
                    target.execute(sa.insert(table), rows)
    finally:
        source.dispose()


@pytest.fixture(scope="session")
def pg_search_app(tmp_path_factory, demo_template):
    """The demo catalog in PostgreSQL (schema ``search_demo``) with SEARCH_BACKEND=postgres, its search
    documents built by ``reindex_all``. Read-only: shared by the whole session."""
    base = tmp_path_factory.mktemp("search-pg")
    options = {"pool_pre_ping": True, "connect_args": {"options": f"-csearch_path={PG_SEARCH_SCHEMA},public"}}
    app = make_app(base, "postgresql", SEARCH_BACKEND="postgres", SQLALCHEMY_ENGINE_OPTIONS=options)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SEARCH_SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {PG_SEARCH_SCHEMA}"))
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            # Every table in the new schema, unconditionally: create_all's existence check follows the
            # search_path and would find the public tables of earlier PostgreSQL tests, create nothing here,
            # and leave the demo rows in public, where the `app` fixture truncates them.
            db.metadata.create_all(conn, checkfirst=False)
        with db.engine.begin() as conn:
            copy_database(f"sqlite:///{demo_template}", conn)
        from marketplace.search import reindex_all

        count = reindex_all()
        db.session.remove()
    assert count > 250
    yield app
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SEARCH_SCHEMA} CASCADE"))
        db.engine.dispose()


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def shared_search_app(request, tmp_path_factory, demo_template, demo_index):
    """Read-only app shared by a module's tests (the relevance table): one copy, one app; once per search
    backend (Whoosh on SQLite; PostgreSQL with SEARCH_BACKEND=postgres when TEST_DATABASE_URL is set)."""
    if request.param == "postgres":
        app = request.getfixturevalue("pg_search_app")
        ctx = app.app_context()
        ctx.push()
        try:
            yield app
        finally:
            db.session.remove()
            ctx.pop()
        return
    base = tmp_path_factory.mktemp("search-shared")
    shutil.copy(demo_template, base / "test.sqlite")
    app = make_app(base, "sqlite")
    shutil.copytree(demo_index, app.config["SEARCH_INDEX_DIR"])
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
