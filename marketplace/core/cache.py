"""Fragment cache for public catalog pages, invalidated explicitly by a catalog version.

Any commit that changes a product, variant, image, shop, village or IP record — through the ORM or
an UPDATE/DELETE statement on those tables — bumps the catalog version. With REDIS_URL the version
lives in Redis (shared by every host); otherwise it is the mtime of a file in DATA_DIR (shared by the
gunicorn workers of one host). Stock changes by checkouts and cancellations are the exception: listings
show stock only as "Hết hàng" (sold out), so those statements carry the ``STOCK_CHECKED`` execution option
and bump the version themselves (``mark_catalog_changed``) only when a variant's stock reaches or leaves 0.
Each process keeps a small LRU of rendered fragments keyed by the
version, the language and the day (OCOP validity changes at midnight).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import redis
from flask import Flask, current_app
from markupsafe import Markup

from marketplace.core import changes
from marketplace.core.changes import ChangeSet
from marketplace.core.templating import current_lang
from marketplace.core.time import today_vn

CATALOG_TABLES = {"products", "variants", "product_images", "shops", "craft_villages", "ip_protections"}
MAX_ENTRIES = 2048
# Execution option of a statement on a catalog table whose effect on cached pages the caller judges
# itself (calling mark_catalog_changed when it matters): the statement alone bumps nothing.
STOCK_CHECKED = "catalog_stock_checked"


def mark_catalog_changed(session) -> None:
    """The catalog version is bumped when this session's transaction commits."""
    changes.mark(session, "catalog")


class FragmentCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: tuple, render) -> Markup:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return value
        value = Markup(render())
        with self._lock:
            self.misses += 1
            self._data[key] = value
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def _version_file(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / ".catalog-version"


def _redis(app: Flask):
    client = app.extensions.get("marketplace_redis")
    if client is None and app.config.get("REDIS_URL"):
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=0.5)
        app.extensions["marketplace_redis"] = client
    return client


def catalog_version(app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    client = _redis(app)
    if client is not None:
        try:
            return (client.get("catalog:version") or b"0").decode()
        except Exception:  # Redis down: no caching rather than stale pages
            return os.urandom(8).hex()
    try:
        return str(_version_file(app).stat().st_mtime_ns)
    except FileNotFoundError:
        bump_catalog_version(app)
        return str(_version_file(app).stat().st_mtime_ns)


def bump_catalog_version(app: Flask | None = None) -> None:
    app = app or current_app._get_current_object()
    client = _redis(app)
    if client is not None:
        try:
            client.incr("catalog:version")
        except Exception:
            pass
    path = _version_file(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new mtime even within the same clock tick: write then set an explicit, increasing time.
    previous = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text("")
    now = max(previous + 1, path.stat().st_mtime_ns)
    os.utime(path, ns=(now, now))
    local = app.extensions.get("fragment_cache")
    if local is not None:
        local.clear()


def cached_fragment(name: str, key_parts: tuple, render) -> Markup:
    """Render ``render()`` once per catalog version, language and day."""
    app = current_app._get_current_object()
    if not app.config.get("FRAGMENT_CACHE", True):
        return Markup(render())
    cache: FragmentCache = app.extensions["fragment_cache"]
    key = (name, key_parts, current_lang(), today_vn().isoformat(), catalog_version(app))
    return cache.get_or_render(key, render)


def _catalog_changed(change_set: ChangeSet) -> bool:
    if "catalog" in change_set.marks:
        return True
    if any(row.table in CATALOG_TABLES for row in change_set.rows):
        return True
    return any(st.table in CATALOG_TABLES and not st.options.get(STOCK_CHECKED) for st in change_set.statements)


def _on_change(change_set: ChangeSet) -> None:
    if _catalog_changed(change_set):
        bump_catalog_version()


def init_app(app: Flask) -> None:
    app.extensions["fragment_cache"] = FragmentCache()
    changes.subscribe(app, "catalog-cache", _on_change)
