"""Search tables. ``search_dirty``: products whose Whoosh index update could not be written (another
process held the Whoosh lock); the next writer, or ``flask search sync``, applies them. ``search_documents``
and ``search_terms``: the PostgreSQL backend's documents and vocabulary."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class SearchDirty(db.Model):
    __tablename__ = "search_dirty"

    # No foreign key: a deleted product must still be removed from the index.
    product_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    marked_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)


# --- the PostgreSQL backend (SEARCH_BACKEND=postgres) ---------------------------------------------------
# Both tables exist on every database (the schema is the same everywhere); only the PostgreSQL backend
# fills them. Rows are written in the transaction of the change they reflect (``pg_sync``).

TSV = TSVECTOR().with_variant(sa.Text(), "sqlite")


class SearchDocument(db.Model):
    """One visible product's search document: the folded ``tsvector`` (title weight A, village B, body C;
    every word in its exact and, when it carries diacritics, its folded form at the same position) and the
    values filters, facets and sorts read. No foreign key: the row is removed with the product's visibility."""

    __tablename__ = "search_documents"

    product_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    village_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    ocop: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    ocop_until: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    price: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    published: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    doc: Mapped[str] = mapped_column(TSV, nullable=False)

    __table_args__ = (sa.Index("ix_search_documents_doc", "doc", postgresql_using="gin"),)


class SearchTerm(db.Model):
    """The vocabulary (every exact and folded word of the documents) for "did you mean": a trigram index
    finds the words near a misspelt one. Document frequencies per field are counted by a full rebuild; a
    word first seen by a later save is added with its frequency in that document (words are never counted
    up or down by saves, so that concurrent saves never wait on a shared row)."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    folded: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    df_title: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    df_village: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    df_body: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    __table_args__ = (
        sa.Index("ix_search_terms_trgm", "term", postgresql_using="gin", postgresql_ops={"term": "gin_trgm_ops"}),
        sa.Index("ix_search_terms_folded", "folded"),
    )


def _create_extensions(target, connection, **kw) -> None:
    """``db.create_all()`` on PostgreSQL (the tests): the extension the trigram index needs."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))


sa.event.listen(SearchTerm.__table__, "before_create", _create_extensions)
