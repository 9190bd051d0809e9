"""The PostgreSQL backend's write side: search documents → ``search_documents`` rows (a folded ``tsvector``)
and the ``search_terms`` vocabulary.

The text is analysed here, in Python, by the same code as the Whoosh index (``analysis.words`` and
``analysis.fold_word``: NFC, ``\\w+`` words, lower case, diacritics stripped and đ → d), so that both
backends see exactly the same words and return the same totals. The ``tsvector`` is written as a literal:
each word at its position with its exact spelling and, when that carries diacritics, its folded form at
the same position; title positions have weight A, village B, body C (so "quoted phrases" are matched on
title positions, ``'a':A <-> 'b':A``, as Whoosh's ``phrase`` field does). PostgreSQL's own parser and
dictionaries are never used (no ``to_tsvector``): they split words differently and stem English.

Every function here takes a SQLAlchemy ``Connection`` and never commits: a save writes its rows in the
transaction of the change itself (``pg_sync``); a rebuild replaces every row in one transaction.
"""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from marketplace.search.analysis import fold_word, words

FIELD_WEIGHTS = (("title", "A"), ("village", "B"), ("body", "C"))
MAX_POSITION = 16383  # PostgreSQL keeps positions up to 2^14 - 1
MAX_POSITIONS = 255  # ... and at most 256 positions per lexeme

_UPSERT = sa.text(
    "INSERT INTO search_documents (product_id, stamp, category, village_id, ocop, ocop_until, price, published, doc) "
    "VALUES (:product_id, :stamp, :category, :village_id, :ocop, :ocop_until, :price, :published, "
    "CAST(:doc AS tsvector)) "
    "ON CONFLICT (product_id) DO UPDATE SET stamp = excluded.stamp, category = excluded.category, "
    "village_id = excluded.village_id, ocop = excluded.ocop, ocop_until = excluded.ocop_until, "
    "price = excluded.price, published = excluded.published, doc = excluded.doc"
)
_DELETE = sa.text("DELETE FROM search_documents WHERE product_id = ANY(CAST(:ids AS integer[]))")
_NEW_TERMS = sa.text(
    "INSERT INTO search_terms (term, folded, df_title, df_village, df_body) "
    "SELECT * FROM unnest(CAST(:terms AS text[]), CAST(:folded AS text[]), CAST(:title AS integer[]), "
    "CAST(:village AS integer[]), CAST(:body AS integer[])) "
    "ON CONFLICT (term) DO NOTHING"
)


def analyse(doc: dict) -> tuple[str, dict[str, set[str]]]:
    """(the ``tsvector`` literal, field → the set of its terms) of one search document."""
    lexemes: dict[str, list[str]] = {}
    per_field: dict[str, set[str]] = {}
    pos = 1
    for fieldname, weight in FIELD_WEIGHTS:
        terms: set[str] = set()
        for word in words(doc.get(fieldname)):
            at = f"{min(pos, MAX_POSITION)}{weight}"
            folded = fold_word(word)
            for form in (word, folded) if folded != word else (word,):
                if not form:
                    continue
                spots = lexemes.get(form)
                if spots is None:
                    lexemes[form] = [at]
                elif len(spots) < MAX_POSITIONS:
                    spots.append(at)
                terms.add(form)
            pos += 1
        pos += 1  # a gap: a phrase never runs from one field into the next
        per_field[fieldname] = terms
    # Words are \w+ only: no quote or backslash to escape inside the quoted lexemes.
    return " ".join(f"'{lex}':{','.join(spots)}" for lex, spots in lexemes.items()), per_field


def row(doc: dict) -> tuple[dict, dict[str, set[str]]]:
    """The ``search_documents`` row of a document (``documents.document_for``), and its terms per field."""
    tsv, per_field = analyse(doc)
    category = doc.get("category") or b""
    return {
        "product_id": int(doc["pid"]),
        "stamp": doc["stamp"],
        "category": category.decode("utf-8") if isinstance(category, bytes) else category,
        "village_id": int(doc.get("village_id") or 0),
        "ocop": int(doc.get("ocop") or 0),
        "ocop_until": int(doc.get("ocop_until") or 0),
        "price": int(doc.get("price") or 0),
        "published": int(doc.get("published") or 0),
        "doc": tsv,
    }, per_field


def _term_rows(counts: dict[str, Counter]) -> dict[str, list]:
    terms = sorted(set().union(*(c.keys() for c in counts.values())))  # sorted: concurrent saves lock in one order
    return {
        "terms": terms,
        "folded": [fold_word(t) for t in terms],
        "title": [counts["title"][t] for t in terms],
        "village": [counts["village"][t] for t in terms],
        "body": [counts["body"][t] for t in terms],
    }


def write(conn: sa.Connection, documents: dict[int, dict | None]) -> None:
    """Upsert the given documents; ``None`` deletes the product's row. New words join ``search_terms``."""
    gone = sorted(pid for pid, doc in documents.items() if doc is None)
    rows = []
    counts = {name: Counter() for name, _w in FIELD_WEIGHTS}
    for pid in sorted(pid for pid, doc in documents.items() if doc is not None):
        values, per_field = row(documents[pid])
        rows.append(values)
        for name, terms in per_field.items():
            counts[name].update(terms)
    if gone:
        conn.execute(_DELETE, {"ids": gone})
    if rows:
        conn.execute(_UPSERT, rows)
        conn.execute(_NEW_TERMS, _term_rows(counts))


COPY_BATCH = 2000
_DOC_COLUMNS = ("product_id", "stamp", "category", "village_id", "ocop", "ocop_until", "price", "published", "doc")


def _copy(raw, table: str, columns, rows) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)


def rebuild(conn: sa.Connection, documents, progress=None) -> int:
    """Replace every row of ``search_documents`` and ``search_terms`` with ``documents`` (COPY in batches,
    one transaction: readers see the old rows until the commit). ``documents`` may be read from the same
    connection: no COPY is open while the next batch is fetched."""
    raw = conn.connection.driver_connection  # psycopg 3: COPY in the same transaction
    counts = {name: Counter() for name, _w in FIELD_WEIGHTS}
    count = 0
    conn.execute(sa.text("DELETE FROM search_documents"))
    conn.execute(sa.text("DELETE FROM search_terms"))
    batch: list[list] = []
    for doc in documents:
        values, per_field = row(doc)
        batch.append([values[c] for c in _DOC_COLUMNS])
        for name, terms in per_field.items():
            counts[name].update(terms)
        count += 1
        if progress is not None:
            progress(1)
        if len(batch) >= COPY_BATCH:
            _copy(raw, "search_documents", _DOC_COLUMNS, batch)
            batch = []
    if batch:
        _copy(raw, "search_documents", _DOC_COLUMNS, batch)
    terms = _term_rows(counts)
    _copy(raw, "search_terms", ("term", "folded", "df_title", "df_village", "df_body"),
          zip(terms["terms"], terms["folded"], terms["title"], terms["village"], terms["body"]))
    # COPY leaves the new GIN entries in the index's pending list; merged now, the planner sees a clean
    # index (it would otherwise price every search as a scan of the whole list and read the table instead).
    conn.execute(sa.text("SELECT gin_clean_pending_list(CAST('ix_search_documents_doc' AS regclass))"))
    conn.execute(sa.text("ANALYZE search_documents"))
    conn.execute(sa.text("ANALYZE search_terms"))
    return count


def stamps(conn: sa.Connection) -> dict[int, str]:
    return {int(pid): stamp for pid, stamp in conn.execute(sa.text("SELECT product_id, stamp FROM search_documents"))}


def doc_count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM search_documents")).scalar() or 0)


__all__ = ["FIELD_WEIGHTS", "analyse", "doc_count", "rebuild", "row", "stamps", "write"]
