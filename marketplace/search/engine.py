"""The read engine: matching, ranking and facets over the index's raw postings.

Whoosh stores the postings; matching and ranking run on them directly. Each term's postings are decoded
block by block into NumPy arrays (docnums, BM25 score: idf × saturated tf × field boost; no length
normalization), cached per index generation. Document sets are boolean masks over docnums: all-words
matching, filters and the exact total are vectorised, facet counts are ``bincount`` over per-document
column arrays cached per generation, and only the requested page is ranked (a partial selection, no
full sort). Results are deterministic: score ties go to the lower docnum, facet ties to the lower key.
See ``bench/search.py``.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, OrderedDict
from datetime import date
from itertools import chain, repeat

import numpy as np
from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher

from marketplace.search.analysis import fold_word, has_marks
from marketplace.search.index import FIELD_BOOSTS, PHRASE_FIELD, TEXT_FIELDS
from marketplace.search.parsing import ParsedQuery, parse_query
from marketplace.search.vocabulary import (
    MAX_RESULTS_WINDOW,
    PRICE_BAND_KEYS,
    PRICE_BANDS,
    SORTS,
    SearchResult,
    price_band,
)

EXACT_BOOST = 1.6  # a diacritic-exact match counts this much more than a folded-only one
K1 = 1.2  # BM25 term-frequency saturation (no length normalization: titles are short and alike)
TERM_CACHE_POSTINGS = 4_000_000  # postings kept decoded per process (16 bytes each: ~64 MB)


class Generation:
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
            reader = self.searcher.reader()
            if reader.has_column(name):
                values = list(reader.column_reader(name))
            else:  # a new index without any segment yet has no columns: one empty placeholder document
                values = [b"" if name == "category" else 0] * self.size
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
    def remember(cache: OrderedDict, key, value, size: int = 256):
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


def _facet_order(item):
    return -item[1], item[0]


def _band_index(price: int) -> int:
    band = price_band(price)
    return PRICE_BAND_KEYS.index(band) if band else -1


# --- matching and ranking -----------------------------------------------------------------------------

def _forms(word: str) -> list[tuple[str, float]]:
    folded = fold_word(word)
    if has_marks(word):
        return [(word, EXACT_BOOST), (folded, 1.0)]
    return [(word, 1.0)]


def _word_terms(gen: Generation, reader, word: str) -> tuple[list, np.ndarray | None]:
    """The word's scoring terms [(docnums, scores, boost)], and (for a word typed with diacritics) the
    mask of the documents that have it in exactly that spelling."""
    terms = []
    exact = gen.mask() if has_marks(word) else None
    for fieldname in TEXT_FIELDS:
        for form, boost in _forms(word):
            if (fieldname, form) in reader:
                ids, scores = gen.term(fieldname, form)
                terms.append((ids, scores, boost))
                if exact is not None and form == word:
                    exact[ids] = True
    return terms, exact


def _phrase_docs(gen: Generation, reader, phrase: list[str]) -> np.ndarray:
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


def _match(gen: Generation, parsed: ParsedQuery):
    """(scoring units, docs mask, fallback) for the parsed text; cached for this index generation."""
    key = (tuple(parsed.words), tuple(tuple(p) for p in parsed.phrases))
    cached = gen.matches.get(key)
    if cached is not None:
        return cached
    reader = gen.searcher.reader()
    units: list[tuple[list, np.ndarray, np.ndarray | None]] = []
    for word in parsed.words:
        terms, exact = _word_terms(gen, reader, word)
        docs = gen.mask()
        for ids, _scores, _boost in terms:
            docs[ids] = True
        units.append((terms, docs, exact))
    for phrase in parsed.phrases:
        terms = [t for word in phrase for t in _word_terms(gen, reader, word)[0]]
        units.append((terms, _phrase_docs(gen, reader, phrase), None))
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


def _filter_docs(gen: Generation, docs: np.ndarray, filters: dict) -> np.ndarray:
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


def _facets(gen: Generation, docs: np.ndarray) -> dict:
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


def _rank(gen: Generation, final: np.ndarray, units: list[tuple[list, np.ndarray | None]],
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


def search(gen: Generation, parsed: ParsedQuery, filters: dict | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 24, facets: bool = True) -> SearchResult:
    """One page of results for ``parsed`` with the exact total and (unless ``facets=False``) facet counts."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    sort = sort if sort in SORTS else "relevance"
    page = max(1, int(page))
    result = SearchResult(page=page, per_page=per_page, query=parsed.text, empty_query=parsed.empty)
    if parsed.empty:
        if parsed.had_input:
            return result  # only symbols or stop words: nothing to look for
        terms, docs, fallback = [], gen.live(), False
        if sort == "relevance":
            sort = "newest"
    else:
        terms, docs, fallback = _match(gen, parsed)
        result.fallback = fallback
    fkey = (id(docs), tuple(sorted(filters.items())), facets)
    cached = gen.facets.get(fkey)
    if cached is None:
        final = _filter_docs(gen, docs, filters)
        total = int(np.count_nonzero(final))
        cached = (final, total, _facets(gen, final) if facets else {}, docs)  # docs kept: id() unique
        gen.remember(gen.facets, fkey, cached, size=128)
    final, result.total, result.facets, _ = cached
    if not parsed.empty and (fallback or result.total < 3):
        result.did_you_mean = did_you_mean(gen, parsed)
    start = (page - 1) * per_page
    if not result.total or start >= min(result.total, MAX_RESULTS_WINDOW):
        return result
    limit = min(start + per_page, MAX_RESULTS_WINDOW)
    pids = gen.array("pid")
    if sort == "relevance" and terms:
        ranked = _rank(gen, final, terms, limit)[start:limit]
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


# --- did you mean / suggestions -----------------------------------------------------------------------

def did_you_mean(gen: Generation, parsed: ParsedQuery) -> str | None:
    """The query with each unknown word replaced by the closest indexed one, if that finds every word."""
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
    _query, docs, fallback = _match(gen, parse_query(suggestion))
    return suggestion if docs.any() and not fallback else None


def suggest_ids(gen: Generation, prefix_words: list[str], last: str, limit: int = 6) -> list[int]:
    """Product ids whose title has every earlier word and a word starting with ``last`` (folded)."""
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
    return [int(pids[d]) for d, _ in _rank(gen, docs, [(terms, None)], limit)]


# --- NumPy helpers -------------------------------------------------------------------------------------

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


__all__ = ["Generation", "did_you_mean", "search", "suggest_ids"]
