"""Test fixtures: one app per test, on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL.

Under CI=true a missing or unreachable PostgreSQL fails the run instead of skipping.
"""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from config import TestingConfig, env_flag, env_value
from marketplace import create_app
from marketplace.extensions import db

PG_URL = env_value("TEST_DATABASE_URL")
IN_CI = env_flag("CI")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config):
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true requires TEST_DATABASE_URL (PostgreSQL tests must run, not skip)")


_sqlite_only: set[str] = set()


def pytest_runtest_logreport(report):
    """Counted from the reports (they reach the controller under pytest-xdist too): a test whose id carries
    the ``sqlite`` backend is one that would also have run on PostgreSQL."""
    if not PG_URL and report.when == "call" and "[" in report.nodeid:
        if "sqlite" in report.nodeid.rsplit("[", 1)[1].rstrip("]").split("-"):
            _sqlite_only.add(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    _coverage_summary(terminalreporter, config)
    _sqlite_only_summary(terminalreporter)


def _coverage_summary(terminalreporter, config) -> None:
    """Under ``--cov`` (``make test``) with the JSON report: the line and branch totals, separately, and the
    files with the most lines not run."""
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    if controller is None or getattr(plugin, "cov_total", None) is None:
        return
    path = Path(controller.cov.config.json_output)
    if not path.is_absolute():
        path = Path(config.rootpath) / path
    if not path.exists():
        return
    report = json.loads(path.read_text(encoding="utf-8"))
    totals = report["totals"]
    lines = f"{totals['covered_lines']}/{totals['num_statements']}"
    branches = f"{totals['covered_branches']}/{totals['num_branches']}"
    line_pct = 100 * totals["covered_lines"] / max(totals["num_statements"], 1)
    branch_pct = 100 * totals["covered_branches"] / max(totals["num_branches"], 1)
    terminalreporter.write_sep("-", "coverage (make test)", bold=True)
    terminalreporter.write_line(f"lines {lines} = {line_pct:.1f} %   branches {branches} = {branch_pct:.1f} %   "
                                f"combined {totals['percent_covered']:.1f} %   (report: {path})")
    worst = sorted(report["files"].items(), key=lambda kv: -kv[1]["summary"]["missing_lines"])[:5]
    terminalreporter.write_line("most lines not run: " + ", ".join(
        f"{name} ({data['summary']['missing_lines']})" for name, data in worst if data["summary"]["missing_lines"]))


def _sqlite_only_summary(terminalreporter) -> None:
    """Without TEST_DATABASE_URL the PostgreSQL variants are not collected at all: say so, so that nobody
    reads a green run as a run on both databases."""
    if PG_URL:
        return
    terminalreporter.write_sep("-", "PostgreSQL variants did not run", yellow=True, bold=True)
    terminalreporter.write_line(
        f"TEST_DATABASE_URL is not set: {len(_sqlite_only)} database tests ran on SQLite only. Set it "
        "(e.g. postgresql://postgres@127.0.0.1:5432/test) or use .ci/run to run them on PostgreSQL too.",
        yellow=True)


def pg_url() -> str:
    from config import _database_url

    return _database_url(PG_URL)


_pg_ready = False


def _prepare_pg_schema() -> None:
    """Once per session: a clean public schema with the current models."""
    global _pg_ready
    if _pg_ready:
        return
    engine = sa.create_engine(pg_url())
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    finally:
        engine.dispose()
    _pg_ready = True


def truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context pushed for the test body; without this, requests would
    reuse it and share ``g`` (the signed-in user, the locale) and the database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(tmp_path, backend: str, **overrides):
    config = {
        "DATA_DIR": str(tmp_path / "instance"),
        "SEARCH_INDEX_DIR": str(tmp_path / "instance" / "search-index"),
        "MEDIA_ROOT": str(tmp_path / "instance" / "media"),
    }
    if backend == "postgresql":
        _prepare_pg_schema()
        config["SQLALCHEMY_DATABASE_URI"] = pg_url()
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'test.sqlite'}"
    config.update(overrides)

    class Config(TestingConfig):
        pass

    for key, value in config.items():
        setattr(Config, key, value)
    app = create_app(Config)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change the app's config."""
    return {}


@pytest.fixture
def app(tmp_path, backend, app_overrides):
    app = make_app(tmp_path, backend, **app_overrides)
    with app.app_context():
        db.create_all()
        if backend == "postgresql":
            truncate_all()
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        if backend == "postgresql":
            truncate_all()
            db.session.remove()
        for engine in app.extensions["sqlalchemy"].engines.values():  # the default one and any bind (replica)
            engine.dispose()
        # Flask-SQLAlchemy keeps one MetaData per bind key on the shared ``db``: a bind made by one test's app
        # (DATABASE_REPLICA_URL) must not reach the next app's create_all.
        for key in [k for k in db.metadatas if k is not None]:
            del db.metadatas[key]
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- demo data: seeded once per session into a SQLite file, copied for each test -----------------

_DEMO_HASH = None


def demo_password_hash() -> str:
    global _DEMO_HASH
    if _DEMO_HASH is None:
        from marketplace.accounts.passwords import hash_password
        from marketplace.demo.seed import DEMO_PASSWORD

        _DEMO_HASH = hash_password(DEMO_PASSWORD)
    return _DEMO_HASH


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A seeded SQLite database file (no photos) reused by read-only demo tests."""
    from marketplace.demo.seed import seed_demo

    base = tmp_path_factory.mktemp("demo-template")
    app = make_app(base, "sqlite")
    with app.app_context():
        db.create_all()
        seed_demo(with_images=False, password_hash=demo_password_hash())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return base / "test.sqlite"


@pytest.fixture
def demo_app(tmp_path, demo_template):
    """An app on a private copy of the seeded demo database (SQLite)."""
    shutil.copy(demo_template, tmp_path / "test.sqlite")
    app = make_app(tmp_path, "sqlite")
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


# --- signing in without the login form (the accounts tests cover the form itself) ---------------

def login_as(client, user) -> None:
    """Make ``client`` signed in as ``user`` (Flask-Login session keys)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = "test"


@pytest.fixture
def login():
    return login_as
