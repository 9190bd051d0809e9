"""The PostgreSQL backend's read side: the same matching, filters, facets, sorts and "did you mean" as the
Whoosh engine (``engine.py``), in SQL over ``search_documents`` (GIN index on the folded ``tsvector``) and
``search_terms`` (``pg_trgm``).

Matching is Whoosh's: a word matches a document that has its folded form in the title, village or body
(every exact form is written with its folded form at the same position, so this is "exact or folded");
every word must match, else (several words, no product with all of them) any word does and ``fallback``
is set. A "quoted phrase" matches the words in order in the title (``'a':A <-> 'b':A``) or all of them in
the village or in the body. Totals and facet counts are exact (``count(*)`` over the matching rows, one
``GROUPING SETS`` pass), computed in the same statement as the page.

Ranking: first how many of the words typed with diacritics the product has in exactly that spelling (the
exact tier), then Whoosh's score (idf × field boost × exact boost × saturated term frequency, see
``BM25``), then the lower product id. The score is computed exactly for the best ``RERANK`` (60, or the
depth of the page asked for) matches of each tier order by ``ts_rank`` over every form of every word
with field weights title > village > body; those are the candidates (so past 60 matches the set that
is re-scored comes from the cheaper ranking). Price and date sorts break ties by product id as Whoosh does by docnum.
"""
from __future__ import annotations

import math
from datetime import date

import sqlalchemy as sa

from marketplace.search.analysis import fold_word, has_marks
from marketplace.search.engine import EXACT_BOOST, K1, _distance
from marketplace.search.index import FIELD_BOOSTS
from marketplace.search.parsing import ParsedQuery, parse_query
from marketplace.search.vocabulary import MAX_RESULTS_WINDOW, PRICE_BAND_KEYS, PRICE_BANDS, SORTS, SearchResult

# ts_rank's weights, in its order {D, C, B, A} (at most 1.0): body, village, title as FIELD_BOOSTS 1 : 2 : 3
RANK_WEIGHTS = "{{0, {:.4f}, {:.4f}, 1.0}}".format(FIELD_BOOSTS["body"] / FIELD_BOOSTS["title"],
                                         FIELD_BOOSTS["village"] / FIELD_BOOSTS["title"])
STARS = "(CASE WHEN ocop > 0 AND ocop_until >= :today THEN ocop ELSE 0 END)"
BAND = "(CASE " + " ".join(
    f"WHEN price >= {low} " + (f"AND price < {high} " if high is not None else "") + f"THEN {i}"
    for i, (_key, low, high) in enumerate(PRICE_BANDS)
) + " ELSE -1 END)"
TRIGRAM_THRESHOLD = 0.2  # pg_trgm similarity for "did you mean" candidates (then checked by edit distance)


def _lexeme(word: str) -> str:
    return f"'{word}'"  # words are \w+ only: nothing to escape


def word_query(word: str) -> str | None:
    """The tsquery of one typed word: its folded form anywhere (the exact form implies the folded one)."""
    folded = fold_word(word)
    return _lexeme(folded) if folded else None


def phrase_query(phrase: list[str]) -> str | None:
    folded = [fold_word(w) for w in phrase]
    if not all(folded):
        return None
    in_title = " <-> ".join(f"{_lexeme(w)}:A" for w in folded)
    in_village = " & ".join(f"{_lexeme(w)}:B" for w in folded)
    in_body = " & ".join(f"{_lexeme(w)}:C" for w in folded)
    return f"(({in_title}) | ({in_village}) | ({in_body}))"


def units(parsed: ParsedQuery) -> list[str | None]:
    """One tsquery per word and per phrase (``None``: can match nothing)."""
    return [word_query(w) for w in parsed.words] + [phrase_query(p) for p in parsed.phrases]


def rank_query(parsed: ParsedQuery) -> str:
    """Every exact and folded form of every word (phrases included), OR-ed: what ``ts_rank`` scores."""
    forms: list[str] = []
    for word in parsed.terms:
        for form in (word, fold_word(word)):
            if form and form not in forms:
                forms.append(form)
    return " | ".join(_lexeme(f) for f in forms)


def _filters(filters: dict, params: dict) -> list[str]:
    out = []
    if filters.get("category"):
        out.append("category = :f_category")
        params["f_category"] = filters["category"]
    if filters.get("village_id"):
        out.append("village_id = :f_village")
        params["f_village"] = int(filters["village_id"])
    if filters.get("ocop"):
        out.append(f"{STARS} >= :f_ocop")  # N stars or more, valid today
        params["f_ocop"] = int(filters["ocop"])
    if filters.get("price"):
        band = filters["price"]
        out.append(f"{BAND} = :f_band")
        params["f_band"] = PRICE_BAND_KEYS.index(band) if band in PRICE_BAND_KEYS else -2
    return out


def _vocabulary(conn, parsed: ParsedQuery) -> tuple[dict[str, tuple[int, int, int]], int]:
    """(form → its document frequencies in title, village, body; the number of documents) for every exact
    and folded form of the query's words, from ``search_terms`` (one statement)."""
    forms = sorted({f for w in parsed.terms for f in (w, fold_word(w)) if f})
    rows = conn.execute(sa.text(
        "SELECT term, df_title, df_village, df_body, "
        "(SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass('search_documents')) "
        "FROM search_terms WHERE term = ANY(CAST(:f AS text[]))"), {"f": forms}).all()
    total = rows[0][4] if rows else 0
    if not total:
        total = conn.execute(sa.text("SELECT count(*) FROM search_documents")).scalar() or 0
    return {r[0]: (r[1], r[2], r[3]) for r in rows}, int(total)


def _count(conn, tsquery: str) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM search_documents WHERE doc @@ CAST(:q AS tsquery)"),
                            {"q": tsquery}).scalar() or 0)


def match(conn, parsed: ParsedQuery, known=None) -> tuple[str | None, bool]:
    """(the tsquery of the matching documents or ``None`` for none, fallback) — Whoosh's all-words rule
    with its any-word fallback (for "did you mean"; ``search`` applies the same rule on its own counts)."""
    parts = units(parsed)
    if not parts:
        return None, False
    if all(parts):
        every = " & ".join(parts)
        if len(parts) == 1 or _count(conn, every):
            return every, False
    if len(parts) == 1:
        return None, False
    live = _live(parts, parsed, known if known is not None else _vocabulary(conn, parsed)[0])
    return (" | ".join(live), True) if live else (None, False)


def _live(parts: list[str | None], parsed: ParsedQuery, known) -> list[str]:
    """The units some document may match: each of their words is in the vocabulary. (A word the
    vocabulary still lists but no document has any more only adds nothing to an any-word query.)"""
    groups = [[w] for w in parsed.words] + list(parsed.phrases)
    return [p for p, group in zip(parts, groups) if p and all(fold_word(w) in known for w in group)]


def search(conn, parsed: ParsedQuery, filters: dict | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 24, facets: bool = True) -> SearchResult:
    """One page of results for ``parsed`` with the exact total and (unless ``facets=False``) facet counts."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    sort = sort if sort in SORTS else "relevance"
    page = max(1, int(page))
    result = SearchResult(page=page, per_page=per_page, query=parsed.text, empty_query=parsed.empty)
    if parsed.empty:
        if parsed.had_input:
            return result  # only symbols or stop words: nothing to look for
        if sort == "relevance":
            sort = "newest"
    else:
        vocab = _vocabulary(conn, parsed)
        parts = units(parsed)
        outcome = None
        if all(parts):
            every = " & ".join(parts)
            outcome = _page(conn, parsed, every, vocab, filters, sort, page, per_page, facets)
            if outcome.total or len(parts) == 1 or (filters and _count(conn, every)):
                return _finish(conn, parsed, result, outcome, False, facets)
        if len(parts) > 1:
            live = _live(parts, parsed, vocab[0])
            if live:
                anyword = " | ".join(live)
                outcome = _page(conn, parsed, anyword, vocab, filters, sort, page, per_page, facets)
                fallback = bool(outcome.total) or (bool(filters) and bool(_count(conn, anyword)))
                return _finish(conn, parsed, result, outcome, fallback, facets)
        return _finish(conn, parsed, result, outcome or _Page(), False, facets)
    everything = _page(conn, parsed, None, None, filters, sort, page, per_page, facets)
    return _finish(conn, parsed, result, everything, False, facets)


class _Page:
    """What one statement found: the exact total, the facet counts and the page's (id, score) rows."""

    def __init__(self, total: int = 0, facets: dict | None = None, hits: list | None = None):
        self.total = total
        self.facets = facets if facets is not None else {"category": [], "village": [], "ocop": [], "price": []}
        self.hits = hits or []


def _finish(conn, parsed: ParsedQuery, result: SearchResult, outcome: _Page, fallback: bool,
            facets: bool) -> SearchResult:
    result.total, result.facets, result.fallback = outcome.total, outcome.facets, fallback
    if not facets:
        result.facets = {}
    for pid, score in outcome.hits:
        result.ids.append(int(pid))
        result.scores.append(float(score))
    if not parsed.empty and (result.fallback or result.total < 3):
        result.did_you_mean = did_you_mean(conn, parsed)
    return result


def _page(conn, parsed: ParsedQuery, tsquery: str | None, vocab, filters: dict, sort: str, page: int,
          per_page: int, facets: bool) -> _Page:
    """One statement: the matching rows (``tsquery``; ``None``: every document) under the filters, their
    exact total, facet counts (one GROUPING SETS pass) and the asked-for page in ``sort`` order."""
    params: dict = {"today": date.today().toordinal()}
    where = _filters(filters, params)
    ranked = tsquery is not None and sort == "relevance"
    if tsquery is not None:
        where.insert(0, "doc @@ CAST(:q AS tsquery)")
        params["q"] = tsquery
    columns = ["product_id", "category", "village_id", f"{STARS} AS stars", f"{BAND} AS band", "price", "published"]
    start = (page - 1) * per_page
    limit = min(start + per_page, MAX_RESULTS_WINDOW) - start
    if ranked:
        params["rq"] = rank_query(parsed)
        columns.append(f"ts_rank('{RANK_WEIGHTS}', doc, CAST(:rq AS tsquery)) AS approx")
        exact = []
        for i, word in enumerate(w for w in parsed.words if has_marks(w)):
            params[f"e{i}"] = _lexeme(word)
            exact.append(f"(doc @@ CAST(:e{i} AS tsquery))::int")
        columns.append(f"({' + '.join(exact)}) AS tier" if exact else "0 AS tier")
        params.update(_bm25_params(parsed, *vocab))
        params["rerank"] = max(RERANK, start + limit)
        page_sql = (
            "SELECT 1, 0, '', r.product_id, 0, 0, 0, r.score FROM ("
            f"SELECT t.product_id, t.tier, {BM25} AS score FROM ("
            "SELECT product_id, tier FROM m ORDER BY tier DESC, approx DESC, product_id LIMIT :rerank) t "
            "JOIN search_documents d ON d.product_id = t.product_id) r "
            f"ORDER BY r.tier DESC, r.score DESC, r.product_id LIMIT {int(limit)} OFFSET {int(start)}"
        )
    else:
        order = {"price_asc": "price, product_id", "price_desc": "price DESC, product_id DESC"}.get(
            sort, "published DESC, product_id DESC")
        page_sql = (f"SELECT 1, 0, '', product_id, 0, 0, 0, 0.0::float8 FROM m "
                    f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(start)}")
    groups = "(category), (village_id), (stars), (band), ()" if facets else "()"
    sql = (
        f"WITH m AS MATERIALIZED (SELECT {', '.join(columns)} FROM search_documents"
        + (f" WHERE {' AND '.join(where)}" if where else "") + ") "
        "SELECT 0 AS part, GROUPING(category, village_id, stars, band) AS g, category, village_id, stars, band, "
        f"count(*) AS n, 0.0::float8 AS score FROM m GROUP BY GROUPING SETS ({groups})"
    )
    if limit > 0:
        sql += f" UNION ALL ({page_sql})"
    categories, villages, stars, bands = {}, {}, [0] * 6, [0] * len(PRICE_BANDS)
    hits = []
    out = _Page()
    for part, g, category, village_id, star, band, n, score in conn.execute(sa.text(sql), params):
        if part == 1:
            hits.append((village_id, score))  # the page rows carry the product id in this column
        elif g == 0b1111:
            out.total = int(n)
        elif g == 0b0111:
            if category:
                categories[category] = int(n)
        elif g == 0b1011:
            if village_id:
                villages[village_id] = int(n)
        elif g == 0b1101:
            stars[star] = int(n)
        elif g == 0b1110 and band >= 0:
            bands[band] = int(n)
    out.hits = hits
    if facets and out.total:
        out.facets = {
            "category": sorted(categories.items(), key=_facet_order),
            "village": sorted(villages.items(), key=_facet_order),
            "ocop": [(n, sum(stars[n:])) for n in (5, 4, 3) if sum(stars[n:])],
            "price": [(key, bands[i]) for i, key in enumerate(PRICE_BAND_KEYS) if bands[i]],
        }
    elif not facets:
        out.facets = {}
    return out


# Whoosh's score (engine.py), computed exactly for the best ``RERANK`` candidates of the cheaper ts_rank
# order: per word, field and form, idf × field boost × exact boost × w(k1 + 1)/(w + k1) with w = term
# frequency × field boost, the term frequency counted from the tsvector's positions of that field's weight. idf comes from the document
# frequencies in ``search_terms`` (as of the last rebuild; a word first seen later counts its first document).
RERANK = 60
BM25 = (
    "COALESCE((SELECT sum(q.coef * c.tf * q.boost * (:k1 + 1.0) / (c.tf * q.boost + :k1)) FROM ("
    "SELECT u.lexeme, w.weight, count(*) AS tf FROM unnest(d.doc) u, unnest(u.weights) AS w(weight) "
    "WHERE u.lexeme = ANY(CAST(:b_lex AS text[])) GROUP BY 1, 2) c "
    "JOIN unnest(CAST(:q_lex AS text[]), CAST(:q_weight AS text[]), CAST(:q_coef AS float8[]), "
    "CAST(:q_boost AS float8[])) AS q(lex, weight, coef, boost) ON q.lex = c.lexeme AND q.weight = c.weight), 0.0)"
)
_FIELD_OF_WEIGHT = {"A": "title", "B": "village", "C": "body"}


def _bm25_params(parsed: ParsedQuery, df: dict, total: int) -> dict:
    """The per-(form, field) coefficients of the query's terms: idf × field boost × form boost, summed over
    the units (a word typed twice, once in a phrase, counts twice as in Whoosh)."""
    multiplier: dict[str, float] = {}
    for word in list(parsed.words) + [w for p in parsed.phrases for w in p]:
        for form, boost in _forms(word):
            multiplier[form] = multiplier.get(form, 0.0) + boost
    lex, weight, coef, boosts = [], [], [], []
    for form, mult in multiplier.items():
        for i, letter in enumerate("ABC"):
            n = max(df.get(form, (1, 1, 1))[i], 1)
            idf = math.log(1.0 + (total - n + 0.5) / (n + 0.5))
            lex.append(form)
            weight.append(letter)
            boost = FIELD_BOOSTS[_FIELD_OF_WEIGHT[letter]]
            coef.append(idf * boost * mult)
            boosts.append(boost)  # Whoosh's posting weight is frequency × field boost
    return {"b_lex": list(multiplier), "q_lex": lex, "q_weight": weight, "q_coef": coef, "q_boost": boosts,
            "k1": K1}


def _forms(word: str) -> list[tuple[str, float]]:
    folded = fold_word(word)
    if has_marks(word):
        return [(word, EXACT_BOOST), (folded, 1.0)]
    return [(word, 1.0)]


def _facet_order(item):
    return -item[1], item[0]


# --- did you mean / suggestions -----------------------------------------------------------------------

def _exact_forms(conn, folded_words: list[str]) -> dict[str, str]:
    """folded word → its most frequent spelling with diacritics in titles and village names."""
    if not folded_words:
        return {}
    rows = conn.execute(sa.text(
        "SELECT DISTINCT ON (folded) folded, term FROM search_terms "
        "WHERE folded = ANY(CAST(:f AS text[])) AND term <> folded AND greatest(df_title, df_village) > 0 "
        "ORDER BY folded, greatest(df_title, df_village) DESC, term"), {"f": folded_words})
    return dict(rows.all())


def _candidates(conn, folded: str) -> str | None:
    """The closest indexed (folded) word: same first letter, edit distance ≤ 1 (≤ 2 past four letters),
    the most frequent one among the closest (as the Whoosh engine chooses)."""
    rows = conn.execute(sa.text(
        "SELECT term, df_title, df_village, df_body FROM search_terms "
        "WHERE term % :w AND term = folded AND left(term, 1) = left(:w, 1) AND term <> :w"), {"w": folded})
    limit = 2 if len(folded) > 4 else 1
    best = None
    for term, df_title, df_village, df_body in rows:
        dist = _distance(folded, term)
        if dist > limit:
            continue
        weight = max(df_title * FIELD_BOOSTS["title"], df_village * FIELD_BOOSTS["village"],
                     df_body * FIELD_BOOSTS["body"])
        rank = (dist, -weight, term)
        if best is None or rank < best[0]:
            best = (rank, term)
    return best[1] if best else None


def did_you_mean(conn, parsed: ParsedQuery) -> str | None:
    """The query with each unknown word replaced by the closest indexed one, if that finds every word."""
    words = list(parsed.words) + [w for p in parsed.phrases for w in p]
    folded = [fold_word(w) for w in words]
    known = set(conn.execute(sa.text("SELECT term FROM search_terms WHERE term = ANY(CAST(:f AS text[]))"),
                             {"f": [f for f in folded if f]}).scalars())
    conn.execute(sa.text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                 {"t": str(TRIGRAM_THRESHOLD)})
    replaced: dict[int, str] = {}
    for i, f in enumerate(folded):
        if f and f not in known:
            cand = _candidates(conn, f)
            if cand is not None:
                replaced[i] = cand
    if not replaced:
        return None
    lookup = [replaced.get(i, f) for i, (w, f) in enumerate(zip(words, folded)) if i in replaced or not has_marks(w)]
    forms = _exact_forms(conn, lookup)
    out = []
    for i, (word, f) in enumerate(zip(words, folded)):
        if i in replaced:
            out.append(forms.get(replaced[i], replaced[i]))
        elif f in known:
            out.append(word if has_marks(word) else forms.get(f, word))
        else:
            out.append(word)
    suggestion = " ".join(out)
    tsquery, fallback = match(conn, parse_query(suggestion))
    return suggestion if tsquery is not None and not fallback else None


def suggest_ids(conn, prefix_words: list[str], last: str, limit: int = 6) -> list[int]:
    """Product ids whose title has every earlier word and a word starting with ``last`` (folded)."""
    last = fold_word(last)
    if len(last) < 2:
        return []
    earlier = [fold_word(w) for w in prefix_words]
    if not all(earlier):
        return []
    match_q = " & ".join([f"{_lexeme(last)}:*A"] + [f"{_lexeme(w)}:A" for w in earlier])
    rank_q = " | ".join([f"{_lexeme(last)}:*A"] + [f"{_lexeme(w)}:A" for w in earlier])
    rows = conn.execute(sa.text(
        "SELECT product_id FROM search_documents WHERE doc @@ CAST(:q AS tsquery) "
        "ORDER BY ts_rank('{0, 0, 0, 1}', doc, CAST(:r AS tsquery)) DESC, product_id LIMIT :limit"),
        {"q": match_q, "r": rank_q, "limit": int(limit)})
    return [int(pid) for pid in rows.scalars()]


__all__ = ["did_you_mean", "match", "search", "suggest_ids"]
