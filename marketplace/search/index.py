"""The index write side: the schema, the codec, the rebuild writer and how documents are written.

The index is a cache of the database (``documents.py`` builds the documents). Fields: ``title``,
``village`` and ``body`` are scored (each word in its exact and its folded form, see ``analysis.DualText``;
postings keep only docnum and weight = frequency × field boost); ``phrase`` is the title again with
positions, read only for "quoted phrases"; value columns (not indexed) feed filters, facets and sorts.
A schema change bumps ``SCHEMA_VERSION``; an index folder of another version counts as missing.

Full rebuilds use ``RebuildWriter`` (postings gathered per term in memory, written block by block in
Whoosh's ordinary W3 format); saves after a commit use Whoosh's normal writer with the same codec
settings (``make_codec``).
"""
from __future__ import annotations

import os

from whoosh import columns
from whoosh import index as windex
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import COLUMN, ID, STORED, Schema
from whoosh.index import LockError
from whoosh.writing import CLEAR, SegmentWriter

from marketplace.search.analysis import DualText

SCHEMA_VERSION = "8"
TEXT_FIELDS = ("title", "village", "body")  # scored; postings hold docnums and weights only
PHRASE_FIELD = "phrase"  # the title again, with word positions: read only for "quoted phrases"
FIELD_BOOSTS = {"title": 3.0, "village": 2.0, "body": 1.0}
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


# --- the index folder --------------------------------------------------------------------------------

def _version_file(path: str) -> str:
    return os.path.join(path, "SCHEMA_VERSION")


def folder_exists(path: str) -> bool:
    """An index of this ``SCHEMA_VERSION`` is in ``path``."""
    try:
        with open(_version_file(path), encoding="ascii") as fh:
            version = fh.read().strip()
    except (OSError, ValueError):  # missing, or garbage (not ASCII): no usable index, rebuild it
        return False
    return version == SCHEMA_VERSION and windex.exists_in(path)


def create_folder(path: str):
    """A new, empty index in ``path`` (replacing whatever index was there)."""
    os.makedirs(path, exist_ok=True)
    ix = windex.create_in(path, make_schema())
    with open(_version_file(path), "w", encoding="ascii") as fh:
        fh.write(SCHEMA_VERSION)
    return ix


def open_folder(path: str):
    return windex.open_dir(path) if folder_exists(path) else create_folder(path)


def open_writer(ix, timeout: float):
    """Whoosh's normal writer with our codec, or ``LockError`` once ``timeout`` seconds pass while
    another process writes."""
    return ix.writer(timeout=timeout, codec=make_codec())


def write_documents(writer, documents: dict[int, dict | None]) -> None:
    """Apply ``documents`` with ``writer`` and commit; nothing is written if anything fails."""
    try:
        apply_documents(writer, documents)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def rebuild_index(ix, documents, timeout: float, progress=None) -> int:
    """Replace every document of ``ix`` with ``documents`` (an iterable of dicts) in one commit."""
    writer = RebuildWriter(ix, timeout=timeout)
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


__all__ = [
    "COLUMNS",
    "FIELD_BOOSTS",
    "PHRASE_FIELD",
    "SCHEMA_VERSION",
    "TEXT_FIELDS",
    "LockError",
    "RebuildWriter",
    "apply_documents",
    "create_folder",
    "folder_exists",
    "index_fields",
    "make_codec",
    "make_schema",
    "open_folder",
    "open_writer",
    "rebuild_index",
    "write_documents",
]
