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
