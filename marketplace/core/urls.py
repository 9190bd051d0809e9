"""One safe-redirect rule for every ``next``: a path on this site, or nothing."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: no scheme, no host, no ``//`` or ``\\``, no
    control character (browsers drop tab and newline, so ``/\\t/evil.example`` would become ``//evil.example``)."""
    if not target or not isinstance(target, str):
        return None
    target = target.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def next_or(target: str | None, default: str) -> str:
    return safe_next(target) or default
