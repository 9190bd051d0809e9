"""Two instances behave as one: two gunicorn instances of the site on their own ports and data folders, sharing
one PostgreSQL (TEST_DATABASE_URL), one Redis (TEST_REDIS_URL) and one local S3 server (moto, started here).

One RQ worker (`flask worker`, as operators run it) makes the photo derivatives; search is the PostgreSQL
backend (SEARCH_BACKEND=postgres).

Proved: a login on A is valid on B; a rate limit counts across both; a product saved on A is found by search on
B at once; a photo uploaded through A (derivatives made by the worker) is served by B; a page cached on A is
invalidated by a change made on B; a checkout race split across A and B sells exactly the stock. Runs on
PostgreSQL with Redis: under CI=true a missing one fails the run instead of skipping.
"""
from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import threading
import uuid

import pytest
import redis
import requests
import sqlalchemy as sa

from config import env_flag, env_value
from marketplace.accounts.models import Role
from marketplace.accounts.passwords import hash_password
from marketplace.api.services import issue_token
from marketplace.catalog.models import PENDING_KEY_PREFIX, ProductImage, Variant
from marketplace.core.cache import PAGE_HEADER
from marketplace.extensions import db
from marketplace.orders.models import OrderLine
from tests.conftest import make_app, truncate_all
from tests.drills.harness import ROOT, VENV_BIN, ServedSite, form_value, wait_until
from tests.factories import make_product, make_shop, make_user, make_village
from tests.s3server import LocalS3
from tests.seller.imagegen import jpeg_bytes

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.postgres]

PG_URL = env_value("TEST_DATABASE_URL")
REDIS_URL = env_value("TEST_REDIS_URL")
PASSWORD = "lang-nghe-cluster-2030"
STOCK = 3
BUYERS = 8


def _require(condition, reason: str) -> None:
    if condition:
        return
    if env_flag("CI"):
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def _services() -> None:
    _require(PG_URL, "the two-instance test needs TEST_DATABASE_URL (PostgreSQL)")
    _require(REDIS_URL, "the two-instance test needs TEST_REDIS_URL (Redis)")


@pytest.fixture(scope="module")
def s3():
    server = LocalS3().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bucket(s3):
    return s3.new_bucket()


@pytest.fixture(scope="module")
def setup_app(s3, bucket, tmp_path_factory):
    """The test's own app on the shared database (setup and checks), for the whole module: the tables are
    created once and emptied only after the instances and the worker have stopped (a TRUNCATE between tests
    would race the running worker). Each test makes its own artisan, shop and products."""
    _services()
    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()  # before the worker registers itself: never while it runs
    setup = make_app(tmp_path_factory.mktemp("setup"), "postgresql", REDIS_URL=REDIS_URL,
                     SEARCH_BACKEND="postgres", **s3.settings(bucket))
    with setup.app_context():
        db.create_all()
        truncate_all()
    yield setup
    with setup.app_context():
        truncate_all()
        db.session.remove()
        db.engine.dispose()
    server.flushdb()
    server.close()


@pytest.fixture
def app(setup_app):
    ctx = setup_app.app_context()
    ctx.push()
    try:
        yield setup_app
    finally:
        db.session.remove()
        ctx.pop()


@pytest.fixture(scope="module")
def cluster(setup_app, s3, bucket, tmp_path_factory):
    """Instances A and B and one RQ worker, started once for the module: the environment an operator would
    give each host."""
    env = {
        "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": secrets.token_urlsafe(48),
        "LOGIN_LIMIT_PER_IP": "1000 per minute", "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
        "MAIL_DISPATCH_AFTER_COMMIT": "false", "SEARCH_BACKEND": "postgres", "JOBS_WORKER_NICE": "0",
        **{k: str(v) for k, v in s3.settings(bucket).items() if v is not None},
    }
    sites = []
    for name in ("a", "b"):
        data_dir = tmp_path_factory.mktemp(f"instance-{name}")  # nothing shared through the disk
        sites.append(ServedSite(data_dir, {**env, "MARKETPLACE_DATA_DIR": str(data_dir)}))
    worker_dir = tmp_path_factory.mktemp("worker")
    worker_log = open(worker_dir / "worker.log", "ab")
    worker = None
    try:
        for site in sites:
            site.start()
        worker = subprocess.Popen([str(VENV_BIN / "flask"), "worker"], cwd=ROOT, stdout=worker_log,
                                  stderr=subprocess.STDOUT, start_new_session=True,
                                  env={**sites[0].env, "MARKETPLACE_DATA_DIR": str(worker_dir)})
        yield sites
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        worker_log.close()
        print(f"--- worker log ---\n{(worker_dir / 'worker.log').read_text(errors='replace')[-4000:]}")
        for site in sites:
            site.stop()
            print(f"--- gunicorn log ({site.base}) ---\n{site.log_tail()}")


class Visitor:
    """One browser (one cookie jar) that may talk to either instance; cookies are per host, not per port,
    exactly as behind a load balancer."""

    def __init__(self):
        self.http = requests.Session()
        self.token: str | None = None

    def get(self, site: ServedSite, path: str, **kw) -> requests.Response:
        return self.http.get(site.base + path, timeout=60, allow_redirects=False, **kw)

    def post(self, site: ServedSite, path: str, data: dict) -> requests.Response:
        if self.token is None:
            self.token = form_value(self.get(site, "/account/login").text, "csrf_token")
        return self.http.post(site.base + path, data={"csrf_token": self.token, **data}, timeout=60,
                              allow_redirects=False)


def _catalog(stock: int = 5, title: str = "Bình gốm men lam"):
    artisan = make_user(Role.ARTISAN, email=f"artisan-{uuid.uuid4().hex[:6]}@example.vn",
                        password_hash=hash_password(PASSWORD))
    shop = make_shop(make_village(name_vi="Bát Tràng", slug=f"bat-trang-{uuid.uuid4().hex[:6]}"), owner=artisan)
    product = make_product(shop, title_vi=title, price=350_000, stock=stock)
    _token, secret = issue_token(artisan, "cluster")
    db.session.commit()
    ids = artisan.email, product.id, product.variants[0].id, secret
    db.session.close()
    return ids


def test_login_on_a_is_valid_on_b_and_login_limits_count_across_both(app, cluster):
    a, b = cluster
    email, *_ = _catalog()
    visitor = Visitor()
    refused = visitor.get(b, "/seller/")  # not signed in yet: to the sign-in form, coming back here
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/account/login?next=%2Fseller%2F")
    assert visitor.post(a, "/account/login", {"email": email, "password": PASSWORD}).status_code == 303
    on_b = visitor.get(b, "/seller/products")
    assert on_b.status_code == 200, on_b.status_code  # the session signed by A is valid on B
    assert "Bình gốm men lam" in on_b.text  # the artisan's own product list

    # 3 failed sign-ins per account and minute, counted in Redis: alternating A, B, A, B… the 4th is refused.
    # Counted per instance, the first refusal would only come at the 7th attempt (A's 4th).
    intruder = Visitor()
    statuses = [intruder.post(site, "/account/login", {"email": email, "password": "wrong-password"}).status_code
                for site in (a, b, a, b, a, b)]
    assert 429 not in statuses[:3], statuses
    assert statuses[3:] == [429, 429, 429], statuses


def test_product_saved_on_a_is_found_by_search_on_b_at_once(app, cluster):
    a, b = cluster
    _email, product_id, _variant_id, secret = _catalog()
    before = requests.get(f"{b.base}/search", params={"q": "quạt nan"}, timeout=30)
    assert before.status_code == 200 and f"/products/{product_id}" not in before.text
    saved = requests.patch(f"{a.base}/api/v1/me/products/{product_id}", json={"title_vi": "Quạt nan Chàng Sơn"},
                           headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert saved.status_code == 200, saved.text
    for query in ("quạt nan", "quat nan"):  # the exact and the folded spelling, on the other instance, no wait
        found = requests.get(f"{b.base}/search", params={"q": query}, timeout=30)
        assert found.status_code == 200 and f"/products/{product_id}" in found.text, query


def test_photo_uploaded_through_a_is_served_by_b(app, cluster, s3, bucket):
    a, b = cluster
    _email, product_id, _variant_id, secret = _catalog()
    picture = jpeg_bytes((1000, 700))
    response = requests.post(f"{a.base}/api/v1/me/products/{product_id}/photos",
                             files={"photos": ("IMG_1.jpg", io.BytesIO(picture), "image/jpeg")},
                             headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    assert response.status_code == 201, response.text  # created; the derivatives are the worker's
    assert response.json()["id"] == product_id and len(response.json()["images"]) == 1

    def made_by_the_worker():
        try:
            key = db.session.scalars(sa.select(ProductImage.storage_key)
                                     .where(ProductImage.product_id == product_id)).one()
        finally:
            db.session.close()
        return None if key.startswith(PENDING_KEY_PREFIX) else key

    key = wait_until(made_by_the_worker, timeout=180, interval=0.5, what="the worker to make the derivatives")
    served = requests.get(f"{b.base}/media/{key}-800.jpg", timeout=30)
    assert served.status_code == 200
    assert served.content == s3.client().get_object(Bucket=bucket, Key=f"{key}-800.jpg")["Body"].read()
    assert "immutable" in served.headers["Cache-Control"]
    assert not any((site.data_dir / "media").exists() and any((site.data_dir / "media").rglob("*.jpg"))
                   for site in cluster)  # nothing on either instance's disk
    assert f"/media/{key}-" in requests.get(f"{b.base}/products/{product_id}", timeout=30).text


def test_page_cached_on_a_is_invalidated_by_a_change_on_b(app, cluster):
    a, b = cluster
    tag = uuid.uuid4().hex[:6]  # the products of the module's other tests are on the list too
    old_title, new_title = f"Bình gốm men lam {tag}", f"Bình gốm men ngọc {tag}"
    _email, product_id, _variant_id, secret = _catalog(title=old_title)
    # the host name is part of the cache key: behind the load balancer both instances see the public one
    public = {"Host": "cholangnghe.test"}
    first = requests.get(f"{a.base}/products", headers=public, timeout=30)
    assert old_title in first.text and first.headers.get(PAGE_HEADER) == "stored"
    assert requests.get(f"{a.base}/products", headers=public, timeout=30).headers.get(PAGE_HEADER) == "hit"
    assert requests.get(f"{b.base}/products", headers=public, timeout=30).headers.get(PAGE_HEADER) == "hit"

    changed = requests.patch(f"{b.base}/api/v1/me/products/{product_id}", json={"title_vi": new_title},
                             headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert changed.status_code == 200, changed.text
    after = requests.get(f"{a.base}/products", headers=public, timeout=30)
    assert after.headers.get(PAGE_HEADER) != "hit"
    assert new_title in after.text and old_title not in after.text


def test_checkout_race_split_across_a_and_b_sells_exactly_the_stock(app, cluster):
    a, b = cluster
    _email, product_id, variant_id, _secret = _catalog(stock=STOCK)
    buyers = []
    for i in range(BUYERS):
        site = (a, b)[i % 2]
        visitor = Visitor()
        assert visitor.post(site, "/cart/add", {"variant_id": variant_id, "quantity": 1}).status_code == 303
        page = visitor.get(site, "/checkout")
        assert page.status_code == 200
        form = {"recipient_name": "Nguyễn Thị Lan", "phone": "0912 345 678", "province": "01", "ward": "Bát Tràng",
                "street": "Số 5, thôn 3", "note": "", "payment_method": "cod",
                "email": f"lan-{i}-{uuid.uuid4().hex[:6]}@example.vn", "token": form_value(page.text, "token")}
        buyers.append((visitor, site, form))
    start = threading.Barrier(BUYERS)
    results: list = [None] * BUYERS

    def buy(i):
        visitor, site, form = buyers[i]
        start.wait()
        results[i] = visitor.post(site, "/checkout", form).status_code

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(status is not None and status < 500 for status in results), results
    orders = db.session.scalar(sa.select(sa.func.count(sa.distinct(OrderLine.order_id)))
                               .where(OrderLine.variant_id == variant_id))
    stock = db.session.scalar(sa.select(Variant.stock).where(Variant.id == variant_id))
    db.session.close()
    assert (orders, stock) == (STOCK, 0), results
    assert results.count(303) == STOCK, results
