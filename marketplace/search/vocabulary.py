"""The words of search that other areas use: sorts, price bands, filter values, the result type and the
error raised when the engine fails. No engine code here (nothing imports Whoosh or NumPy)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from marketplace.core.pagination import Paged
from marketplace.errors import DomainError

SORTS = ("relevance", "price_asc", "price_desc", "newest")
PRICE_BANDS = (  # key, low (inclusive), high (exclusive)
    ("duoi-200k", 0, 200_000),
    ("200k-500k", 200_000, 500_000),
    ("500k-1tr", 500_000, 1_000_000),
    ("1tr-3tr", 1_000_000, 3_000_000),
    ("tren-3tr", 3_000_000, None),
)
PRICE_BAND_KEYS = tuple(b[0] for b in PRICE_BANDS)
PRICE_LABELS = {
    "duoi-200k": _l("Dưới 200.000 ₫"),
    "200k-500k": _l("200.000 – 500.000 ₫"),
    "500k-1tr": _l("500.000 – 1.000.000 ₫"),
    "1tr-3tr": _l("1 – 3 triệu ₫"),
    "tren-3tr": _l("Trên 3 triệu ₫"),
}
OCOP_CHOICES = (3, 4, 5)  # the OCOP filter: that many stars or more, valid today
MAX_PER_PAGE = 100
MAX_RESULTS_WINDOW = 2_000  # results past this rank are never paged to


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


class SearchUnavailable(DomainError):
    """The engine failed (a broken or unreadable index, a bug): never shown as "no products"."""

    status_code = 503
    code = "search_unavailable"
