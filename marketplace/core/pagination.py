"""Forgiving request-argument parsing: bad input falls back to a sensible default."""
from __future__ import annotations

MAX_PAGE = 10_000


def page_arg(value: str | None) -> int:
    """A page number from the query string; anything odd becomes 1."""
    try:
        page = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= MAX_PAGE else (1 if page < 1 else MAX_PAGE + 1)


def choice_arg(value: str | None, allowed, default=None):
    """Return ``value`` if it is one of ``allowed``; unknown values are ignored."""
    return value if value in allowed else default


class Paged:
    """Pager arithmetic for any result with ``page``, ``per_page`` and ``total``."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
