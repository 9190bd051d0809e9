"""Fragment cache for public catalog pages, invalidated explicitly by a catalog version.

Any commit that changes a product, variant, image, shop, village or IP record — through the ORM or
an UPDATE/DELETE statement on those tables — bumps the catalog version. With REDIS_URL the version
lives in Redis (shared by every host); otherwise it is the mtime of a file in DATA_DIR (shared by the
gunicorn workers of one host). Stock changes by checkouts and cancellations are the exception: listings
show stock only as "Hết hàng" (sold out), so those statements carry the ``STOCK_CHECKED`` execution option
and bump the version themselves (``mark_catalog_changed``) only when a variant's stock reaches or leaves 0.
Each process keeps a small LRU of rendered fragments keyed by the
version, the language and the day (OCOP validity changes at midnight).

With REDIS_URL (and ``REDIS_CACHE_SECONDS`` > 0) the cache is shared by every instance: a fragment rendered by
one is stored in Redis under the same key (the process LRU stays in front of it), and whole anonymous pages —
views marked ``@anonymous_page``, GET, no cookie but the language, a 200 HTML answer that set no cookie and
touched no session — are stored and served from Redis too. Keys carry the catalog version, so a change committed
on any instance (its change feed bumps the version in Redis) stops every instance from using older entries at
once; those expire after ``REDIS_CACHE_SECONDS``. Sessions stay signed cookies: nothing per visitor is cached.
A Redis error only means rendering without the cache.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import redis
from flask import Flask, Response, current_app, g, request, session
from markupsafe import Markup

from marketplace.core import changes
from marketplace.core.changes import ChangeSet
from marketplace.core.templating import current_lang
from marketplace.core.time import today_vn

CATALOG_TABLES = {"products", "variants", "product_images", "shops", "craft_villages", "ip_protections", "makers"}
MAX_ENTRIES = 2048
# Execution option of a statement on a catalog table whose effect on cached pages the caller judges
# itself (calling mark_catalog_changed when it matters): the statement alone bumps nothing.
STOCK_CHECKED = "catalog_stock_checked"
PAGE_ATTR = "_anonymous_page"
PAGE_HEADER = "X-Page-Cache"  # "hit" on a page served from the shared cache, "stored" when one was stored
log = logging.getLogger(__name__)


def mark_catalog_changed(session) -> None:
    """The catalog version is bumped when this session's transaction commits."""
    changes.mark(session, "catalog")


class FragmentCache:
    """The process's LRU of rendered fragments. ``hits``/``misses`` count this LRU; ``shared_hits`` counts
    misses answered by the Redis cache (rendered by another process or instance), ``renders`` actual renders."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.shared_hits = 0
        self.renders = 0

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
    if client is None and app.config["REDIS_URL"]:
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


def _shared(app: Flask):
    """The Redis client when the shared cache is on, else None."""
    if not app.config["REDIS_CACHE_SECONDS"]:
        return None
    return _redis(app)


def _digest(parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def cached_fragment(name: str, key_parts: tuple, render) -> Markup:
    """Render ``render()`` once per catalog version, language and day (once for all instances with Redis)."""
    app = current_app._get_current_object()
    if not app.config["FRAGMENT_CACHE"]:
        return Markup(render())
    cache: FragmentCache = app.extensions["fragment_cache"]
    version = catalog_version(app)
    key = (name, key_parts, current_lang(), today_vn().isoformat(), version)
    client = _shared(app)

    def render_counted():
        cache.renders += 1
        return render()

    if client is None:
        return cache.get_or_render(key, render_counted)

    def shared_or_render():
        redis_key = f"cache:{version}:frag:{_digest(key)}"
        try:
            stored = client.get(redis_key)
        except Exception:  # Redis down: render without the shared cache
            stored = None
        if stored is not None:
            cache.shared_hits += 1
            return Markup(stored.decode())
        value = render_counted()
        try:
            client.set(redis_key, str(value).encode(), ex=app.config["REDIS_CACHE_SECONDS"])
        except Exception:
            log.debug("could not store fragment %s in Redis", name, exc_info=True)
        return value

    return cache.get_or_render(key, shared_or_render)


# --- whole anonymous pages, shared through Redis ----------------------------------------------------------

def anonymous_page(view):
    """Mark a public GET view whose page, for a visitor with no session, may be served from the shared cache."""
    setattr(view, PAGE_ATTR, True)
    return view


def _page_key(app: Flask) -> str | None:
    if request.method != "GET" or not app.config["PAGE_CACHE"] or not app.config["FRAGMENT_CACHE"]:
        return None
    view = app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or not getattr(view, PAGE_ATTR, False):
        return None
    if set(request.cookies) - {"lang"} or "lang" in request.args:
        return None  # a session (signed in, a cart, a flash message) or a language being chosen
    if _shared(app) is None:
        return None
    version = catalog_version(app)
    parts = (request.host_url, request.full_path, request.cookies.get("lang"), today_vn().isoformat())
    return f"cache:{version}:page:{_digest(parts)}"


def _serve_cached_page():
    app = current_app._get_current_object()
    key = _page_key(app)
    if key is None:
        return None
    try:
        stored = _shared(app).get(key)
    except Exception:
        stored = None
    if stored is not None:
        response = Response(stored, status=200, mimetype="text/html")
        response.headers[PAGE_HEADER] = "hit"
        return response
    g._page_cache_key = key
    return None


def _store_page(response):
    key = g.pop("_page_cache_key", None)
    if key is None or response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough:
        return response
    if session.modified or session.accessed and session or g.get("set_lang_cookie") \
            or response.headers.getlist("Set-Cookie"):
        return response  # rendered for this visitor (a form token, a message, a cookie): not shareable
    app = current_app._get_current_object()
    try:
        _shared(app).set(key, response.get_data(), ex=app.config["REDIS_CACHE_SECONDS"])
        response.headers[PAGE_HEADER] = "stored"
    except Exception:
        log.debug("could not store a page in Redis", exc_info=True)
    return response


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
    app.before_request(_serve_cached_page)
    app.after_request(_store_page)
