"""Keeping the index true: SQLAlchemy session events (registered by ``search.init_app``).

* ``after_flush`` notes which products, shops and villages changed in a field the index uses;
  ``do_orm_execute`` notes bulk UPDATE/DELETE statements on those tables (→ a full sync).
* ``after_commit`` resolves shops/villages to product ids, then writes the changed documents, built
  from the committed database rows. Nothing to write → no writer is opened.
* The writer waits at most ``SEARCH_WRITE_TIMEOUT`` seconds. If another process holds the Whoosh lock,
  the product ids go to the ``search_dirty`` table instead; the next writer (any later save, or
  ``flask search sync``) applies them. A failed index write is logged and never fails the request.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.catalog.models import CraftVillage, Product, Variant
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.search.backend import LockError, apply_documents
from marketplace.search.documents import documents_for_ids, product_ids_for
from marketplace.search.models import SearchDirty
from marketplace.shops.models import Shop

log = logging.getLogger(__name__)

PRODUCT_ATTRS = ("title_vi", "title_en", "description_vi", "description_en", "category", "materials",
                 "technique", "status", "published_at", "created_at", "ocop_stars", "ocop_issued_on",
                 "ocop_expires_on", "shop_id")
VARIANT_ATTRS = ("price", "product_id")
SHOP_ATTRS = ("name", "status", "village_id", "maker_name")
VILLAGE_ATTRS = ("name_vi", "name_en", "commune_vi", "craft_vi", "craft_en")
WATCHED_TABLES = {"products", "variants", "shops", "craft_villages"}
INFO_KEY = "search_pending"

_registered = False


def _pending(session) -> dict:
    pending = session.info.get(INFO_KEY)
    if pending is None:
        pending = session.info[INFO_KEY] = {"products": set(), "shops": set(), "villages": set(), "all": False}
    return pending


def _changed(obj, attrs) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attrs)


def _old_values(obj, attr) -> list:
    history = sa.inspect(obj).attrs[attr].history
    return [v for v in (history.deleted or ()) if v is not None]


def _touched(obj, state: str) -> tuple[str | None, list]:
    """Which index bucket a flushed object affects, and the ids to refresh there.

    ``state`` is "new", "dirty" or "deleted"; dirty objects count only when an indexed attribute changed,
    and a new shop or village has no indexed products yet."""
    dirty = state == "dirty"
    if isinstance(obj, Product):
        if not dirty or _changed(obj, PRODUCT_ATTRS):
            return "products", [obj.id]
    elif isinstance(obj, Variant):
        if not dirty:
            return "products", [obj.product_id]
        if _changed(obj, VARIANT_ATTRS):
            return "products", [obj.product_id, *_old_values(obj, "product_id")]
    elif isinstance(obj, Shop) and state != "new":
        if not dirty or _changed(obj, SHOP_ATTRS):
            return "shops", [obj.id]
    elif isinstance(obj, CraftVillage) and state != "new":
        if not dirty or _changed(obj, VILLAGE_ATTRS):
            return "villages", [obj.id]
    return None, []


def after_flush(session, _flush_context) -> None:
    pending = None
    for state, objects in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            bucket, ids = _touched(obj, state)
            if bucket is not None:
                pending = pending or _pending(session)
                pending[bucket].update(ids)
    if pending is not None:
        pending["products"].discard(None)


INDEXED_COLUMNS = {"products": set(PRODUCT_ATTRS), "variants": set(VARIANT_ATTRS), "shops": set(SHOP_ATTRS),
                   "craft_villages": set(VILLAGE_ATTRS)}


def _set_columns(statement) -> set[str] | None:
    """Names of the columns an UPDATE sets, or None when the statement doesn't say (values at execute time)."""
    values = getattr(statement, "_values", None)
    ordered = getattr(statement, "_ordered_values", None)
    keys = list(values or ()) + [k for k, _v in (ordered or ())]
    if not keys:
        return None
    return {k if isinstance(k, str) else getattr(k, "key", None) or getattr(k, "name", "") for k in keys}


def do_orm_execute(state) -> None:
    """A bulk UPDATE or DELETE on an indexed table → a full sync at commit; an UPDATE that sets only
    columns the index doesn't hold (e.g. stock, view counts) changes nothing in it."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in WATCHED_TABLES:
        return
    if state.is_update:
        columns = _set_columns(state.statement)
        if columns is not None and not columns & INDEXED_COLUMNS.get(name, columns):
            return
    _pending(state.session)["all"] = True


def after_commit(session) -> None:
    pending = session.info.pop(INFO_KEY, None)
    if not pending or not has_app_context():
        return
    if not (pending["products"] or pending["shops"] or pending["villages"] or pending["all"]):
        return
    app = current_app._get_current_object()
    if not app.config["SEARCH_ENABLED"] or "search" not in app.extensions:
        return
    try:
        apply_changes(pending["products"], pending["shops"], pending["villages"], everything=pending["all"])
    except Exception:  # the database is the truth: a failed index write must not fail the request
        log.exception("search index update failed; run `flask search sync`")


def register() -> None:
    global _registered
    if _registered:
        return
    event.listen(db.session, "after_flush", after_flush)
    event.listen(db.session, "do_orm_execute", do_orm_execute)
    event.listen(db.session, "after_commit", after_commit)
    _registered = True


# --- writing, with the dirty table as the safety net -------------------------------------------------

def backend():
    return current_app.extensions["search"]


def _dirty_rows(session: Session) -> list[tuple[int, object]]:
    return [(r.product_id, r.marked_at) for r in session.execute(sa.select(SearchDirty.product_id, SearchDirty.marked_at))]


def mark_dirty(session: Session, ids) -> None:
    ids = sorted({int(i) for i in ids if i is not None})
    if not ids:
        return
    now = utcnow()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(SearchDirty).values([{"product_id": i, "marked_at": now} for i in ids])
    stmt = stmt.on_conflict_do_update(index_elements=["product_id"], set_={"marked_at": now})
    session.execute(stmt)
    session.commit()


def _clear_dirty(session: Session, rows) -> None:
    for product_id, marked_at in rows:
        session.execute(sa.delete(SearchDirty).where(SearchDirty.product_id == product_id,
                                                     SearchDirty.marked_at == marked_at))
    session.commit()


def write(ids, timeout: float | None = None) -> bool:
    """Write the given products (and every pending dirty one) to the index.

    Returns False when the lock was busy; then the ids are recorded as dirty instead.
    """
    ids = {int(i) for i in ids if i is not None}
    be = backend()
    with Session(db.engine) as session:
        try:
            writer = be.writer(timeout)
        except LockError:
            mark_dirty(session, ids)
            log.info("search index busy; %d product(s) marked dirty", len(ids))
            return False
        try:
            # Read the rows only now, while holding the lock: the last writer always writes the newest data.
            dirty = _dirty_rows(session)
            documents = documents_for_ids(session, ids | {pid for pid, _ in dirty})
            session.rollback()  # end the read transaction (SQLite: don't block other writers)
            apply_documents(writer, documents)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        if dirty:
            _clear_dirty(session, dirty)
    return True


def apply_changes(product_ids=(), shop_ids=(), village_ids=(), everything: bool = False) -> None:
    ids = set(product_ids)
    if shop_ids or village_ids:
        with Session(db.engine) as session:
            ids |= product_ids_for(session, shop_ids, village_ids)
    if everything:
        sync_everything()
        return
    if not ids:
        return
    if write(ids):
        # Others may have marked products dirty while we held the lock: pick them up now.
        for _ in range(3):
            with Session(db.engine) as session:
                if not session.scalar(sa.select(sa.func.count()).select_from(SearchDirty)):
                    break
            if not write((), timeout=0):
                break


def sync_pending(timeout: float = 30.0) -> int:
    """Apply the dirty table (``flask search sync``). Returns how many products were written."""
    with Session(db.engine) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(SearchDirty)) or 0
    if count:
        write((), timeout=timeout)
    return count


def sync_everything(timeout: float = 30.0) -> int:
    """Compare every document's stamp with the database and fix what differs."""
    from marketplace.search.services import check_index

    report = check_index()
    ids = set(report["missing"]) | set(report["stale"]) | set(report["extra"])
    if ids:
        write(ids, timeout=timeout)
    return len(ids)
