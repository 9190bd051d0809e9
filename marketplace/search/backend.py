"""The Whoosh backend: one index folder, its writers and its searchers (what the rest of search calls).

Interface (what services, maintenance and the index sync use; ``pg_backend.PostgresBackend`` is the other
implementation, chosen by ``SEARCH_BACKEND``):

* ``search(parsed, filters, sort, page, per_page, facets) -> SearchResult`` and ``suggest_ids(...)``
  – the read engine (``engine.py``) over the current index generation
* ``index(documents)`` / ``remove(ids)`` – write documents built by ``documents.py``; ``rebuild(documents)``
  replaces the whole index in one commit (the write side: ``index.py``)

The search package is the only code that imports Whoosh: ``analysis`` (text → terms), ``index`` (schema,
codec, writers), ``engine`` (postings → masks, BM25, facets) and this module.
"""
from __future__ import annotations

import os
import threading

from flask import current_app

from marketplace.search import engine
from marketplace.search.engine import Generation
from marketplace.search.index import (
    LockError,
    create_folder,
    folder_exists,
    open_folder,
    open_writer,
    rebuild_index,
    write_documents,
)
from marketplace.search.parsing import ParsedQuery
from marketplace.search.vocabulary import PRICE_BAND_KEYS, PRICE_BANDS, SORTS, SearchResult


class WhooshBackend:
    """One Whoosh index folder. Cheap to create; searchers are cached per process."""

    transactional = False  # written after the commit (``sync``), not inside the change's transaction
    name = "whoosh"

    def __init__(self, path: str, write_timeout: float = 0.3):
        self.path = path
        self.write_timeout = write_timeout
        self._lock = threading.Lock()
        self._ix = None
        self._gen: Generation | None = None
        self._pid = os.getpid()

    # --- index lifecycle -------------------------------------------------------------------------

    def exists(self) -> bool:
        return folder_exists(self.path)

    def create(self):
        return create_folder(self.path)

    def open(self):
        if self._pid != os.getpid():  # forked: never share file handles with the parent
            self._ix, self._gen, self._pid = None, None, os.getpid()
        if self._ix is None:
            with self._lock:
                if self._ix is None:
                    self._ix = open_folder(self.path)
        return self._ix

    def generation(self) -> Generation:
        ix = self.open()
        with self._lock:
            gen = self._gen
            if gen is None:
                gen = self._gen = Generation(ix.searcher())
            else:
                fresh = gen.searcher.refresh()
                if fresh is not gen.searcher:  # refresh() already retired the old searcher
                    gen = self._gen = Generation(fresh)
        return gen

    def forget(self) -> None:
        """Drop this process's open index and searcher: the next query opens the folder again (after a failure:
        the index was damaged, or rebuilt by another process, under the cached searcher)."""
        with self._lock:
            self._ix, self._gen = None, None

    def doc_count(self) -> int:
        return self.generation().searcher.doc_count()

    def stamps(self) -> dict[int, str]:
        """product id → stored stamp, for ``flask search check``."""
        searcher = self.generation().searcher
        return {int(f["id"]): f.get("stamp", "") for f in searcher.all_stored_fields()}

    # --- writing ---------------------------------------------------------------------------------

    def writer(self, timeout: float | None = None):
        """A writer, or ``LockError`` once ``timeout`` seconds pass while another process writes."""
        return open_writer(self.open(), self.write_timeout if timeout is None else timeout)

    def index(self, documents: dict[int, dict | None], timeout: float | None = None) -> None:
        """Add/replace the given documents; ``None`` removes the product. Raises ``LockError``."""
        if not documents:
            return
        write_documents(self.writer(timeout), documents)

    def remove(self, ids, timeout: float | None = None) -> None:
        self.index({int(i): None for i in ids}, timeout)

    def rebuild(self, documents, timeout: float = 120.0, progress=None) -> int:
        """Replace the whole index with ``documents`` (an iterable of dicts) in one commit."""
        if not self.exists():
            self._ix, self._gen = None, None
            self.create()
        return rebuild_index(self.open(), documents, timeout, progress=progress)

    # --- querying --------------------------------------------------------------------------------

    def search(self, parsed: ParsedQuery, filters: dict | None = None, sort: str = "relevance", page: int = 1,
               per_page: int = 24, facets: bool = True) -> SearchResult:
        return engine.search(self.generation(), parsed, filters, sort, page, per_page, facets=facets)

    def suggest_ids(self, prefix_words: list[str], last: str, limit: int = 6) -> list[int]:
        """Product ids whose title has every earlier word and a word starting with ``last`` (folded)."""
        return engine.suggest_ids(self.generation(), prefix_words, last, limit)


def get_backend():
    """The app's backend, a ``WhooshBackend`` or a ``PostgresBackend`` (``search.init_app`` creates it)."""
    return current_app.extensions["search"]


# SORTS, PRICE_BANDS, PRICE_BAND_KEYS and SearchResult live in ``vocabulary``; they are named here too for
# callers that still read them from the backend (the API's parameter list).
__all__ = ["PRICE_BANDS", "PRICE_BAND_KEYS", "SORTS", "LockError", "SearchResult", "WhooshBackend", "get_backend"]
