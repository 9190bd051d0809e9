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

from marketplace.catalog.models import CraftVillage, Product, Shop, Variant
from marketplace.extensions import db
from marketplace.search import maintenance
from marketplace.search.documents import product_ids_for

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
    if not app.config.get("SEARCH_ENABLED", True) or "search" not in app.extensions:
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


# --- applying ------------------------------------------------------------------------------------------

def apply_changes(product_ids=(), shop_ids=(), village_ids=(), everything: bool = False) -> None:
    """Write the changed products (shops and villages resolved to theirs), or compare everything."""
    if everything:
        maintenance.sync_everything()
        return
    ids = set(product_ids)
    if shop_ids or village_ids:
        with Session(db.engine) as session:
            ids |= product_ids_for(session, shop_ids, village_ids)
    maintenance.write_with_pending(ids)
