"""Rate limits with the shared limiter: the API and search suggest; memory storage by default,
Redis when configured (TEST_REDIS_URL; under CI=true the Redis test must run, not skip)."""
from __future__ import annotations

import pytest

from config import env_flag, env_value
from marketplace.extensions import db, limiter
from tests.conftest import make_app

REDIS_URL = env_value("TEST_REDIS_URL")


def _limited_app(tmp_path, storage: str, **extra):
    app = make_app(tmp_path, "sqlite", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                   API_RATE_LIMIT="3/minute", SEARCH_SUGGEST_RATE_LIMIT="2/minute", **extra)
    with app.app_context():
        db.create_all()
    return app


def _statuses(app, url, n):
    client = app.test_client()
    with app.app_context():
        return [client.get(url).status_code for _ in range(n)]


def test_memory_storage_limits_the_api(tmp_path):
    app = _limited_app(tmp_path, "memory://")
    with app.app_context():
        limiter.reset()
    assert _statuses(app, "/api/v1/villages", 4) == [200, 200, 200, 429]
    response = app.test_client().get("/api/v1/villages")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0
    # the HTML pages are not limited by the API's limit
    assert _statuses(app, "/", 5) == [200] * 5


def test_search_suggest_is_limited_when_it_exists(tmp_path):
    app = _limited_app(tmp_path, "memory://")
    assert "search.suggest" in app.view_functions
    with app.app_context():
        limiter.reset()
        url = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == "search.suggest")
    statuses = _statuses(app, f"{url}?q=gom", 3)
    assert statuses[:2] != [429, 429] and statuses[2] == 429
    # access declaration survives the wrapping
    assert app.view_functions["search.suggest"].access


def test_redis_storage_is_shared(tmp_path):
    if not REDIS_URL:
        if env_flag("CI"):
            pytest.fail("CI=true requires TEST_REDIS_URL (the Redis rate-limit path must run)")
        pytest.skip("TEST_REDIS_URL not set")
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()
    try:
        first = _limited_app(tmp_path / "a", REDIS_URL)
        assert _statuses(first, "/api/v1/villages", 2) == [200, 200]
        assert any(b"LIMITS" in key or b"limiter" in key.lower() for key in server.keys("*")), server.keys("*")
        # a second app (another worker) sees the same counters
        second = _limited_app(tmp_path / "b", REDIS_URL)
        assert _statuses(second, "/api/v1/villages", 2) == [200, 429]
    finally:
        server.flushdb()
        server.close()
