"""The change feed: what each transaction changed, handed to the app's subscribers after the commit.

Two sources are recorded, per transaction:

* **ORM flushes** of the app's session (``db.session``): one :class:`RowChange` per inserted, updated or
  deleted object, with its primary key, the columns that changed and their old and new values;
* **statements** run on the app's engine by anything else — Core ``INSERT``/``UPDATE``/``DELETE`` through
  ``session.execute``, ``session.connection().execute``, ``engine.begin()`` blocks or text SQL: one
  :class:`StatementChange` per statement, with the columns it sets and the literal values it carries (the
  rows it hit are unknown).

Statements the session runs *for* a flush are not recorded twice. When the transaction commits, the
subscribers registered with :func:`subscribe` get one :class:`ChangeSet`; a rollback publishes nothing.
Subscribers run in the app context after the commit, each on its own: an exception is logged and never
reaches the request or the other subscribers. The committed session cannot run SQL at that moment, so a
subscriber that reads or writes the database opens its own ``Session(db.engine)`` or ``db.engine.begin()``.

Everything is per app: the engine listeners belong to the app's engine, the subscribers to
``app.extensions["change_feed"]``. The session listeners sit on the marketplace's own session factory
(``db.session``, not SQLAlchemy's global ``Session`` class) and hand what they see to the feed of the
engine the session is bound to.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.extensions import db

log = logging.getLogger(__name__)

_SESSION_KEY = "change_feed_pending"   # session.info: the ChangeSet being built for this transaction
_FLUSHING_KEY = "change_feed_flushing"  # session.info: a flush is running (its statements are rows)
_OWNER_KEY = "change_feed_owner"        # connection.info: the app session whose transaction this is
_BUFFER_KEY = "change_feed_buffer"      # connection.info: statements of a connection no session owns
_COMMITTED_KEY = "change_feed_committed"  # connection.info: those statements, committing (published after)
_FEED_KEY = "change_feed"               # app.extensions / engine attribute


@dataclass(frozen=True)
class RowChange:
    """One object written by an ORM flush."""

    table: str
    op: str  # "insert" | "update" | "delete"
    pk: object
    columns: frozenset  # update: changed columns; insert/delete: every column
    values: dict  # after the change (insert/update) or before it (delete)
    old: dict = field(default_factory=dict)  # update: the changed columns' previous values


@dataclass(frozen=True)
class StatementChange:
    """One INSERT/UPDATE/DELETE statement; the rows it touched are not known."""

    table: str
    op: str
    columns: frozenset | None  # the columns it sets; None when unknown (text SQL)
    values: dict  # column → literal value, where the statement carries one
    options: dict  # the statement's execution options


class ChangeSet:
    """Everything one committed transaction changed."""

    __slots__ = ("rows", "statements", "marks")

    def __init__(self) -> None:
        self.rows: list[RowChange] = []
        self.statements: list[StatementChange] = []
        self.marks: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.rows or self.statements or self.marks)

    def __repr__(self) -> str:
        return f"<ChangeSet tables={sorted(self.tables())} marks={sorted(self.marks)}>"

    def tables(self) -> set[str]:
        return {r.table for r in self.rows} | {s.table for s in self.statements}

    def rows_of(self, table: str) -> list[RowChange]:
        return [r for r in self.rows if r.table == table]

    def statements_on(self, table: str) -> list[StatementChange]:
        return [s for s in self.statements if s.table == table]

    def touches(self, *tables: str) -> bool:
        return not self.tables().isdisjoint(tables)

    def merge(self, other: ChangeSet) -> None:
        self.rows.extend(other.rows)
        self.statements.extend(other.statements)
        self.marks |= other.marks


Subscriber = Callable[[ChangeSet], None]


class ChangeFeed:
    """The subscribers of one app."""

    def __init__(self, app: Flask):
        self.app = app
        self.subscribers: dict[str, Subscriber] = {}

    def subscribe(self, name: str, fn: Subscriber) -> None:
        self.subscribers[name] = fn

    def publish(self, change_set: ChangeSet) -> None:
        if not change_set:
            return
        if not has_app_context() or current_app._get_current_object() is not self.app:
            with self.app.app_context():
                self._deliver(change_set)
            return
        self._deliver(change_set)

    def _deliver(self, change_set: ChangeSet) -> None:
        for name, fn in list(self.subscribers.items()):
            try:
                fn(change_set)
            except Exception:  # the commit has happened: a subscriber's failure must not undo the request
                log.exception("change feed subscriber %r failed for %r", name, change_set)


# --- public API ----------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Create the app's feed and listen to its engine (needs ``db.init_app(app)`` first)."""
    feed = ChangeFeed(app)
    app.extensions[_FEED_KEY] = feed
    with app.app_context():
        engine = db.engine
    engine._marketplace_change_feed = feed
    if not event.contains(engine, "after_execute", _after_execute):
        event.listen(engine, "after_execute", _after_execute)
        event.listen(engine, "begin", _conn_begin)
        event.listen(engine, "commit", _conn_commit)
        event.listen(engine, "rollback", _conn_rollback)
        event.listen(engine, "handle_error", _conn_error)
        event.listen(engine, "checkin", _pool_checkin)
    _listen_to_sessions()


def subscribe(app: Flask, name: str, fn: Subscriber) -> None:
    """``fn(change_set)`` runs after every commit of ``app`` that changed something."""
    app.extensions[_FEED_KEY].subscribe(name, fn)


def mark(session: Session, name: str) -> None:
    """Carry ``name`` in this transaction's ChangeSet (e.g. "catalog": cached listings changed)."""
    _pending(session).marks.add(name)


def pending(session: Session) -> ChangeSet | None:
    """What this session's open transaction has changed so far (flushed rows, statements, marks), or None.
    For code that must act inside the transaction, before the commit (``before_commit``)."""
    return session.info.get(_SESSION_KEY)


def feed_of(app: Flask) -> ChangeFeed:
    return app.extensions[_FEED_KEY]


# --- session side: ORM flushes --------------------------------------------------------------------------

def _listen_to_sessions() -> None:
    target = db.session  # the marketplace's session factory (its own Session subclass)
    if event.contains(target, "after_flush", _after_flush):
        return
    event.listen(target, "after_begin", _session_begin)
    event.listen(target, "before_flush", _before_flush)
    event.listen(target, "after_flush", _after_flush)
    event.listen(target, "after_flush_postexec", _after_flush_postexec)
    event.listen(target, "after_commit", _session_commit)
    event.listen(target, "after_rollback", _session_rollback)


def _pending(session: Session) -> ChangeSet:
    pending = session.info.get(_SESSION_KEY)
    if pending is None:
        pending = session.info[_SESSION_KEY] = ChangeSet()
    return pending


def _session_begin(session, transaction, connection) -> None:
    connection.info[_OWNER_KEY] = session


def _before_flush(session, flush_context, instances) -> None:
    session.info[_FLUSHING_KEY] = True


def _after_flush_postexec(session, flush_context) -> None:
    session.info.pop(_FLUSHING_KEY, None)


def _column_values(state, mapper) -> dict:
    values = {}
    data = state.dict
    for prop in mapper.column_attrs:
        if prop.key in data:
            values[prop.columns[0].name] = data[prop.key]
    return values


def _row_change(obj, op: str) -> RowChange | None:
    state = sa.inspect(obj)
    mapper = state.mapper
    table = mapper.persist_selectable
    name = getattr(table, "name", None)
    if name is None:
        return None
    values = _column_values(state, mapper)
    pk = tuple(mapper.primary_key_from_instance(obj))
    pk = pk[0] if len(pk) == 1 else pk
    if op != "update":
        return RowChange(name, op, pk, frozenset(values), values)
    old = {}
    for prop in mapper.column_attrs:
        history = state.attrs[prop.key].history
        if history.has_changes():
            old[prop.columns[0].name] = history.deleted[0] if history.deleted else None
    if not old:
        return None  # only relationships/collections changed: no column of this row
    return RowChange(name, op, pk, frozenset(old), values, old)


def _after_flush(session, flush_context) -> None:
    pending = None
    for op, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            change = _row_change(obj, op)
            if change is not None:
                pending = pending or _pending(session)
                pending.rows.append(change)


def _session_commit(session) -> None:
    session.info.pop(_FLUSHING_KEY, None)
    pending = session.info.pop(_SESSION_KEY, None)
    if not pending:
        return
    feed = _feed_for(session.get_bind() if session.bind is not None else None)
    if feed is not None:
        feed.publish(pending)


def _session_rollback(session) -> None:
    session.info.pop(_FLUSHING_KEY, None)
    session.info.pop(_SESSION_KEY, None)


def _feed_for(engine) -> ChangeFeed | None:
    feed = getattr(engine, "_marketplace_change_feed", None) if engine is not None else None
    if feed is None and has_app_context():
        feed = current_app.extensions.get(_FEED_KEY)
    return feed


# --- engine side: statements ----------------------------------------------------------------------------

_TEXT_DML = re.compile(r"^\s*(?:with\b.*?\)\s*)?(insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+[\"`]?(\w+)",
                       re.IGNORECASE | re.DOTALL)


def _literal(value):
    if isinstance(value, sa.BindParameter) and value.callable is None and not value.expanding:
        return True, value.value
    return False, None


def _statement_change(statement, execution_options) -> StatementChange | None:
    if isinstance(statement, (sa.Insert, sa.Update, sa.Delete)):
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if name is None:
            return None
        op = "insert" if isinstance(statement, sa.Insert) else "update" if isinstance(statement, sa.Update) else "delete"
        columns, values = None, {}
        if op != "delete":
            pairs = list((getattr(statement, "_values", None) or {}).items())
            pairs += list(getattr(statement, "_ordered_values", None) or ())
            if pairs:
                columns = set()
                for key, value in pairs:
                    col = key if isinstance(key, str) else getattr(key, "name", None) or getattr(key, "key", "")
                    columns.add(col)
                    known, literal = _literal(value)
                    if known:
                        values[col] = literal
                columns = frozenset(columns)
            elif op == "insert":
                columns = frozenset(c.name for c in table.columns)  # values given at execution time
        return StatementChange(name, op, columns, values, dict(execution_options or {}))
    text = statement.text if isinstance(statement, sa.TextClause) else statement if isinstance(statement, str) else None
    if text is None:
        return None
    match = _TEXT_DML.match(text)
    if match is None:
        return None
    verb = match.group(1).split()[0].lower()
    return StatementChange(match.group(2).lower(), verb, None, {}, dict(execution_options or {}))


def _after_execute(conn, clauseelement, multiparams, params, execution_options, result) -> None:
    owner = conn.info.get(_OWNER_KEY)
    if owner is not None and owner.info.get(_FLUSHING_KEY):
        return  # the flush's own statements: recorded as rows by _after_flush
    change = _statement_change(clauseelement, execution_options)
    if change is None:
        return
    if owner is not None:
        _pending(owner).statements.append(change)
    else:
        conn.info.setdefault(_BUFFER_KEY, ChangeSet()).statements.append(change)


def _conn_begin(conn) -> None:
    _publish_committed(conn.info)  # a committed transaction of this connection not yet handed over
    conn.info.pop(_OWNER_KEY, None)
    conn.info.pop(_BUFFER_KEY, None)


def _conn_commit(conn) -> None:
    """Fires *before* the DBAPI commit: keep the statements as "committing"; they are published when the
    connection goes back to the pool or begins again (the commit has then happened), dropped on error."""
    owner = conn.info.pop(_OWNER_KEY, None)
    buffered = conn.info.pop(_BUFFER_KEY, None)
    if owner is not None or not buffered:
        return  # a session's transaction publishes in its own after_commit
    feed = _feed_for(conn.engine)
    if feed is not None:
        conn.info[_COMMITTED_KEY] = (feed, buffered)


def _conn_rollback(conn) -> None:
    if conn.invalidated:  # the connection was lost (database restarted): nothing to clear, and its info
        return            # cannot be reached (it would raise in the middle of the rollback)
    conn.info.pop(_OWNER_KEY, None)
    conn.info.pop(_BUFFER_KEY, None)
    conn.info.pop(_COMMITTED_KEY, None)


def _conn_error(context) -> None:
    conn = context.connection
    if conn is not None and not conn.closed:
        conn.info.pop(_COMMITTED_KEY, None)


def _pool_checkin(dbapi_connection, connection_record) -> None:
    if connection_record is not None:
        _publish_committed(connection_record.info)


def _publish_committed(info: dict) -> None:
    committed = info.pop(_COMMITTED_KEY, None)
    if committed is not None:
        feed, change_set = committed
        feed.publish(change_set)
