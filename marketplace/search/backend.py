"""The Whoosh backend: the only module that talks to the search engine.

Interface (what views, the API and the sync hooks use; a PostgreSQL full-text backend can replace it):

* ``search(query, filters, sort, page, per_page) -> SearchResult``
* ``index(documents)`` / ``remove(ids)`` – write documents built by ``documents.py``
* ``rebuild(documents)`` – replace the whole index in one commit

Query design (see ``bench/search.py``): Whoosh stores and serves the postings, but matching and ranking
run on them directly. Each term's postings are read block by block into a cached docnum → BM25 score
map (idf × saturated tf × field boost; no length normalization); the matching set is plain set algebra
(exact total, facet counts from per-document column arrays cached per index generation); only the
requested page is ranked (``heapq`` top-N, no full sort), and price/newest sorts read the columns.
"""
from __future__ import annotations

import heapq
import logging
import math
import os
import threading
from collections import Counter, OrderedDict
from operator import itemgetter
from dataclasses import dataclass, field
from datetime import date

from whoosh import index as windex
from whoosh import query as wq
from whoosh import columns
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.writing import CLEAR

from marketplace.core.pagination import Paged
from marketplace.search.analysis import fold_word, has_marks, index_analyzer
from marketplace.search.parsing import ParsedQuery

log = logging.getLogger(__name__)

SCHEMA_VERSION = "7"
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
MAX_RESULTS_WINDOW = 2_000
K1 = 1.2  # BM25 term-frequency saturation (no length normalization: titles are short and alike)
TERM_CACHE_SIZE = 512  # deepest ranked position we score (page * per_page)
COLUMNS = ("pid", "category", "village_id", "ocop", "ocop_until", "price", "published")


def make_schema() -> Schema:
    """Three text fields (exact + folded forms in each), an id, and value columns (not indexed)."""
    analyzer = index_analyzer()
    schema = Schema(
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
    return schema


def price_band(price: int | None) -> str | None:
    if not price:
        return None
    for key, low, high in PRICE_BANDS:
        if price >= low and (high is None or price < high):
            return key
    return None


@dataclass
class SearchResult(Paged):
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


class _Generation:
    """Per-searcher caches: column arrays, vocabulary maps, recent match sets and facet counts."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._arrays: dict[str, list] = {}
        self._exact_forms: dict[str, str] | None = None
        self.matches: OrderedDict = OrderedDict()
        self.facets: OrderedDict = OrderedDict()
        self.terms: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.doc_count = searcher.reader().doc_count_all()

    def term_scores(self, fieldname: str, text: str) -> dict[int, float]:
        """docnum → BM25 contribution of one term (idf × saturated tf × field boost), from the raw postings."""
        key = (fieldname, text)
        scores = self.terms.get(key)
        if scores is not None:
            self.terms.move_to_end(key)
            return scores
        ids, weights = _postings(self.searcher.reader(), fieldname, text)
        df = len(ids)
        idf = math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))
        c = idf * FIELD_BOOSTS[fieldname]
        k1 = K1
        scores = {d: c * w * (k1 + 1.0) / (w + k1) for d, w in zip(ids, weights)}
        self.remember(self.terms, key, scores, size=TERM_CACHE_SIZE)
        return scores

    def derived(self, name: str) -> list:
        """Per-document values computed from the columns: price band, valid OCOP stars (today)."""
        if name == "band":
            key = name
        else:
            key = (name, date.today().toordinal())
        arr = self._arrays.get(key)
        if arr is None:
            if name == "band":
                arr = [price_band(p) for p in self.array("price")]
            else:
                today = key[1]
                arr = [s if s and u >= today else 0 for s, u in zip(self.array("ocop"), self.array("ocop_until"))]
            self._arrays[key] = arr
        return arr

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
    def remember(cache: OrderedDict, key, value, size: int = 256):  # noqa: D401 - small LRU
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
                gen = self._gen = _Generation(ix.searcher())
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
            apply_documents(writer, documents)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def remove(self, ids, timeout: float | None = None) -> None:
        self.index({int(i): None for i in ids}, timeout)

    def rebuild(self, documents, timeout: float = 120.0, progress=None, procs: int = 1) -> int:
        """Replace the whole index with ``documents`` (an iterable of dicts) in one commit."""
        if not self.exists():
            self._ix, self._gen = None, None
            self.create()
        procs = max(1, int(procs or 1))
        options = {"procs": procs, "multisegment": True, "limitmb": 128} if procs > 1 else {"limitmb": 256}
        writer = self.open().writer(timeout=timeout, **options)
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

    def _word_terms(self, gen: _Generation, reader, word: str) -> tuple[list[tuple[dict, float]], set | None]:
        """The word's scoring terms, and (for a word typed with diacritics) the docs matching it exactly."""
        terms = []
        exact: set | None = set() if has_marks(word) else None
        for fieldname in TEXT_FIELDS:
            for form, boost in self._forms(word):
                if (fieldname, form) in reader:
                    scores = gen.term_scores(fieldname, form)
                    terms.append((scores, boost))
                    if exact is not None and form == word:
                        exact.update(scores)
        return terms, exact

    def _phrase_docs(self, gen: _Generation, reader, phrase: list[str]) -> set[int]:
        """Documents with the words in this order (titles keep positions) or, elsewhere, all the words."""
        folded = [fold_word(w) for w in phrase]
        variants = [folded] + ([phrase] if any(has_marks(w) for w in phrase) else [])
        docs: set[int] = set()
        for fieldname in TEXT_FIELDS:
            for words in variants:
                if not all((fieldname, w) in reader for w in words):
                    continue
                if fieldname in PHRASE_FIELDS:
                    docs.update(wq.Phrase(fieldname, words).docs(gen.searcher))
                else:
                    docs.update(set.intersection(*(set(gen.term_scores(fieldname, w)) for w in words)))
        return docs

    def _match(self, gen: _Generation, parsed: ParsedQuery):
        """(scoring terms, docset, fallback) for the parsed text; cached for this index generation."""
        key = (tuple(parsed.words), tuple(tuple(p) for p in parsed.phrases))
        cached = gen.matches.get(key)
        if cached is not None:
            return cached
        reader = gen.searcher.reader()
        units: list[tuple[list, set, set | None]] = []
        for word in parsed.words:
            terms, exact = self._word_terms(gen, reader, word)
            units.append((terms, set().union(*(t for t, _ in terms)) if terms else set(), exact))
        for phrase in parsed.phrases:
            terms = [t for word in phrase for t in self._word_terms(gen, reader, word)[0]]
            units.append((terms, self._phrase_docs(gen, reader, phrase), None))
        fallback = False
        docs: set[int] = set()
        if units and all(u[1] for u in units):
            smallest = min((u[1] for u in units), key=len)
            docs = smallest.intersection(*(u[1] for u in units if u[1] is not smallest))
        live = [u for u in units if u[1]]
        if not docs and len(units) > 1 and live:
            fallback = True
            docs = set().union(*(u[1] for u in live))
        terms = [(u[0], u[2]) for u in live] if docs else []
        result = (terms, docs, fallback)
        gen.remember(gen.matches, key, result)
        return result

    def _filter_docs(self, gen: _Generation, docs, filters: dict) -> set[int]:
        out = docs
        if filters.get("category"):
            arr, want = gen.array("category"), filters["category"]
            out = {d for d in out if arr[d] == want}
        if filters.get("village_id"):
            arr, want = gen.array("village_id"), int(filters["village_id"])
            out = {d for d in out if arr[d] == want}
        if filters.get("ocop"):
            arr, want = gen.derived("ocop_valid"), int(filters["ocop"])
            out = {d for d in out if arr[d] >= want}  # N stars or more, valid today
        if filters.get("price"):
            arr, want = gen.derived("band"), filters["price"]
            out = {d for d in out if arr[d] == want}
        return out if isinstance(out, set) else set(out)

    def _facets(self, gen: _Generation, docs: set[int]) -> dict:
        if not docs:
            return {"category": [], "village": [], "ocop": [], "price": []}
        ocop = Counter(_pick(gen.derived("ocop_valid"), docs))
        bands = Counter(_pick(gen.derived("band"), docs))
        cats = Counter(_pick(gen.array("category"), docs))
        villages = Counter(_pick(gen.array("village_id"), docs))
        ocop.pop(0, None)
        cats.pop("", None)
        villages.pop(0, None)
        return {
            "category": cats.most_common(),
            "village": villages.most_common(),
            # "N stars or more" (cumulative), like the filter
            "ocop": [(n, sum(c for stars, c in ocop.items() if stars >= n)) for n in (5, 4, 3)
                     if any(stars >= n for stars in ocop)],
            "price": [(key, bands[key]) for key in PRICE_BAND_KEYS if bands.get(key)],
        }

    def _all_docs(self, gen: _Generation) -> set[int]:
        key = ("*all*",)
        cached = gen.matches.get(key)
        if cached is None:
            cached = ([], set(gen.searcher.reader().all_doc_ids()), False)
            gen.remember(gen.matches, key, cached)
        return cached[1]

    @staticmethod
    def _rank(final: set[int], units: list[tuple[list, set | None]], k: int) -> list[tuple[int, float]]:
        """Top ``k`` documents of ``final`` (no exhaustive sort). Key: first how many of the words typed
        with diacritics the document has in exactly that spelling, then the summed BM25 term scores."""
        scores = dict.fromkeys(final, 0.0)
        n = len(scores)
        tiers: dict[int, int] = {}
        for terms, exact in units:
            for term, boost in terms:
                if len(term) < n:
                    for d, sc in term.items():
                        if d in scores:
                            scores[d] += sc * boost
                else:
                    get = term.get
                    for d in scores:
                        sc = get(d)
                        if sc:
                            scores[d] += sc * boost
            if exact:
                for d in (exact & final if len(exact) < n else final & exact):
                    tiers[d] = tiers.get(d, 0) + 1
        if tiers:
            tier = tiers.get
            return heapq.nlargest(k, scores.items(), key=lambda item: (tier(item[0], 0), item[1], -item[0]))
        return heapq.nlargest(k, scores.items(), key=_score_key)

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
            terms, docs, fallback = [], self._all_docs(gen), False
            if sort == "relevance":
                sort = "newest"
        else:
            terms, docs, fallback = self._match(gen, parsed)
            result.fallback = fallback
        fkey = (id(docs), tuple(sorted(filters.items())), facets)
        cached = gen.facets.get(fkey)
        if cached is None:
            final = self._filter_docs(gen, docs, filters) if docs else set()
            cached = (final, self._facets(gen, final) if facets else {}, docs)  # docs kept alive: id() stays unique
            gen.remember(gen.facets, fkey, cached, size=128)
        final, result.facets, _ = cached
        result.total = len(final)
        if not parsed.empty and (fallback or result.total < 3):
            result.did_you_mean = self.did_you_mean(gen, parsed)
        start = (page - 1) * per_page
        if not final or start >= min(result.total, MAX_RESULTS_WINDOW):
            return result
        limit = min(start + per_page, MAX_RESULTS_WINDOW)
        pids = gen.array("pid")
        if sort == "relevance" and terms:
            ranked = self._rank(final, terms, limit)[start:limit]
        else:
            if sort in ("price_asc", "price_desc"):
                arr = gen.array("price")
            else:
                arr = gen.array("published")
            pick = heapq.nsmallest if sort == "price_asc" else heapq.nlargest
            ranked = [(d, 0.0) for d in pick(limit, final, key=lambda d: (arr[d], pids[d]))[start:limit]]
        for d, score in ranked:
            result.ids.append(int(pids[d]))
            result.scores.append(float(score))
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
        terms = []
        for term in reader.expand_prefix("title", last):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if fold_word(word) == word:  # folded forms only (each exact form has one)
                terms.append((gen.term_scores("title", word), 1.0))
            if len(terms) >= 40:
                break
        if not terms:
            return []
        docs = set().union(*(t for t, _ in terms))
        for word in prefix_words:
            folded = fold_word(word)
            if ("title", folded) not in reader:
                return []
            scores = gen.term_scores("title", folded)
            terms.append((scores, 1.0))
            docs &= scores.keys()
        pids = gen.array("pid")
        return [int(pids[d]) for d, _ in self._rank(docs, [(terms, None)], limit)]


def _score_key(item):
    return item[1], -item[0]


def _pick(arr: list, docs) -> tuple:
    """The values of ``arr`` at the positions in ``docs`` (C speed)."""
    if len(docs) == 1:
        return (arr[next(iter(docs))],)
    return itemgetter(*docs)(arr)


def _postings(reader, fieldname: str, text: str) -> tuple[list[int], list[float]]:
    """All (docnum, weight) postings of a term, read block by block (deleted documents dropped)."""
    ids: list[int] = []
    weights: list[float] = []
    for segment, offset in reader.leaf_readers():
        if (fieldname, text) not in segment:
            continue
        matcher = segment.postings(fieldname, text)
        deleted = None
        if isinstance(matcher, FilterMatcher):
            deleted, matcher = matcher._ids, matcher.child
        seg_ids: list[int] = []
        seg_weights: list[float] = []
        if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
            while matcher.is_active():
                matcher._read_ids()
                matcher._read_weights()
                seg_ids.extend(matcher._ids)
                seg_weights.extend(matcher._weights)
                matcher._next_block()
        else:  # pragma: no cover - other codecs
            while matcher.is_active():
                seg_ids.append(matcher.id())
                seg_weights.append(matcher.weight())
                matcher.next()
        if deleted is None:
            ids.extend([d + offset for d in seg_ids] if offset else seg_ids)
            weights.extend(seg_weights)
        else:
            keep = [i for i, d in enumerate(seg_ids) if d not in deleted]
            ids.extend(seg_ids[i] + offset for i in keep)
            weights.extend(seg_weights[i] for i in keep)
    return ids, weights


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


def apply_documents(writer, documents: dict[int, dict | None]) -> None:
    """Write each product's document, or delete it where the document is ``None``."""
    for pid, doc in documents.items():
        if doc is None:
            writer.delete_by_term("id", str(pid))
        else:
            writer.update_document(**doc)
