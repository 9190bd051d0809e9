"""With REDIS_URL the page cache is shared by every instance: two apps (two instances) on one database and one
Redis, with separate data folders (no shared file), and a change committed on one is shown by the other at once.

Runs when TEST_REDIS_URL is set (under CI=true it must run)."""
from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

from config import env_flag, env_value
from marketplace.catalog.models import Variant
from marketplace.core.cache import PAGE_HEADER, catalog_version
from marketplace.extensions import db
from tests.conftest import make_app
from tests.factories import make_product

REDIS_URL = env_value("TEST_REDIS_URL")


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        if env_flag("CI"):
            pytest.fail("CI=true requires TEST_REDIS_URL (the shared cache must be tested)")
        pytest.skip("TEST_REDIS_URL not set")
    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()
    yield REDIS_URL
    server.flushdb()
    server.close()


@pytest.fixture
def app_overrides(redis_url):
    return {"REDIS_URL": redis_url}


@pytest.fixture
def other(app, tmp_path, redis_url):
    """Instance B: same database and Redis, its own data folder and processes' memory."""
    # "sqlite" only picks make_app's branch that leaves the schema alone; the URI is A's database
    b = make_app(tmp_path / "b", "sqlite", REDIS_URL=redis_url,
                 SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    yield b
    with b.app_context():
        db.session.remove()
        db.engine.dispose()


def _price(product_id: int, price: int) -> None:
    db.session.execute(sa.update(Variant).where(Variant.product_id == product_id).values(price=price))
    db.session.commit()


def test_anonymous_page_cached_on_a_is_served_by_b_and_invalidated_by_a_change_on_b(app, other):
    product = make_product(title_vi="Bình men rạn", price=350_000)
    db.session.commit()
    a, b = app.test_client(), other.test_client()
    first = a.get("/products")
    assert first.status_code == 200 and "350.000 ₫" in first.get_data(as_text=True)
    assert first.headers[PAGE_HEADER] == "stored"
    served = b.get("/products")
    assert served.headers[PAGE_HEADER] == "hit"  # B rendered nothing: the page came from Redis
    assert served.get_data() == first.get_data()
    assert other.extensions["fragment_cache"].renders == 0
    assert served.headers["Content-Security-Policy"]  # B's own headers on the shared body

    version = catalog_version(app)
    with other.app_context():  # a change committed on B
        _price(product.id, 420_000)
    assert catalog_version(app) != version  # A sees B's bump: the version is in Redis, not a local file
    again = a.get("/products")
    assert again.headers[PAGE_HEADER] == "stored"  # a new version: rendered again, then shared
    assert "420.000 ₫" in again.get_data(as_text=True) and "350.000 ₫" not in again.get_data(as_text=True)
    assert b.get("/products").headers[PAGE_HEADER] == "hit"


def test_fragments_are_shared_and_visitors_with_a_session_get_no_shared_page(app, other):
    make_product(title_vi="Khăn lụa Vạn Phúc", price=120_000)
    db.session.commit()
    a, b = app.test_client(), other.test_client()
    a.set_cookie("session", "someone")  # a visitor with a session: pages are rendered for them
    b.set_cookie("session", "someone-else")
    page = a.get("/products")
    assert PAGE_HEADER not in page.headers
    assert app.extensions["fragment_cache"].renders >= 1
    rendered_on_a = app.extensions["fragment_cache"].renders
    on_b = b.get("/products")
    assert PAGE_HEADER not in on_b.headers
    assert "Khăn lụa Vạn Phúc" in on_b.get_data(as_text=True)
    assert other.extensions["fragment_cache"].shared_hits >= 1  # the product grid rendered by A
    assert other.extensions["fragment_cache"].renders == 0
    assert app.extensions["fragment_cache"].renders == rendered_on_a


def test_pages_that_set_a_cookie_are_not_shared(app, other):
    make_product()
    db.session.commit()
    chosen = app.test_client().get("/products?lang=en")  # sets the language cookie: never stored
    assert PAGE_HEADER not in chosen.headers
    english = other.test_client()
    english.set_cookie("lang", "en")
    assert english.get("/products").headers[PAGE_HEADER] == "stored"  # the language is part of the key
    vietnamese = app.test_client().get("/products")
    assert vietnamese.headers[PAGE_HEADER] == "stored"
    assert 'lang="vi"' in vietnamese.get_data(as_text=True)


def test_redis_down_pages_still_served(tmp_path, backend):
    app = make_app(tmp_path, backend, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        db.create_all()
        response = app.test_client().get("/products")
        assert response.status_code == 200
        assert PAGE_HEADER not in response.headers
        db.session.remove()
        db.engine.dispose()
