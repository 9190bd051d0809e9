"""Fault drills: the real component stopped and started by the test, the site served by gunicorn.

They need PostgreSQL (a private cluster started here from the machine's PostgreSQL binaries): they run when
TEST_DATABASE_URL is set (CI=true always sets it) and are skipped, saying why, otherwise. Under CI=true a
missing tool (initdb, redis-server) fails the run instead of skipping.
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import TestingConfig, env_flag, env_value
from marketplace import create_app
from marketplace.accounts.models import Role
from marketplace.accounts.passwords import hash_password
from marketplace.extensions import db
from tests.drills.harness import (
    Browser,
    PrivatePostgres,
    PrivateRedis,
    ServedSite,
    form_value,
    port_open,
    postgres_bin_dir,
)
from tests.factories import make_product, make_shop, make_user, make_village

IN_CI = env_flag("CI")
PASSWORD = "lang-nghe-drill-2030"


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def private_pg():
    if not (env_value("TEST_DATABASE_URL") or IN_CI):
        pytest.skip("fault drills run on PostgreSQL: set TEST_DATABASE_URL (CI=true does) to run them; they start "
                    "their own private PostgreSQL, Redis and SMTP servers")
    bin_dir = postgres_bin_dir()
    _require(bin_dir is not None, "the fault drills need PostgreSQL's initdb and pg_ctl (package postgresql)")
    pg = PrivatePostgres(bin_dir)
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def redis_server():
    _require(shutil.which("redis-server") is not None, "the Redis drill needs redis-server (package redis-server)")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Drill:
    """One drill's database on the private cluster, its data folder, and an app bound to both for setup
    and checks (the served site is another process with the same settings)."""

    pg: PrivatePostgres
    database: str
    data_dir: Path
    app: object

    @property
    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.pg.url(self.database), "MARKETPLACE_DATA_DIR": str(self.data_dir),
                "SEARCH_INDEX_DIR": str(self.data_dir / "search-index"), "MEDIA_ROOT": str(self.data_dir / "media")}


@pytest.fixture
def drill(private_pg, tmp_path):
    if not port_open(private_pg.port):  # a failed drill may have left it stopped
        private_pg.start()
    database = private_pg.create_database(f"drill_{uuid.uuid4().hex[:8]}")
    data_dir = tmp_path / "instance"

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = private_pg.sqlalchemy_url(database)
        DATA_DIR = str(data_dir)
        SEARCH_INDEX_DIR = str(data_dir / "search-index")
        MEDIA_ROOT = str(data_dir / "media")

    app = create_app(Config)
    ctx = app.app_context()
    ctx.push()
    db.create_all()
    try:
        yield Drill(private_pg, database, data_dir, app)
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def serve():
    """``serve(env, workers=1)`` starts the site; every site started is stopped after the test, and its log is
    printed (pytest shows it when the test fails)."""
    sites: list[ServedSite] = []

    def start(drill: Drill, env: dict[str, str] | None = None, workers: int = 1) -> ServedSite:
        site = ServedSite(drill.data_dir, {**drill.env, **(env or {})}, workers=workers)
        sites.append(site)
        site.start()
        return site

    yield start
    for site in sites:
        site.stop()
        print(f"--- gunicorn log ({site.base}) ---\n{site.log_tail()}")


def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Catalog:
    artisan_email: str
    shop_id: int
    product_ids: list[int]
    variant_ids: list[int]
    product_paths: list[str]  # the canonical addresses (/products/<id>-<slug>; the bare id answers 301)


def make_catalog(stock: int = 5) -> Catalog:
    """An artisan (password ``PASSWORD``) with a verified shop and three products on sale, committed."""
    artisan = make_user(Role.ARTISAN, email=f"artisan-{uuid.uuid4().hex[:6]}@example.vn",
                        password_hash=password_hash())
    shop = make_shop(make_village(name_vi="Bát Tràng", slug=f"bat-trang-{uuid.uuid4().hex[:6]}"), owner=artisan)
    products = [make_product(shop, title_vi=title, price=price, stock=stock) for title, price in (
        ("Bình gốm men lam", 350_000), ("Bộ ấm chén gốm men rạn", 480_000), ("Đĩa gốm vẽ sen", 220_000))]
    catalog = Catalog(artisan.email, shop.id, [p.id for p in products], [p.variants[0].id for p in products],
                      [f"/products/{p.id}-{p.slug}" for p in products])
    db.session.commit()
    db.session.close()  # no connection held by the test: drills stop the database under it
    return catalog


ADDRESS = {"recipient_name": "Nguyễn Thị Lan", "phone": "0912 345 678", "province": "01", "ward": "Bát Tràng",
           "street": "Số 5, thôn 3", "note": "", "payment_method": "cod"}


def start_checkout(site: ServedSite, variant_id: int, quantity: int = 1) -> tuple[Browser, dict]:
    """A guest with ``variant_id`` in the cart on the checkout page: the browser and the form to post."""
    visitor = Browser(site)
    assert visitor.post("/cart/add", {"variant_id": variant_id, "quantity": quantity}).status_code == 303
    page = visitor.get("/checkout")
    assert page.status_code == 200, page.status_code
    return visitor, {**ADDRESS, "email": f"lan-{uuid.uuid4().hex[:6]}@example.vn",
                     "token": form_value(page.text, "token")}
