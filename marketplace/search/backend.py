"""The Whoosh backend: the only module that talks to the search engine.

Interface (what views, the API and the sync hooks use; a PostgreSQL full-text backend can replace it):

* ``search(query, filters, sort, page, per_page) -> SearchResult``
* ``index(documents)`` / ``remove(ids)`` – write documents built by ``documents.py``
* ``rebuild(documents)`` – replace the whole index in one commit

Query design (see ``bench/search.py``): the matching set is computed from raw posting lists with set
operations (no scoring), which gives the exact total and the facet counts; facet values come from
per-document arrays cached for each index generation; BM25F scoring runs only for the requested page
(top-N, block-quality skipping), and price/newest sorts read the cached arrays instead of scoring.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date

from whoosh import index as windex
from whoosh import query as wq
from whoosh import scoring
from whoosh import columns
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.writing import CLEAR

from marketplace.search.analysis import fold_word, has_marks, index_analyzer
from marketplace.search.parsing import ParsedQuery

log = logging.getLogger(__name__)

SCHEMA_VERSION = "5"
TEXT_FIELDS = ("title", "village", "body")
PHRASE_FIELDS = ("title",)
FIELD_BOOSTS = {"title": 3.0, "village": 2.0, "body": 1.0}
EXACT_BOOST = 1.6  # a diacritic-exact match counts this much more than a folded-only one
SORTS = ("relevance", "price_asc", "price_desc", "newest")
PRICE_BANDS = (  # key, low (inclusive), high (exclusive)
    ("duoi-200k", 0, 200_000),
    ("200k-500k", 200_000, 500_000),
    ("500k-1tr", 500_000, 1_000_000),
    ("1tr-3tr", 1_000_000, 3_000_000),
    ("tren-3tr", 3_000_000, None),
)
PRICE_BAND_KEYS = tuple(b[0] for b in PRICE_BANDS)
MAX_RESULTS_WINDOW = 2_000  # deepest ranked position we score (page * per_page)
COLUMNS = ("pid", "category", "village_id", "ocop", "ocop_until", "price", "published")


def make_schema() -> Schema:
    """Three text fields (exact + folded forms in each), an id, and value columns (not indexed)."""
    analyzer = index_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        stamp=STORED(),
        title=TEXT(analyzer=analyzer, field_boost=FIELD_BOOSTS["title"], phrase=True),
        village=TEXT(analyzer=analyzer, field_boost=FIELD_BOOSTS["village"], phrase=False),
        body=TEXT(analyzer=analyzer, phrase=False),
        pid=COLUMN(columns.NumericColumn("q")),
        category=COLUMN(columns.RefBytesColumn()),
        village_id=COLUMN(columns.NumericColumn("q")),
        ocop=COLUMN(columns.NumericColumn("b")),
        ocop_until=COLUMN(columns.NumericColumn("i")),
        price=COLUMN(columns.NumericColumn("q")),
        published=COLUMN(columns.NumericColumn("q")),
    )


def price_band(price: int | None) -> str | None:
    if not price:
        return None
    for key, low, high in PRICE_BANDS:
        if price >= low and (high is None or price < high):
            return key
    return None


@dataclass
class SearchResult:
    ids: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    total: int = 0
    facets: dict = field(default_factory=dict)
    did_you_mean: str | None = None
    fallback: bool = False  # True: no product had every word, these match any word
    page: int = 1
    per_page: int = 24
    query: str = ""
    empty_query: bool = False

    @property
    def hits(self) -> list[tuple[int, float]]:
        return list(zip(self.ids, self.scores))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class _Generation:
    """Per-searcher caches: column arrays, vocabulary maps, recent match sets and facet counts."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._arrays: dict[str, list] = {}
        self._exact_forms: dict[str, str] | None = None
        self.matches: OrderedDict = OrderedDict()
        self.facets: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def array(self, name: str) -> list:
        arr = self._arrays.get(name)
        if arr is None:
            arr = list(self.searcher.reader().column_reader(name))
            if name == "category":
                arr = [v.decode("utf-8") if isinstance(v, bytes) else v for v in arr]
            self._arrays[name] = arr
        return arr

    def exact_forms(self) -> dict[str, str]:
        """folded word → its most frequent spelling with diacritics (for "did you mean")."""
        if self._exact_forms is None:
            reader = self.searcher.reader()
            best: dict[str, tuple[int, str]] = {}
            for fieldname in ("title", "village"):
                for term, info in reader.iter_field(fieldname):
                    word = term.decode("utf-8") if isinstance(term, bytes) else term
                    folded = fold_word(word)
                    if folded == word:
                        continue
                    freq = info.doc_frequency()
                    if freq > best.get(folded, (0, ""))[0]:
                        best[folded] = (freq, word)
            self._exact_forms = {k: v[1] for k, v in best.items()}
        return self._exact_forms

    @staticmethod
    def remember(cache: OrderedDict, key, value, size: int = 256):
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


class WhooshBackend:
    """One Whoosh index folder. Cheap to create; searchers are cached per process."""

    def __init__(self, path: str, write_timeout: float = 0.3):
        self.path = path
        self.write_timeout = write_timeout
        self._lock = threading.Lock()
        self._ix = None
        self._gen: _Generation | None = None
        self._pid = os.getpid()

    # --- index lifecycle -------------------------------------------------------------------------

    def _version_file(self) -> str:
        return os.path.join(self.path, "SCHEMA_VERSION")

    def exists(self) -> bool:
        try:
            with open(self._version_file(), encoding="ascii") as fh:
                version = fh.read().strip()
        except OSError:
            return False
        return version == SCHEMA_VERSION and windex.exists_in(self.path)

    def create(self):
        os.makedirs(self.path, exist_ok=True)
        ix = windex.create_in(self.path, make_schema())
        with open(self._version_file(), "w", encoding="ascii") as fh:
            fh.write(SCHEMA_VERSION)
        return ix

    def open(self):
        if self._pid != os.getpid():  # forked: never share file handles with the parent
            self._ix, self._gen, self._pid = None, None, os.getpid()
        if self._ix is None:
            with self._lock:
                if self._ix is None:
                    self._ix = windex.open_dir(self.path) if self.exists() else self.create()
        return self._ix

    def generation(self) -> _Generation:
        ix = self.open()
        with self._lock:
            gen = self._gen
            if gen is None:
                gen = self._gen = _Generation(ix.searcher(weighting=scoring.BM25F(title_B=0.3)))
            else:
                fresh = gen.searcher.refresh()
                if fresh is not gen.searcher:  # refresh() already retired the old searcher
                    gen = self._gen = _Generation(fresh)
        return gen

    def doc_count(self) -> int:
        return self.generation().searcher.doc_count()

    def stamps(self) -> dict[int, str]:
        """product id → stored stamp, for ``flask search check``."""
        searcher = self.generation().searcher
        return {int(f["id"]): f.get("stamp", "") for f in searcher.all_stored_fields()}

    # --- writing ---------------------------------------------------------------------------------

    def writer(self, timeout: float | None = None):
        """A writer, or ``LockError`` once ``timeout`` seconds pass while another process writes."""
        return self.open().writer(timeout=self.write_timeout if timeout is None else timeout)

    def index(self, documents: dict[int, dict | None], timeout: float | None = None) -> None:
        """Add/replace the given documents; ``None`` removes the product. Raises ``LockError``."""
        if not documents:
            return
        writer = self.writer(timeout)
        try:
            for pid, doc in documents.items():
                if doc is None:
                    writer.delete_by_term("id", str(pid))
                else:
                    writer.update_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def remove(self, ids, timeout: float | None = None) -> None:
        self.index({int(i): None for i in ids}, timeout)

    def rebuild(self, documents, timeout: float = 120.0, progress=None) -> int:
        """Replace the whole index with ``documents`` (an iterable of dicts) in one commit."""
        if not self.exists():
            self._ix, self._gen = None, None
            self.create()
        writer = self.open().writer(timeout=timeout, limitmb=256)
        count = 0
        try:
            for doc in documents:
                writer.add_document(**doc)
                count += 1
                if progress is not None:
                    progress(1)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)
        return count

    # --- querying --------------------------------------------------------------------------------

    def _forms(self, word: str) -> list[tuple[str, float]]:
        folded = fold_word(word)
        if has_marks(word):
            return [(word, EXACT_BOOST), (folded, 1.0)]
        return [(word, 1.0)]

    def _word_query(self, reader, word: str):
        terms = []
        for fieldname in TEXT_FIELDS:
            for form, boost in self._forms(word):
                if (fieldname, form) in reader:
                    terms.append(wq.Term(fieldname, form, boost=boost))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else wq.Or(terms)

    def _phrase_query(self, reader, phrase: list[str]):
        variants = [([fold_word(w) for w in phrase], 1.0)]
        if any(has_marks(w) for w in phrase):
            variants.insert(0, (phrase, EXACT_BOOST))
        parts = []
        for fieldname in TEXT_FIELDS:
            for words, boost in variants:
                if all((fieldname, w) in reader for w in words):
                    # Positions are kept for titles only (lean index): elsewhere a phrase means all its words.
                    cls = wq.Phrase if fieldname in PHRASE_FIELDS else _AndWords
                    parts.append(cls(fieldname, words, boost=boost))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def _word_docs(self, reader, word: str) -> set[int]:
        docs: set[int] = set()
        for fieldname in TEXT_FIELDS:
            for form, _boost in self._forms(word):
                if (fieldname, form) in reader:
                    docs.update(reader.postings(fieldname, form).all_ids())
        return docs

    def _units(self, reader, parsed: ParsedQuery):
        """(query, docset) per unit (word or phrase); None where the unit matches nothing."""
        units = []
        for word in parsed.words:
            q = self._word_query(reader, word)
            units.append((q, self._word_docs(reader, word) if q is not None else set()))
        for phrase in parsed.phrases:
            q = self._phrase_query(reader, phrase)
            units.append((q, set(q.docs(self.generation().searcher)) if q is not None else set()))
        return units

    def _filter_docs(self, gen: _Generation, docs, filters: dict) -> set[int]:
        checks = []
        if filters.get("category"):
            arr, want = gen.array("category"), filters["category"]
            checks.append(lambda d: arr[d] == want)
        if filters.get("village_id"):
            arr_v, want_v = gen.array("village_id"), int(filters["village_id"])
            checks.append(lambda d: arr_v[d] == want_v)
        if filters.get("ocop"):
            stars, until, want_o, today = gen.array("ocop"), gen.array("ocop_until"), int(filters["ocop"]), \
                date.today().toordinal()
            checks.append(lambda d: stars[d] == want_o and until[d] >= today)
        if filters.get("price"):
            band = dict((k, (lo, hi)) for k, lo, hi in PRICE_BANDS).get(filters["price"])
            if band:
                prices, (lo, hi) = gen.array("price"), band
                checks.append(lambda d: prices[d] >= lo and (hi is None or prices[d] < hi) and prices[d] > 0)
        if not checks:
            return docs if isinstance(docs, set) else set(docs)
        return {d for d in docs if all(check(d) for check in checks)}

    def _facets(self, gen: _Generation, docs: set[int]) -> dict:
        today = date.today().toordinal()
        cats, villages = gen.array("category"), gen.array("village_id")
        stars, until, prices = gen.array("ocop"), gen.array("ocop_until"), gen.array("price")
        ocop = Counter(stars[d] for d in docs if stars[d] and until[d] >= today)
        bands = Counter(price_band(prices[d]) for d in docs)
        bands.pop(None, None)
        return {
            "category": Counter(cats[d] for d in docs if cats[d]).most_common(),
            "village": Counter(villages[d] for d in docs if villages[d]).most_common(),
            "ocop": sorted(ocop.items(), reverse=True),
            "price": [(key, bands[key]) for key in PRICE_BAND_KEYS if bands.get(key)],
        }

    def _all_docs(self, gen: _Generation) -> set[int]:
        key = ("*all*",)
        docs = gen.matches.get(key)
        if docs is None:
            docs = set(gen.searcher.reader().all_doc_ids())
            gen.remember(gen.matches, key, docs)
        return docs

    def _match(self, gen: _Generation, parsed: ParsedQuery):
        """(query, docset, fallback) for the parsed text; cached for this index generation."""
        key = (tuple(parsed.words), tuple(tuple(p) for p in parsed.phrases))
        cached = gen.matches.get(key)
        if cached is not None:
            return cached
        reader = gen.searcher.reader()
        units = self._units(reader, parsed)
        live = [(q, d) for q, d in units if q is not None]
        fallback = False
        docs: set[int] = set()
        query = None
        if live and len(live) == len(units):
            docs = set.intersection(*(d for _, d in live))
            query = live[0][0] if len(live) == 1 else wq.And([q for q, _ in live])
        if not docs and len(units) > 1 and live:
            fallback = True
            docs = set().union(*(d for _, d in live))
            query = live[0][0] if len(live) == 1 else wq.Or([q for q, _ in live])
        if not docs:
            query = None
        result = (query, docs, fallback)
        gen.remember(gen.matches, key, result)
        return result

    def search(self, parsed: ParsedQuery, filters: dict | None = None, sort: str = "relevance", page: int = 1,
               per_page: int = 24, facets: bool = True) -> SearchResult:
        filters = {k: v for k, v in (filters or {}).items() if v}
        sort = sort if sort in SORTS else "relevance"
        page = max(1, int(page))
        result = SearchResult(page=page, per_page=per_page, query=parsed.text, empty_query=parsed.empty)
        gen = self.generation()
        if parsed.empty:
            if parsed.had_input:
                return result  # only symbols or stop words: nothing to look for
            query, docs, fallback = None, self._all_docs(gen), False
            if sort == "relevance":
                sort = "newest"
        else:
            query, docs, fallback = self._match(gen, parsed)
            result.fallback = fallback
        fkey = (id(docs), tuple(sorted(filters.items())))
        cached = gen.facets.get(fkey)
        if cached is None:
            final = self._filter_docs(gen, docs, filters) if docs else set()
            facet_counts = self._facets(gen, final) if facets else {}
            cached = (final, facet_counts, docs)  # keep docs alive so id(docs) stays unique
            gen.remember(gen.facets, fkey, cached, size=128)
        final, result.facets, _ = cached
        result.total = len(final)
        if not parsed.empty and (fallback or result.total < 3):
            result.did_you_mean = self.did_you_mean(gen, parsed)
        start = (page - 1) * per_page
        if not final or start >= min(result.total, MAX_RESULTS_WINDOW):
            return result
        pids = gen.array("pid")
        if sort == "relevance" and query is not None:
            limit = min(start + per_page, MAX_RESULTS_WINDOW)
            hits = gen.searcher.search(query, limit=limit, filter=final if filters else None, terms=False)
            for hit in hits[start:limit]:
                result.ids.append(int(pids[hit.docnum]))
                result.scores.append(float(hit.score))
        else:
            if sort == "price_asc":
                arr = gen.array("price")
                order = sorted(final, key=lambda d: (arr[d], pids[d]))
            elif sort == "price_desc":
                arr = gen.array("price")
                order = sorted(final, key=lambda d: (-arr[d], -pids[d]))
            else:  # newest
                arr = gen.array("published")
                order = sorted(final, key=lambda d: (-arr[d], -pids[d]))
            for d in order[start:start + per_page]:
                result.ids.append(int(pids[d]))
                result.scores.append(0.0)
        return result

    # --- did you mean / suggestions ---------------------------------------------------------------

    def did_you_mean(self, gen: _Generation, parsed: ParsedQuery) -> str | None:
        reader = gen.searcher.reader()
        changed = False
        out = []
        words = list(parsed.words) + [w for p in parsed.phrases for w in p]
        for word in words:
            folded = fold_word(word)
            known = any((f, folded) in reader for f in TEXT_FIELDS)
            if known:
                out.append(word if has_marks(word) else gen.exact_forms().get(folded, word))
                continue
            best = None
            for fieldname in ("title", "village", "body"):
                for cand in reader.terms_within(fieldname, folded, 2 if len(folded) > 4 else 1, prefix=1):
                    if fold_word(cand) != cand or cand == folded:
                        continue
                    dist = _distance(folded, cand)
                    freq = reader.doc_frequency(fieldname, cand)
                    rank = (dist, -freq * FIELD_BOOSTS[fieldname])
                    if best is None or rank < best[0]:
                        best = (rank, cand)
            if best is None:
                out.append(word)
                continue
            changed = True
            out.append(gen.exact_forms().get(best[1], best[1]))
        if not changed:
            return None
        suggestion = " ".join(out)
        from marketplace.search.parsing import parse_query

        _query, docs, fallback = self._match(gen, parse_query(suggestion))
        return suggestion if docs and not fallback else None

    def suggest_ids(self, prefix_words: list[str], last: str, limit: int = 6) -> list[int]:
        """Product ids whose title has every earlier word and a word starting with ``last`` (folded)."""
        gen = self.generation()
        reader = gen.searcher.reader()
        last = fold_word(last)
        if len(last) < 2:
            return []
        expansions = []
        for term in reader.expand_prefix("title", last):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            expansions.append(wq.Term("title", word))
            if len(expansions) >= 40:
                break
        if not expansions:
            return []
        parts = [wq.Or(expansions)]
        for word in prefix_words:
            folded = fold_word(word)
            if ("title", folded) not in reader:
                return []
            parts.append(wq.Term("title", folded))
        hits = gen.searcher.search(wq.And(parts), limit=limit, terms=False)
        pids = gen.array("pid")
        return [int(pids[h.docnum]) for h in hits]


def _AndWords(fieldname: str, words: list[str], boost: float = 1.0):
    return wq.And([wq.Term(fieldname, w) for w in words], boost=boost)


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2 = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


__all__ = ["WhooshBackend", "SearchResult", "LockError", "PRICE_BANDS", "SORTS", "make_schema", "price_band"]
