"""The restricted parser for the search box.

No field syntax, no wildcards, no ranges, no boosts, no operators: only words and "quoted phrases".
Input is normalized to NFC, stripped of control characters and cut to ``MAX_CHARS`` characters and
``MAX_TERMS`` words before anything else looks at it, so odd or hostile input costs nothing.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from marketplace.search.analysis import nfc, words

MAX_CHARS = 200
MAX_TERMS = 12
# English glue words that would otherwise have to match ("silk scarf for mother"), plus the operator
# words people paste from other search engines. Vietnamese words are never dropped.
STOP_WORDS = frozenset({"the", "of", "for", "with", "and", "or", "not", "a"})
_QUOTED = re.compile(r'"([^"]*)"?')


@dataclass
class ParsedQuery:
    text: str = ""  # the cleaned text, as shown back to the shopper
    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    had_input: bool = False

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    @property
    def terms(self) -> list[str]:
        return self.words + [w for p in self.phrases for w in p]


def clean(text: str | None) -> str:
    text = nfc(text)[: MAX_CHARS * 4]
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())[:MAX_CHARS].strip()


def parse_query(text: str | None) -> ParsedQuery:
    cleaned = clean(text)
    parsed = ParsedQuery(text=cleaned, had_input=bool(cleaned))
    budget = MAX_TERMS
    loose: list[str] = []
    last = 0
    for match in _QUOTED.finditer(cleaned):
        loose.append(cleaned[last:match.start()])
        last = match.end()
        phrase = words(match.group(1))[:budget]
        if len(phrase) >= 2:
            parsed.phrases.append(phrase)
            budget -= len(phrase)
        elif phrase:
            loose.append(phrase[0])
    loose.append(cleaned[last:])
    seen = set()
    for chunk in loose:
        for word in words(chunk):
            if budget <= 0:
                break
            if word in STOP_WORDS or word in seen:
                continue
            seen.add(word)
            parsed.words.append(word)
            budget -= 1
    return parsed
