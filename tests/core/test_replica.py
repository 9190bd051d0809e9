"""DATABASE_REPLICA_URL: read-only catalog and statistics pages send their SELECTs to the replica engine; writes,
locks and signed-in forms stay on the primary. The replica URL points at the test database itself here, so the
test sees which engine ran each statement."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.core.replica import reading, replica_engine
from marketplace.extensions import db
from tests.factories import make_product, make_user

READS = {"SELECT", "WITH"}  # WITH … SELECT: the indicators' queries


class Counter:
    def __init__(self, engine):
        self.statements: list[str] = []
        self.full: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement.split(None, 1)[0].upper())
        self.full.append(statement)

    def reset(self):
        self.statements.clear()
        self.full.clear()


@pytest.fixture
def app_overrides():
    return {"FRAGMENT_CACHE": False, "STATS_CACHE_SECONDS": 0}  # every page runs its queries


@pytest.fixture
def engines(app):
    replica = replica_engine(app)
    assert replica is not None and replica is not db.engine
    counters = Counter(db.engine), Counter(replica)
    yield counters
    replica.dispose()


@pytest.fixture(autouse=True)
def _replica_is_the_primary(request, monkeypatch):
    """Point DATABASE_REPLICA_URL at the test's own database (known only when the app is made)."""
    from marketplace.core import replica

    if "app" not in request.fixturenames:
        return
    configure = replica.configure

    def same_database(app):
        app.config["DATABASE_REPLICA_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
        configure(app)

    monkeypatch.setattr(replica, "configure", same_database)


def test_catalog_pages_read_from_the_replica(app, client, engines):
    primary, replica = engines
    product = make_product(title_vi="Bình gốm men lam")
    db.session.commit()
    urls = ("/", "/products", f"/products/{product.id}-{product.slug}", f"/shops/{product.shop.slug}",
            f"/villages/{product.shop.village.slug}", "/villages", "/api/v1/stats/indicators", "/minh-bach")
    primary.reset()
    for url in urls:
        replica.reset()
        response = client.get(url)
        assert response.status_code == 200, url
        assert replica.statements and set(replica.statements) <= READS, (url, replica.statements)
    assert not READS & set(primary.statements), primary.full  # every catalog read went to the replica


def test_writes_and_signed_in_pages_use_the_primary(app, client, engines, login):
    primary, replica = engines
    product = make_product(stock=5)
    shopper = make_user(Role.SHOPPER)
    db.session.commit()
    replica.reset()
    primary.reset()
    assert client.post("/cart/add", data={"variant_id": product.variants[0].id, "quantity": 1}).status_code == 303
    assert client.get("/cart").status_code == 200
    assert replica.statements == []
    assert "SELECT" in primary.statements
    login(client, shopper)
    assert client.get("/account/orders").status_code == 200
    assert replica.statements == []


def test_reading_block_routes_plain_selects_only(app, engines):
    primary, replica = engines
    make_product()
    db.session.commit()
    primary.reset()
    with reading(db.session):
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1
        assert replica.statements == ["SELECT"] and primary.statements == []
        replica.reset()
        db.session.scalars(sa.select(Product).with_for_update()).all()  # a lock: the primary
        assert replica.statements == [] and primary.statements == ["SELECT"]
        product = db.session.scalars(sa.select(Product)).first()
        product.title_vi = "Đổi tên"
        db.session.flush()  # after a write the transaction reads the primary (its own writes)
        replica.reset()
        assert db.session.scalar(sa.select(Product.title_vi)) == "Đổi tên"
        assert replica.statements == []
    db.session.rollback()


def test_without_the_setting_there_is_no_replica(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, "sqlite")
    with app.app_context():
        assert replica_engine(app) is None
        db.engine.dispose()
