"""Read-only queries on a replica of the database (``DATABASE_REPLICA_URL``).

With the setting, the app has a second engine (Flask-SQLAlchemy bind ``replica``). A view marked
``@reads_replica`` (the public catalog pages, the officials' indicator pages and the statistics API) sends its
plain SELECTs there: the session routes a statement to the replica when the mark is on, the statement is a
SELECT without ``FOR UPDATE``, and the transaction has written nothing yet (after a flush everything goes to the
primary, so a view reads its own writes). Everything else — writes, locks, text SQL, commands — uses
``DATABASE_URL``. Without the setting nothing changes.

A replica lags its primary by a little: only pages where a read a moment old is harmless are marked (a product
page may show stock a second old; the checkout, the cart and every signed-in form read the primary).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession

BIND = "replica"
_ON = "read_replica"
_WROTE = "wrote"


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending a marked transaction's plain SELECTs to the replica engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and self.info.get(_ON) and not self.info.get(_WROTE) and isinstance(clause, sa.Select)
                and clause._for_update_arg is None):
            replica = self._db.engines.get(BIND)
            if replica is not None:
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _flushed(session, _context) -> None:
    session.info[_WROTE] = True


def _ended(session) -> None:
    session.info.pop(_WROTE, None)


def reads_replica(view):
    """Mark a read-only view: its SELECTs may go to the replica (when one is configured)."""

    @functools.wraps(view)
    def on_replica(*args, **kwargs):
        session = current_app.extensions["sqlalchemy"].session
        with reading(session):
            return view(*args, **kwargs)

    return on_replica


@contextmanager
def reading(session):
    """``with reading(db.session):`` — the same routing for a block of code outside a marked view."""
    previous = session.info.get(_ON)
    session.info[_ON] = True
    try:
        yield session
    finally:
        if previous is None:
            session.info.pop(_ON, None)


def configure(app: Flask) -> None:
    """Before the database extension binds: the replica URL becomes the ``replica`` bind."""
    url = app.config["DATABASE_REPLICA_URL"]
    if url:
        binds = dict(app.config["SQLALCHEMY_BINDS"])
        binds[BIND] = url
        app.config["SQLALCHEMY_BINDS"] = binds


def replica_engine(app: Flask):
    """The replica engine, or None without DATABASE_REPLICA_URL."""
    return app.extensions["sqlalchemy"].engines.get(BIND)


sa.event.listen(RoutingSession, "after_flush", _flushed)
sa.event.listen(RoutingSession, "after_commit", _ended)
sa.event.listen(RoutingSession, "after_rollback", _ended)
