"""Ledger lines are append-only in the database itself: triggers refuse UPDATE and DELETE whatever path
runs them (raw SQL included), on SQLite and PostgreSQL, both from ``create_all`` and from the migrations.
Only ON DELETE SET NULL of a referenced row (an UPDATE that nulls a reference and nothing else) passes."""
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from marketplace.extensions import db
from marketplace.ledger.models import LedgerLine, wipe_lines
from tests.conftest import make_app
from tests.factories import make_shop, make_user
from tests.test_migrations import empty_database  # noqa: F401


def _insert_line(conn, shop_id: int, actor_id: int | None = None, entry: str = "adj-1") -> int:
    return conn.execute(sa.text(
        "INSERT INTO ledger_lines (shop_id, entry, kind, debit, credit, amount, actor_id, created_at) "
        "VALUES (:s, :e, 'adjustment', 'adjustments', 'shop', 5000, :a, CURRENT_TIMESTAMP) RETURNING id"),
        {"s": shop_id, "e": entry, "a": actor_id}).scalar()


def _refused(engine, statement: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)


def _assert_append_only(engine, shop_id: int, actor_id: int) -> None:
    with engine.begin() as conn:
        line = _insert_line(conn, shop_id, actor_id)
    _refused(engine, "UPDATE ledger_lines SET amount = 1 WHERE id = :i", i=line)
    _refused(engine, "UPDATE ledger_lines SET memo = 'sửa' WHERE id = :i", i=line)
    _refused(engine, "UPDATE ledger_lines SET actor_id = NULL, amount = 2 WHERE id = :i", i=line)
    _refused(engine, "DELETE FROM ledger_lines WHERE id = :i", i=line)
    _refused(engine, "DELETE FROM ledger_lines")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT amount, memo, actor_id FROM ledger_lines WHERE id = :i"),
                            {"i": line}).one() == (5000, None, actor_id)
    # what ON DELETE SET NULL does (the user is gone): allowed, and nothing else changes
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_lines SET actor_id = NULL WHERE id = :i"), {"i": line})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT amount, actor_id FROM ledger_lines WHERE id = :i"),
                            {"i": line}).one() == (5000, None)


def test_update_and_delete_are_refused_by_the_database(app, backend):
    shop, admin = make_shop(), make_user("admin")
    db.session.commit()
    _assert_append_only(db.engine, shop.id, admin.id)


def test_the_migrations_install_the_same_triggers(tmp_path, backend, empty_database):  # noqa: F811
    app = make_app(tmp_path, "sqlite", SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade(revision="heads")
        shop, admin = make_shop(), make_user("admin")
        db.session.commit()
        _assert_append_only(db.engine, shop.id, admin.id)
        db.session.remove()
        db.engine.dispose()


def test_the_demo_reset_can_still_empty_the_ledger(app, backend):
    shop, admin = make_shop(), make_user("admin")
    db.session.commit()
    _insert_line(db.session.connection(), shop.id, entry="adj-0")
    db.session.commit()
    wipe_lines(db.session)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine)) == 0
    # … and the ledger is append-only again afterwards
    _assert_append_only(db.engine, shop.id, admin.id)
