"""Keeping the index true: writing products now (or recording them in ``search_dirty`` when another
process holds the index lock), full rebuilds, checks and repairs (``flask search reindex | check | sync``).

The index is a cache of the database, so its bookkeeping is infrastructure, not a service: the
``search_dirty`` rows are written and cleared in their own small transactions (``mark_dirty``,
``clear_dirty``), whatever the request or command around them does. Documents are always read from
the committed database rows, in a session of their own.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.search.backend import get_backend
from marketplace.search.documents import all_documents, documents_for_ids
from marketplace.search.index import LockError, apply_documents
from marketplace.search.models import SearchDirty

log = logging.getLogger(__name__)

FULL_SYNC_TIMEOUT = 30.0  # seconds `flask search sync` and a full sync wait for the index lock


# --- the search_dirty safety net ---------------------------------------------------------------------

def dirty_rows(session: Session) -> list[tuple[int, object]]:
    return [(r.product_id, r.marked_at)
            for r in session.execute(sa.select(SearchDirty.product_id, SearchDirty.marked_at))]


def dirty_count() -> int:
    with Session(db.engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(SearchDirty)) or 0


def mark_dirty(ids) -> None:
    """Record products whose index update could not be written; commits its own small transaction."""
    ids = sorted({int(i) for i in ids if i is not None})
    if not ids:
        return
    now = utcnow()
    with Session(db.engine) as session, session.begin():
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(SearchDirty).values([{"product_id": i, "marked_at": now} for i in ids])
        session.execute(stmt.on_conflict_do_update(index_elements=["product_id"], set_={"marked_at": now}))


def clear_dirty(rows) -> None:
    """Forget the given (product id, marked at) rows, unless they were marked again since; commits its own
    small transaction."""
    with Session(db.engine) as session, session.begin():
        for product_id, marked_at in rows:
            session.execute(sa.delete(SearchDirty).where(SearchDirty.product_id == product_id,
                                                         SearchDirty.marked_at == marked_at))


# --- writing -------------------------------------------------------------------------------------------

def write(ids, timeout: float | None = None) -> bool:
    """Write the given products (and every pending dirty one) to the index.

    Returns False when the lock was busy; then the ids are recorded as dirty instead. (The PostgreSQL
    backend has no lock and no dirty rows: its documents are written in one transaction of their own.)
    """
    ids = {int(i) for i in ids if i is not None}
    backend = get_backend()
    if backend.transactional:
        with db.engine.begin() as conn, Session(bind=conn) as session:
            backend.write(conn, documents_for_ids(session, ids))
        return True
    try:
        writer = backend.writer(timeout)
    except LockError:
        mark_dirty(ids)
        log.info("search index busy; %d product(s) marked dirty", len(ids))
        return False
    try:
        # Read the rows only now, while holding the lock: the last writer always writes the newest data.
        # The session ends before the index is written (SQLite: don't block other writers).
        with Session(db.engine) as session:
            dirty = dirty_rows(session)
            documents = documents_for_ids(session, ids | {pid for pid, _ in dirty})
        apply_documents(writer, documents)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    if dirty:
        clear_dirty(dirty)
    return True


def write_with_pending(ids) -> None:
    """``write(ids)``, then whatever other processes marked dirty while this one held the lock."""
    if not ids:
        return
    if write(ids):
        for _ in range(3):
            if not dirty_count() or not write((), timeout=0):
                break


def index_products(ids) -> bool:
    """(Re)index these products now (visible ones are written, others removed). False → marked dirty."""
    return write(ids)


def remove_products(ids) -> bool:
    """Remove these products from the index (whatever the database says). False → marked dirty."""
    backend = get_backend()
    if backend.transactional:
        with db.engine.begin() as conn:
            backend.write(conn, {int(i): None for i in ids})
        return True
    try:
        get_backend().remove(ids)
        return True
    except LockError:
        mark_dirty(ids)
        return False


# --- reindex, check, sync (the CLI) -------------------------------------------------------------------

def reindex_all(progress=None) -> int:
    """Rebuild the whole index from the database in one commit. Idempotent. Returns the product count."""
    backend = get_backend()
    if backend.transactional:  # one transaction: searches see the old documents until it commits
        with db.engine.begin() as conn, Session(bind=conn) as session:
            return backend.rebuild_in(conn, all_documents(session), progress=progress)
    with Session(db.engine) as session:
        dirty = dirty_rows(session)
        count = backend.rebuild(all_documents(session), progress=progress)
    if dirty:
        clear_dirty(dirty)
    return count


def check_index() -> dict:
    """Compare the index with the database: missing, stale and extra product ids, and dirty ones."""
    backend = get_backend()
    indexed = backend.stamps()
    missing, stale = [], []
    with Session(db.engine) as session:
        expected = 0
        for doc in all_documents(session):
            expected += 1
            pid = doc["pid"]
            have = indexed.pop(pid, None)
            if have is None:
                missing.append(pid)
            elif have != doc["stamp"]:
                stale.append(pid)
        dirty = list(session.scalars(sa.select(SearchDirty.product_id)))
    return {"expected": expected, "indexed": backend.doc_count(), "missing": missing, "stale": stale,
            "extra": sorted(indexed), "dirty": dirty}


def index_is_fresh() -> bool:
    if not get_backend().exists():
        return False
    report = check_index()
    return not (report["missing"] or report["stale"] or report["extra"] or report["dirty"])


def sync_pending(timeout: float = FULL_SYNC_TIMEOUT) -> int:
    """Apply the dirty table (``flask search sync``). Returns how many products were written."""
    count = dirty_count()
    if count:
        write((), timeout=timeout)
    return count


def sync_everything(timeout: float = FULL_SYNC_TIMEOUT) -> int:
    """Compare every document's stamp with the database and fix what differs."""
    report = check_index()
    ids = set(report["missing"]) | set(report["stale"]) | set(report["extra"])
    if ids:
        write(ids, timeout=timeout)
    return len(ids)
