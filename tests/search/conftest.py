"""Search fixtures: the demo catalog with its index built once per session and copied per test."""
from __future__ import annotations

import shutil

import pytest

from marketplace.extensions import db
from tests.conftest import make_app


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


@pytest.fixture(scope="module")
def shared_search_app(tmp_path_factory, demo_template, demo_index):
    """Read-only variant shared by a module's tests (the relevance table): one copy, one app."""
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
