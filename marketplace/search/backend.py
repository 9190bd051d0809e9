"""The Whoosh backend: the only module that talks to the search engine.

Interface (what views, the API and the sync hooks use; a PostgreSQL full-text backend can replace it):

* ``search(query, filters, sort, page, per_page) -> SearchResult``
* ``index(documents)`` / ``remove(ids)`` – write documents built by ``documents.py``
* ``rebuild(documents)`` – replace the whole index in one commit

Query design (see ``bench/search.py``): Whoosh stores the postings (its W3 format, written by our own
``RebuildWriter`` for full rebuilds), but matching and ranking run on them directly. Each term's postings
are decoded block by block into NumPy arrays (docnums, BM25 score: idf × saturated tf × field boost; no
length normalization), cached per index generation. Document sets are boolean masks: all-words matching,
filters and the exact total are vectorised, facet counts are ``bincount`` over per-document column arrays
cached per generation, and only the requested page is ranked (a partial selection, no full sort).
"""
from __future__ import annotations

import logging
import math
import os
import threading
from bisect import bisect_left
from collections import Counter, OrderedDict
from itertools import chain, repeat
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from whoosh import index as windex
from whoosh import query as wq
from whoosh import columns
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import COLUMN, ID, STORED, Schema
from whoosh.index import LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.writing import CLEAR, SegmentWriter

from marketplace.core.pagination import Paged
from marketplace.search.analysis import DualText, fold_word, has_marks
from marketplace.search.parsing import ParsedQuery

log = logging.getLogger(__name__)

SCHEMA_VERSION = "8"
TEXT_FIELDS = ("title", "village", "body")  # scored; postings hold docnums and weights only
PHRASE_FIELD = "phrase"  # the title again, with word positions: read only for "quoted phrases"
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
TERM_CACHE_POSTINGS = 4_000_000  # postings kept decoded per process (16 bytes each: ~64 MB)
COLUMNS = ("pid", "category", "village_id", "ocop", "ocop_until", "price", "published")


def make_schema() -> Schema:
    """Three scored text fields (exact + folded forms in each), the title once more with positions for
    phrases, an id, and value columns (not indexed)."""
    schema = Schema(
        id=ID(stored=True, unique=True),
        stamp=STORED(),
        title=DualText(field_boost=FIELD_BOOSTS["title"], phrase=False),
        phrase=DualText(phrase=True),
        village=DualText(field_boost=FIELD_BOOSTS["village"], phrase=False),
        body=DualText(phrase=False),
        pid=COLUMN(columns.NumericColumn("q")),
        category=COLUMN(columns.RefBytesColumn()),
        village_id=COLUMN(columns.NumericColumn("q")),
        ocop=COLUMN(columns.NumericColumn("b")),
        ocop_until=COLUMN(columns.NumericColumn("i")),
        price=COLUMN(columns.NumericColumn("q")),
        published=COLUMN(columns.NumericColumn("q")),
    )
    return schema


BLOCK_LIMIT = 1024  # postings per block (Whoosh's default 128): fewer, larger blocks to read per term
COMPRESSION = 1


def make_codec() -> W3Codec:
    """Whoosh's own W3 format with larger posting blocks and no per-posting field-length statistics
    (only Whoosh's BM25 block-skipping reads them; our scorer has no length normalization). Readers
    take every block's layout from the block itself, so any index stays readable."""
    codec = W3Codec(blocklimit=BLOCK_LIMIT, compression=COMPRESSION)
    codec.length_stats = False
    return codec


class RebuildWriter(SegmentWriter):
    """A writer for a brand-new index (``rebuild``): postings are gathered per term in memory instead of
    Whoosh's sorting pool of (field, term, doc) tuples, and written to the codec block by block. The
    files are the ordinary W3 segment files. Documents may only be added (a rebuild never updates)."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, codec=make_codec(), **kwargs)
        self._terms: dict[tuple[str, bytes], tuple[list, list, list]] = {}

    def add_document(self, **fields):
        self._check_state()
        schema = self.schema
        docnum = self.docnum
        perdoc = self.perdocwriter
        terms = self._terms
        perdoc.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                scorable = field.scorable
                for tbytes, freq, weight, vbytes in field.index(value):
                    if scorable:
                        length += freq
                    entry = terms.get((fieldname, tbytes))
                    if entry is None:
                        entry = terms[(fieldname, tbytes)] = ([], [], [])
                    entry[0].append(docnum)
                    entry[1].append(weight)
                    entry[2].append(vbytes)
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def update_document(self, **fields):
        # Updating would have to look up the pending postings; a rebuild has nothing to update.
        raise TypeError("RebuildWriter only adds documents; use WhooshBackend.index() to update")

    def _flush_segment(self):
        self.perdocwriter.close()
        writer = self.fieldwriter
        current = None
        for key in sorted(self._terms):
            fieldname, btext = key
            if fieldname != current:
                if current is not None:
                    writer.finish_field()
                writer.start_field(fieldname, self.schema[fieldname])
                current = fieldname
            ids, weights, values = self._terms.pop(key)
            writer.start_term(btext)
            _write_postings(writer._postwriter, ids, weights, values)
            writer.finish_term()
        if current is not None:
            writer.finish_field()
        writer.close()


def _write_postings(post, ids: list, weights: list, values: list) -> None:
    """What ``W3PostingsWriter.add_posting`` does one posting at a time, a block at a time: a full block
    is written when more postings follow; the last one is left for ``finish_postings``."""
    limit = post._blocklimit
    for start in range(0, len(ids), limit):
        if start:
            post._write_block()
        end = start + limit
        chunk = weights[start:end]
        post._ids.extend(ids[start:end])
        post._weights.extend(chunk)
        post._values.extend([v for v in values[start:end] if v])
        post._maxweight = max(chunk)


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
    """Per-searcher state: column arrays, the vocabulary map, and LRU caches of term postings, match
    masks and facet counts. Document sets are NumPy boolean masks over the generation's docnums, so
    set algebra, filters, facet counts and BM25 sums run in C whatever the catalog size."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._arrays: dict = {}
        self._exact_forms: dict[str, str] | None = None
        self.matches: OrderedDict = OrderedDict()
        self.facets: OrderedDict = OrderedDict()
        self.terms: OrderedDict = OrderedDict()
        self._term_postings = 0
        reader = searcher.reader()
        self.doc_count = reader.doc_count_all()
        self.size = max(self.doc_count, 1)

    def term(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, BM25 contributions) of one term: idf × saturated tf × field boost, from the raw postings."""
        key = (fieldname, text)
        cached = self.terms.get(key)
        if cached is not None:
            self.terms.move_to_end(key)
            return cached
        ids, weights = _postings(self.searcher.reader(), fieldname, text)
        df = len(ids)
        idf = math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))
        c = idf * FIELD_BOOSTS[fieldname]
        scores = c * weights * (K1 + 1.0) / (weights + K1)
        cached = (ids, scores)
        self.terms[key] = cached
        self._term_postings += df
        while self._term_postings > TERM_CACHE_POSTINGS and len(self.terms) > 1:
            _old, (old_ids, _s) = self.terms.popitem(last=False)
            self._term_postings -= len(old_ids)
        return cached

    def clear(self) -> None:
        """Forget decoded postings, match masks and facet counts (the benchmark's cold queries)."""
        self.matches.clear()
        self.facets.clear()
        self.terms.clear()
        self._term_postings = 0

    def mask(self, ids=None) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        if ids is not None:
            out[ids] = True
        return out

    def live(self) -> np.ndarray:
        """Every document that is not deleted."""
        arr = self._arrays.get("live")
        if arr is None:
            arr = self.mask(np.fromiter(self.searcher.reader().all_doc_ids(), dtype=np.int64))
            self._arrays["live"] = arr
        return arr

    def array(self, name: str) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None:
            values = list(self.searcher.reader().column_reader(name))
            if name == "category":
                values = [v.decode("utf-8") if isinstance(v, bytes) else (v or "") for v in values]
                labels = sorted(set(values))
                self._arrays["category_labels"] = labels
                codes = {label: i for i, label in enumerate(labels)}
                arr = np.fromiter((codes[v] for v in values), dtype=np.int32, count=len(values))
            else:
                arr = np.array(values, dtype=np.int64)
            self._arrays[name] = arr
        return arr

    def category_code(self, label: str) -> int | None:
        self.array("category")
        labels = self._arrays["category_labels"]
        i = bisect_left(labels, label)
        return i if i < len(labels) and labels[i] == label else None

    def derived(self, name: str) -> np.ndarray:
        """Per-document values computed from the columns: price band index (-1: none), OCOP stars valid today."""
        key = name if name == "band" else (name, date.today().toordinal())
        arr = self._arrays.get(key)
        if arr is None:
            if name == "band":
                arr = np.fromiter((_band_index(p) for p in self.array("price").tolist()), dtype=np.int8,
                                  count=self.doc_count)
            else:
                today = key[1]
                stars, until = self.array("ocop"), self.array("ocop_until")
                arr = np.where((stars > 0) & (until >= today), stars, 0)
            self._arrays[key] = arr
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


def _facet_order(item):
    return -item[1], item[0]


def _band_index(price: int) -> int:
    band = price_band(price)
    return PRICE_BAND_KEYS.index(band) if band else -1


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
        except (OSError, ValueError):  # missing, or garbage (not ASCII): no usable index, rebuild it
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
        return self.open().writer(timeout=self.write_timeout if timeout is None else timeout, codec=make_codec())

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

    def rebuild(self, documents, timeout: float = 120.0, progress=None) -> int:
        """Replace the whole index with ``documents`` (an iterable of dicts) in one commit."""
        if not self.exists():
            self._ix, self._gen = None, None
            self.create()
        writer = RebuildWriter(self.open(), timeout=timeout)
        count = 0
        try:
            for doc in documents:
                writer.add_document(**index_fields(doc))
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

    def _word_terms(self, gen: _Generation, reader, word: str) -> tuple[list, np.ndarray | None]:
        """The word's scoring terms [(docnums, scores, boost)], and (for a word typed with diacritics) the
        mask of the documents that have it in exactly that spelling."""
        terms = []
        exact = gen.mask() if has_marks(word) else None
        for fieldname in TEXT_FIELDS:
            for form, boost in self._forms(word):
                if (fieldname, form) in reader:
                    ids, scores = gen.term(fieldname, form)
                    terms.append((ids, scores, boost))
                    if exact is not None and form == word:
                        exact[ids] = True
        return terms, exact

    def _phrase_docs(self, gen: _Generation, reader, phrase: list[str]) -> np.ndarray:
        """Documents with the words in this order (titles keep positions) or, elsewhere, all the words."""
        folded = [fold_word(w) for w in phrase]
        variants = [folded] + ([phrase] if any(has_marks(w) for w in phrase) else [])
        docs = gen.mask()
        for fieldname in (PHRASE_FIELD, "village", "body"):
            for words in variants:
                if not all((fieldname, w) in reader for w in words):
                    continue
                if fieldname == PHRASE_FIELD:
                    found = list(wq.Phrase(fieldname, words).docs(gen.searcher))
                    if found:
                        docs[np.array(found, dtype=np.int64)] = True
                else:
                    both = gen.mask(gen.term(fieldname, words[0])[0])
                    for w in words[1:]:
                        both &= gen.mask(gen.term(fieldname, w)[0])
                    docs |= both
        return docs

    def _match(self, gen: _Generation, parsed: ParsedQuery):
        """(scoring units, docs mask, fallback) for the parsed text; cached for this index generation."""
        key = (tuple(parsed.words), tuple(tuple(p) for p in parsed.phrases))
        cached = gen.matches.get(key)
        if cached is not None:
            return cached
        reader = gen.searcher.reader()
        units: list[tuple[list, np.ndarray, np.ndarray | None]] = []
        for word in parsed.words:
            terms, exact = self._word_terms(gen, reader, word)
            docs = gen.mask()
            for ids, _scores, _boost in terms:
                docs[ids] = True
            units.append((terms, docs, exact))
        for phrase in parsed.phrases:
            terms = [t for word in phrase for t in self._word_terms(gen, reader, word)[0]]
            units.append((terms, self._phrase_docs(gen, reader, phrase), None))
        live = [u for u in units if u[1].any()]
        fallback = False
        docs = None
        if units and len(live) == len(units):
            docs = live[0][1].copy()
            for u in live[1:]:
                docs &= u[1]
        if (docs is None or not docs.any()) and len(units) > 1 and live:
            fallback = True
            docs = live[0][1].copy()
            for u in live[1:]:
                docs |= u[1]
        if docs is None:
            docs = gen.mask()
        terms = [(u[0], u[2]) for u in live] if docs.any() else []
        result = (terms, docs, fallback)
        gen.remember(gen.matches, key, result)
        return result

    def _filter_docs(self, gen: _Generation, docs: np.ndarray, filters: dict) -> np.ndarray:
        out = docs
        if filters.get("category"):
            code = gen.category_code(filters["category"])
            out = out & (gen.array("category") == code) if code is not None else gen.mask()
        if filters.get("village_id"):
            out = out & (gen.array("village_id") == int(filters["village_id"]))
        if filters.get("ocop"):
            out = out & (gen.derived("ocop_valid") >= int(filters["ocop"]))  # N stars or more, valid today
        if filters.get("price"):
            band = filters["price"]
            index = PRICE_BAND_KEYS.index(band) if band in PRICE_BAND_KEYS else -2
            out = out & (gen.derived("band") == index)
        return out

    def _facets(self, gen: _Generation, docs: np.ndarray) -> dict:
        if not docs.any():
            return {"category": [], "village": [], "ocop": [], "price": []}
        codes = gen.array("category")
        labels = gen._arrays["category_labels"]
        cats = np.bincount(codes[docs], minlength=len(labels))
        villages = Counter(gen.array("village_id")[docs].tolist())
        stars = np.bincount(gen.derived("ocop_valid")[docs], minlength=6)
        bands = np.bincount(gen.derived("band")[docs] + 1, minlength=len(PRICE_BANDS) + 1)
        villages.pop(0, None)
        categories = {labels[i]: int(n) for i, n in enumerate(cats.tolist()) if n and labels[i]}
        return {  # most frequent first; ties by key, whatever the documents' order in the index
            "category": sorted(categories.items(), key=_facet_order),
            "village": sorted(villages.items(), key=_facet_order),
            # "N stars or more" (cumulative), like the filter
            "ocop": [(n, int(stars[n:].sum())) for n in (5, 4, 3) if stars[n:].any()],
            "price": [(key, int(bands[i + 1])) for i, key in enumerate(PRICE_BAND_KEYS) if bands[i + 1]],
        }

    def _all_docs(self, gen: _Generation) -> np.ndarray:
        return gen.live()

    @staticmethod
    def _rank(gen: _Generation, final: np.ndarray, units: list[tuple[list, np.ndarray | None]],
              k: int) -> list[tuple[int, float]]:
        """Top ``k`` documents of ``final`` (partial selection, no full sort). Key: first how many of the
        words typed with diacritics the document has in exactly that spelling, then the summed BM25 term
        scores, then the docnum (stable pages)."""
        scores = np.zeros(gen.size, dtype=np.float64)
        tiers = None
        for terms, exact in units:
            for ids, term_scores, boost in terms:
                scores[ids] += term_scores * boost if boost != 1.0 else term_scores
            if exact is not None:
                tiers = exact.astype(np.int16) if tiers is None else tiers + exact
        cand = np.flatnonzero(final)
        out: list[tuple[int, float]] = []
        if tiers is None:
            groups = [cand]
        else:
            level = tiers[cand]
            groups = [cand[level == t] for t in np.unique(level)[::-1]]
        for group in groups:
            need = k - len(out)
            if need <= 0:
                break
            for d in _best(group, -scores[group], need).tolist():
                out.append((d, float(scores[d])))
        return out

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
            final = self._filter_docs(gen, docs, filters)
            total = int(np.count_nonzero(final))
            cached = (final, total, self._facets(gen, final) if facets else {}, docs)  # docs kept: id() unique
            gen.remember(gen.facets, fkey, cached, size=128)
        final, result.total, result.facets, _ = cached
        if not parsed.empty and (fallback or result.total < 3):
            result.did_you_mean = self.did_you_mean(gen, parsed)
        start = (page - 1) * per_page
        if not result.total or start >= min(result.total, MAX_RESULTS_WINDOW):
            return result
        limit = min(start + per_page, MAX_RESULTS_WINDOW)
        pids = gen.array("pid")
        if sort == "relevance" and terms:
            ranked = self._rank(gen, final, terms, limit)[start:limit]
        else:
            cand = np.flatnonzero(final)
            arr = gen.array("price" if sort in ("price_asc", "price_desc") else "published")
            if sort == "price_asc":
                best = _best(cand, arr[cand], limit, pids[cand])
            else:
                best = _best(cand, -arr[cand], limit, -pids[cand])
            ranked = [(d, 0.0) for d in best.tolist()[start:limit]]
        for d, score in ranked:
            result.ids.append(int(pids[d]))
            result.scores.append(score)
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
        return suggestion if docs.any() and not fallback else None

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
                ids, scores = gen.term("title", word)
                terms.append((ids, scores, 1.0))
            if len(terms) >= 40:
                break
        if not terms:
            return []
        docs = gen.mask()
        for ids, _s, _b in terms:
            docs[ids] = True
        for word in prefix_words:
            folded = fold_word(word)
            if ("title", folded) not in reader:
                return []
            ids, scores = gen.term("title", folded)
            terms.append((ids, scores, 1.0))
            docs &= gen.mask(ids)
        pids = gen.array("pid")
        return [int(pids[d]) for d, _ in self._rank(gen, docs, [(terms, None)], limit)]


def _best(cand: np.ndarray, key: np.ndarray, k: int, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` candidates with the smallest ``key`` (then smallest ``tiebreak``, by default the
    candidate itself), in order: a partition picks the few that can be in the top ``k``, only those
    are sorted. Exact: every candidate tied with the k-th is kept until the final sort."""
    tiebreak = cand if tiebreak is None else tiebreak
    if len(cand) > k:
        kth = np.partition(key, k - 1)[k - 1]
        keep = key <= kth
        cand, key, tiebreak = cand[keep], key[keep], tiebreak[keep]
    order = np.lexsort((tiebreak, key))[:k]
    return cand[order]


def _postings(reader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """All postings of a term as (docnums, weights) arrays, read block by block, deleted documents
    dropped. Each block's data is decoded here in C (Whoosh's own reader undoes the delta encoding of
    the ids one at a time in a Python generator)."""
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    for segment, offset in reader.leaf_readers():
        if (fieldname, text) not in segment:
            continue
        matcher = segment.postings(fieldname, text)
        deleted = None
        if isinstance(matcher, FilterMatcher):
            deleted, matcher = matcher._ids, matcher.child
        if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block") and not matcher._byteids:
            id_blocks, weight_blocks = [], []
            while matcher.is_active():
                matcher._read_data()
                raw_ids, raw_weights = matcher._data[0], matcher._data[1]
                id_blocks.append(raw_ids)
                # weights: None (all 1.0), one float (all equal), or one per posting
                weight_blocks.append(raw_weights if isinstance(raw_weights, tuple)
                                     else repeat(1.0 if raw_weights is None else raw_weights, len(raw_ids)))
                matcher._next_block()
            # each block's ids are deltas from 0: one cumulative sum per block, done on the flat array
            lengths = [len(b) for b in id_blocks]
            flat = np.fromiter(chain.from_iterable(id_blocks), dtype=np.int64, count=sum(lengths))
            ids = np.cumsum(flat)
            if len(lengths) > 1:
                ends = np.cumsum(lengths)[:-1]
                ids -= np.repeat(np.concatenate(([0], ids[ends - 1])), lengths)
            weights = np.fromiter(chain.from_iterable(weight_blocks), dtype=np.float64, count=len(ids))
        else:  # inlined postings (and other codecs)
            seg_ids: list[int] = []
            seg_weights: list[float] = []
            while matcher.is_active():
                seg_ids.append(matcher.id())
                seg_weights.append(matcher.weight())
                matcher.next()
            ids = np.array(seg_ids, dtype=np.int64)
            weights = np.array(seg_weights, dtype=np.float64)
        if deleted:
            keep = ~np.isin(ids, np.fromiter(deleted, dtype=np.int64, count=len(deleted)))
            ids, weights = ids[keep], weights[keep]
        id_parts.append(ids + offset if offset else ids)
        weight_parts.append(weights)
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if len(id_parts) == 1:
        return id_parts[0], weight_parts[0]
    return np.concatenate(id_parts), np.concatenate(weight_parts)


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


def index_fields(doc: dict) -> dict:
    """A document as the schema takes it: the title is indexed twice (scored, and with positions)."""
    return {**doc, PHRASE_FIELD: doc.get("title")}


def apply_documents(writer, documents: dict[int, dict | None]) -> None:
    """Write each product's document, or delete it where the document is ``None``."""
    for pid, doc in documents.items():
        if doc is None:
            writer.delete_by_term("id", str(pid))
        else:
            writer.update_document(**index_fields(doc))
