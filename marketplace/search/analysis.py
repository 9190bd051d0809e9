"""Text analysis shared by indexing and querying.

Every piece of text is normalized to NFC first (decomposed input from some keyboards and macOS must
behave exactly like composed input), split into word tokens and lower-cased. At index time each
token is written in its exact form *and*, when it carries diacritics, in its folded form at the same
position ("lụa" → "lụa" + "lua"). A query typed with diacritics can then prefer exact matches
(silk "lụa" above rice "lúa"), and a query typed without them still finds everything. One field per
kind of text instead of an exact and a folded copy keeps the index lean. No English stemming.
"""
from __future__ import annotations

import re
import unicodedata

from whoosh import formats
from whoosh.analysis import Filter, LowercaseFilter, Tokenizer
from whoosh.analysis.acore import Token
from whoosh.fields import TEXT

# Letters and digits (after NFC, Vietnamese letters are single code points matched by \w).
WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_TOKEN_LENGTH = 40

_fold_cache: dict[str, str] = {}


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def _fold_uncached(word: str) -> str:
    word = word.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold_word(word: str) -> str:
    """Fold one lower-cased NFC word: strip diacritics, đ → d (memoized: the vocabulary is small)."""
    folded = _fold_cache.get(word)
    if folded is None:
        folded = _fold_uncached(word)
        if len(_fold_cache) < 500_000:
            _fold_cache[word] = folded
    return folded


def fold_text(text: str) -> str:
    return " ".join(fold_word(w) for w in words(text))


def has_marks(word: str) -> bool:
    return fold_word(word) != word


def words(text: str | None) -> list[str]:
    """NFC, lower-case word tokens (underscores dropped, over-long tokens cut)."""
    lowered = nfc(text).lower()
    found = WORD_RE.findall(lowered)
    if "_" in lowered:
        found = [w for w in (w.replace("_", "") for w in found) if w]
    return [w if len(w) <= MAX_TOKEN_LENGTH else w[:MAX_TOKEN_LENGTH] for w in found]


class NfcTokenizer(Tokenizer):
    """``\\w+`` tokenizer that normalizes to NFC first."""

    def __eq__(self, other):
        return isinstance(other, NfcTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        value = nfc(value)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in WORD_RE.finditer(value):
            text = match.group().replace("_", "")
            if not text:
                continue
            token.text = text[:MAX_TOKEN_LENGTH]
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


class DualFoldFilter(Filter):
    """Emit the exact token, then (if different) its folded form at the same position."""

    def __eq__(self, other):
        return isinstance(other, DualFoldFilter)

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            yield token
            folded = fold_word(text)
            if folded != text:
                token.text = folded
                yield token


def index_analyzer():
    return NfcTokenizer() | LowercaseFilter() | DualFoldFilter()


class DualText(TEXT):
    """A TEXT field indexed through :func:`words` directly: each word in its exact form and, when it
    carries diacritics, its folded form at the same position — the same postings as
    ``index_analyzer()`` (a test compares them), but without Whoosh's per-token generator pipeline, the
    slowest part of building an index. With ``phrase=False`` a posting keeps only its weight (frequency ×
    field boost): Whoosh's Frequency format would store the frequency again as a per-posting value."""

    def __init__(self, **kwargs):
        super().__init__(analyzer=index_analyzer(), **kwargs)
        if not kwargs.get("phrase", True):
            self.format = formats.Existence(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            return super().index(value, **kwargs)
        fmt = self.format
        boost = fmt.field_boost
        found: dict[str, list[int]] = {}
        for pos, word in enumerate(words(value)):
            found.setdefault(word, []).append(pos)
            folded = fold_word(word)
            if folded != word:
                found.setdefault(folded, []).append(pos)
        if isinstance(fmt, formats.Positions):
            encode = fmt.encode
            return [(w.encode("utf-8"), len(p), len(p) * boost, encode(p)) for w, p in found.items()]
        return [(w.encode("utf-8"), len(p), len(p) * boost, b"") for w, p in found.items()]
