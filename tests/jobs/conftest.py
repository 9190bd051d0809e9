"""Background-job tests: a real Redis (TEST_REDIS_URL; under CI=true it must be there) and real rq workers
(``SimpleWorker`` in burst mode in this process, or ``flask worker --burst`` in a subprocess)."""
from __future__ import annotations

import pytest
import redis

from config import env_flag, env_value
from marketplace.core import jobs
from tests.seller.fixtures import artisan, other_shop, seller, shop  # noqa: F401

REDIS_URL = env_value("TEST_REDIS_URL")


def _clear(conn: redis.Redis) -> None:
    keys = list(conn.scan_iter("rq:*")) + list(conn.scan_iter("marketplace:jobs:*"))
    if keys:
        conn.delete(*keys)


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        if env_flag("CI"):
            pytest.fail("CI=true requires TEST_REDIS_URL (the background-job tests must run)")
        pytest.skip("TEST_REDIS_URL not set")
    conn = redis.Redis.from_url(REDIS_URL)
    _clear(conn)
    yield REDIS_URL
    _clear(conn)
    conn.close()


@pytest.fixture
def app_overrides(redis_url):
    return {"REDIS_URL": redis_url}


@pytest.fixture
def work(app):
    """Run every queued job with a real rq worker (burst), as ``flask worker`` would."""

    def run(**kw) -> bool:
        return jobs.run_burst(app, **kw)

    return run
