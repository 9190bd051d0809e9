"""`flask db upgrade` on an empty database yields exactly the models' schema, on both databases."""
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from marketplace.extensions import db
from tests.conftest import PG_URL, make_app, pg_url


@pytest.fixture
def empty_database(tmp_path, backend):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_url()).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_matches_models(tmp_path, backend, empty_database):
    app = make_app(tmp_path, "sqlite", SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"migrations and models differ: {diff}"
    assert {"craft_villages", "products", "variants", "shops", "users", "alembic_version"} <= tables


def test_pg_url_is_configured_in_ci():
    from config import env_flag

    if env_flag("CI"):
        assert PG_URL, "CI must run the PostgreSQL tests"
