"""Drill: Redis stopped while the site is serving (REDIS_URL set: rate limits and the catalog version in Redis).

Documented behaviour (README, "When a part fails"): pages are served as usual (the fragment cache just stops
caching); rate limits fail open to counting in each worker process's memory — every limit still applies,
per process — and go back to the shared counts in Redis once it answers again.
"""
from __future__ import annotations

import time

import pytest

from tests.drills.conftest import make_catalog
from tests.drills.harness import Browser, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.postgres]

LIMIT = 8  # API_RATE_LIMIT for the drill: small, so that counting to it is quick


def _api_count(redis_server) -> int:
    """The limit counter of /api/v1/villages (limits count per endpoint) for 127.0.0.1 in Redis (0 if none)."""
    client = redis_server.client()
    return sum(int(client.get(key) or 0) for key in client.scan_iter("LIMITS*/api.villages/*"))


def _first_429(site, start: int = 1, limit: int = LIMIT) -> int:
    for attempt in range(start, limit + 5):
        if site.get("/api/v1/villages").status_code == 429:
            return attempt
    return -1


def _pages(catalog) -> list[str]:
    return ["/", "/products", catalog.product_paths[0], "/villages", "/search?q=g%E1%BB%91m",
            "/api/v1/products", "/healthz"]


def test_redis_stopped_while_serving(drill, redis_server, serve):
    catalog = make_catalog()
    site = serve(drill, {"REDIS_URL": redis_server.url, "API_RATE_LIMIT": f"{LIMIT}/minute"})
    for path in _pages(catalog):
        assert site.get(path).status_code == 200, path
    # Redis up: the API's limit is counted in Redis (shared by every worker and host)
    before = _api_count(redis_server)
    for _ in range(3):
        assert site.get("/api/v1/villages").status_code == 200
    assert _api_count(redis_server) == before + 3

    redis_server.stop()
    started = time.monotonic()
    # every page is still served, none with an error
    for path in _pages(catalog):
        response = site.get(path)
        assert response.status_code == 200, (path, response.status_code)
    visitor = Browser(site)
    wrong = visitor.post("/account/login", {"email": catalog.artisan_email, "password": "sai-mat-khau"})
    assert wrong.status_code == 401  # the failed sign-in is counted (in memory), not a 500
    # limits fail open to this process's memory: the limit still holds, counted from the outage on
    assert _first_429(site) == LIMIT + 1
    print(f"outage: pages and limits checked in {time.monotonic() - started:.2f} s")

    redis_server.start()  # empty (no persistence), as a restarted cache server would be
    back = time.monotonic()
    # each worker looks at Redis again after a growing pause (flask-limiter: 1, 2, 4 … 32 s)
    wait_until(lambda: site.get("/api/v1/villages").status_code and _api_count(redis_server) > 0, timeout=90,
               interval=0.25, what="the limiter to count in Redis again")
    print(f"limits shared again {time.monotonic() - back:.2f} s after Redis came back")
    counted = _api_count(redis_server)
    # from now on every request is counted in Redis: the first 429 comes exactly at the limit
    assert _first_429(site, start=counted + 1) == LIMIT + 1
    assert _api_count(redis_server) >= LIMIT
    for path in _pages(catalog)[:3]:
        assert site.get(path).status_code == 200, path
