"""The PostgreSQL backend (``SEARCH_BACKEND=postgres``): the same interface as ``WhooshBackend``, over the
``search_documents`` and ``search_terms`` tables (``pg_index`` writes them, ``pg_engine`` reads them).

The index is part of the database: a save writes its products' rows in its own transaction (``pg_sync``),
so every app instance finds a change the moment it is committed, and nothing is ever pending. Searches
read through a connection of their own (a failed search never poisons the request's transaction).
"""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.search import pg_engine, pg_index
from marketplace.search.parsing import ParsedQuery
from marketplace.search.vocabulary import SearchResult


class PostgresBackend:
    """Search documents in PostgreSQL. ``transactional``: writes happen inside the caller's transaction."""

    transactional = True
    name = "postgres"

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # --- lifecycle (what maintenance and the CLI ask of any backend) --------------------------------

    def exists(self) -> bool:
        return sa.inspect(self.engine).has_table("search_documents")

    def forget(self) -> None:
        """Nothing is cached per process."""

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            return pg_index.doc_count(conn)

    def stamps(self) -> dict[int, str]:
        with self.engine.connect() as conn:
            return pg_index.stamps(conn)

    # --- writing: always inside a transaction the caller owns ----------------------------------------

    def write(self, conn: sa.Connection, documents: dict[int, dict | None]) -> None:
        pg_index.write(conn, documents)

    def rebuild_in(self, conn: sa.Connection, documents, progress=None) -> int:
        return pg_index.rebuild(conn, documents, progress=progress)

    # --- querying ------------------------------------------------------------------------------------

    def search(self, parsed: ParsedQuery, filters: dict | None = None, sort: str = "relevance", page: int = 1,
               per_page: int = 24, facets: bool = True) -> SearchResult:
        with self.engine.connect() as conn:
            return pg_engine.search(conn, parsed, filters, sort, page, per_page, facets=facets)

    def suggest_ids(self, prefix_words: list[str], last: str, limit: int = 6) -> list[int]:
        with self.engine.connect() as conn:
            return pg_engine.suggest_ids(conn, prefix_words, last, limit)


__all__ = ["PostgresBackend"]
