"""Keeping the index in step with the database: the ``search`` subscriber of the change feed.

After each commit the feed (``core/changes.py``) hands over a ``ChangeSet``; :func:`on_change` reads it:

* rows (ORM flushes): a product inserted or deleted, or updated in a column the index holds; a variant
  inserted or deleted, or updated in its price or product (its old and new product both change); a shop
  or village updated in an indexed column or deleted (→ all its products). A new shop or village has no
  indexed products yet. Anything else (stock, view counts, other tables) changes nothing in the index.
* statements (Core/text INSERT/UPDATE/DELETE, rows unknown) on those tables: an UPDATE that sets only
  columns the index doesn't hold (checkout and cancellation stock) changes nothing; any other statement —
  one setting indexed columns, a DELETE, text SQL whose columns are unknown — means a full sync (every
  document's stamp compared with the database).

The changed documents are then built from the committed rows and written (``maintenance.write``). The
writer waits at most ``SEARCH_WRITE_TIMEOUT`` seconds; if another process holds the Whoosh lock, the
product ids go to the ``search_dirty`` table instead, and the next writer (any later save, or ``flask search
sync``) applies them. A failed index write is logged and never fails the request.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.core import changes
from marketplace.core.changes import ChangeSet, RowChange, StatementChange
from marketplace.extensions import db
from marketplace.search import maintenance
from marketplace.search.documents import all_documents, documents_for_ids, product_ids_for

log = logging.getLogger(__name__)

INDEXED_COLUMNS = {  # table → the columns whose values reach a search document
    "products": frozenset({"title_vi", "title_en", "description_vi", "description_en", "category", "materials",
                           "technique", "status", "published_at", "created_at", "ocop_stars", "ocop_issued_on",
                           "ocop_expires_on", "shop_id"}),
    "variants": frozenset({"price", "product_id"}),
    "shops": frozenset({"name", "status", "village_id", "maker_name"}),
    "craft_villages": frozenset({"name_vi", "name_en", "commune_vi", "craft_vi", "craft_en"}),
}
HOLDS_PRODUCTS = {"shops", "craft_villages"}  # a new one has no indexed products yet


@dataclass
class Pending:
    """What a change set asks of the index."""

    products: set = field(default_factory=set)
    shops: set = field(default_factory=set)
    villages: set = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return bool(self.products or self.shops or self.villages or self.everything)


def _row(pending: Pending, row: RowChange) -> None:
    indexed = INDEXED_COLUMNS[row.table]
    if row.op == "update" and not row.columns & indexed:
        return
    if row.table == "products":
        pending.products.add(row.pk)
    elif row.table == "variants":
        pending.products.add(row.values.get("product_id"))
        if row.op == "update" and "product_id" in row.old:
            pending.products.add(row.old["product_id"])
    elif row.op != "insert":
        (pending.shops if row.table == "shops" else pending.villages).add(row.pk)


def _needs_full_sync(statement: StatementChange) -> bool:
    if statement.op == "insert" and statement.table in HOLDS_PRODUCTS:
        return False
    if statement.op != "delete" and statement.columns is not None:
        return bool(statement.columns & INDEXED_COLUMNS[statement.table])
    return True  # a DELETE, or columns unknown (text SQL, values given at execution time)


def pending_for(change_set: ChangeSet) -> Pending:
    """The products, shops and villages whose documents this change set may have changed."""
    pending = Pending()
    for row in change_set.rows:
        if row.table in INDEXED_COLUMNS:
            _row(pending, row)
    pending.products.discard(None)
    pending.everything = any(s.table in INDEXED_COLUMNS and _needs_full_sync(s) for s in change_set.statements)
    return pending


def on_change(change_set: ChangeSet) -> None:
    """The change feed's ``search`` subscriber (runs after the commit, in the app context)."""
    if not current_app.config["SEARCH_ENABLED"] or not change_set.touches(*INDEXED_COLUMNS):
        return
    if IN_TRANSACTION in change_set.marks:
        return  # the PostgreSQL backend wrote these documents before the commit
    pending = pending_for(change_set)
    if not pending:
        return
    try:
        apply_changes(pending.products, pending.shops, pending.villages, everything=pending.everything)
    except Exception:  # the database is the truth: a failed index write must not fail the request
        log.exception("search index update failed; run `flask search sync`")


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


# --- the PostgreSQL backend: inside the transaction ------------------------------------------------------

IN_TRANSACTION = "search-written"  # the change set's mark: its documents were written before the commit


def install_in_transaction() -> None:
    """Listen to the app's sessions' ``before_commit`` (once per process; each app's backend decides)."""
    target = db.session
    if not event.contains(target, "before_commit", before_commit):
        event.listen(target, "before_commit", before_commit)


def before_commit(session) -> None:
    """Write the documents this transaction changed, on its own connection, before it commits."""
    if not has_app_context():
        return
    backend = current_app.extensions.get("search")
    if not getattr(backend, "transactional", False) or not current_app.config["SEARCH_ENABLED"]:
        return
    session.flush()  # the change feed records rows at flush time
    change_set = changes.pending(session)
    if change_set is None or not change_set.touches(*INDEXED_COLUMNS):
        return
    pending = pending_for(change_set)
    if not pending:
        return
    write_in_transaction(session.connection(), backend, pending)
    changes.mark(session, IN_TRANSACTION)


def write_in_transaction(conn, backend, pending: Pending) -> None:
    """Write what ``pending`` asks on ``conn`` (in its transaction, seeing its uncommitted rows)."""
    with Session(bind=conn) as reader:  # its own identity map: the app session's objects stay as they are
        if pending.everything:
            indexed = pg_stamps(conn)
            documents: dict[int, dict | None] = {}
            for doc in all_documents(reader):
                if indexed.pop(doc["pid"], None) != doc["stamp"]:
                    documents[doc["pid"]] = doc
            documents.update({pid: None for pid in indexed})
        else:
            ids = set(pending.products)
            if pending.shops or pending.villages:
                ids |= product_ids_for(reader, pending.shops, pending.villages)
            documents = documents_for_ids(reader, ids)
        backend.write(conn, documents)


def pg_stamps(conn) -> dict[int, str]:
    return {int(pid): stamp for pid, stamp in conn.exec_driver_sql("SELECT product_id, stamp FROM search_documents")}
