"""One instance against two: the site under gunicorn (each instance one process with 8 threads, as `make run`),
on one PostgreSQL with PostgreSQL search (``BENCH_DATABASE_URL``, default a ``bench_cluster`` database on 127.0.0.1, created if missing;
skipped if unreachable) and a private Redis (started here on a free port: rate limits, catalog version and the
shared page cache; jobs are queued there, no worker runs), photos in each instance's own folder.

Two workloads, each first against instance A alone, then split evenly over A and B:
- the product list (``/products``, anonymous: served from the shared page cache after the first render), wrk
  with ``BENCH_CONNECTIONS`` connections in total for ``BENCH_SECONDS``;
- a checkout mix: guests (threads) that each add a product to the cart, open the checkout and place a
  cash-on-delivery order, round after round.

Printed: requests (or checkouts) per second and p99 latency for one and two instances, and the ratio two/one.
On a machine with more cores than one instance uses, two instances should approach 2×; on a small shared
machine the ratio says how much the shared parts (PostgreSQL, Redis) cost, not the gain of a second host.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from config import env_value  # noqa: E402
from tests.drills.harness import PrivateRedis, ServedSite, form_value  # noqa: E402

SECONDS = int(env_value("BENCH_SECONDS", "8"))
CONNECTIONS = int(env_value("BENCH_CONNECTIONS", "16"))
BUYERS = int(env_value("BENCH_BUYERS", "8"))
PRODUCTS = 60


def pg_url() -> str | None:
    url = env_value("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_cluster")
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"skipped: PostgreSQL unreachable ({exc})")
        return None
    return url


def seed(url: str, data_dir: Path) -> list[int]:
    """A fresh schema with PRODUCTS products on sale (stock enough for the whole run); their variant ids."""
    from config import _database_url
    from marketplace import create_app
    from marketplace.extensions import db
    from tests.factories import make_product, make_shop, make_village

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(url), "DATA_DIR": str(data_dir),
                      "SEARCH_ENABLED": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        village = make_village(name_vi="Bát Tràng", slug="bat-trang")
        shops = [make_shop(village=village, slug=f"xuong-{i}") for i in range(4)]
        ids = [make_product(shops[i % 4], title_vi=f"Bình gốm số {i}", price=150_000 + i * 1000,
                            stock=1_000_000).variants[0].id for i in range(PRODUCTS)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


def wrk(urls: list[str]) -> tuple[float, float]:
    """wrk on each URL at once (connections split evenly): total req/s, worst p99 in ms."""
    per = max(1, CONNECTIONS // len(urls))
    procs = [subprocess.Popen(["wrk", "-t1", f"-c{per}", f"-d{SECONDS}s", "--latency", url],
                              stdout=subprocess.PIPE, text=True) for url in urls]
    total, p99 = 0.0, 0.0
    for proc in procs:
        out = proc.communicate()[0]
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        if bad:
            raise SystemExit(f"{bad.group(1)} answers were not 2xx/3xx: the figures would be wrong")
        total += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()
        p99 = max(p99, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit])
    return total, p99


ADDRESS = {"recipient_name": "Nguyễn Thị Lan", "phone": "0912 345 678", "province": "01", "ward": "Bát Tràng",
           "street": "Số 5, thôn 3", "note": "", "payment_method": "cod"}


def checkout_mix(sites: list[ServedSite], variant_ids: list[int]) -> tuple[float, float, int]:
    """BUYERS guests, each bound to one instance (round robin), buying one product per round for SECONDS:
    checkouts per second, p99 of a whole round (add, checkout page, place) in ms, failed rounds."""
    deadline = time.monotonic() + SECONDS
    rounds: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def guest(i: int) -> None:
        site = sites[i % len(sites)]
        n = i
        while time.monotonic() < deadline:
            http = requests.Session()
            started = time.perf_counter()
            try:
                token = form_value(http.get(site.base + "/account/login", timeout=30).text, "csrf_token")
                vid = variant_ids[n % len(variant_ids)]
                http.post(site.base + "/cart/add", data={"csrf_token": token, "variant_id": vid, "quantity": 1},
                          timeout=30, allow_redirects=False)
                page = http.get(site.base + "/checkout", timeout=30)
                placed = http.post(site.base + "/checkout", timeout=30, allow_redirects=False, data={
                    **ADDRESS, "csrf_token": token, "token": form_value(page.text, "token"),
                    "email": f"bench-{uuid.uuid4().hex[:8]}@example.vn"})
                ok = placed.status_code == 303
            except Exception:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    rounds.append(elapsed)
                else:
                    failures[0] += 1
            n += BUYERS

    threads = [threading.Thread(target=guest, args=(i,)) for i in range(BUYERS)]
    begin = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - begin
    rounds.sort()
    p99 = rounds[min(len(rounds) - 1, int(len(rounds) * 0.99))] if rounds else float("nan")
    return len(rounds) / took, p99, failures[0]


def main() -> int:
    if not shutil.which("wrk") or not shutil.which("redis-server"):
        print("skipped: needs wrk and redis-server (make system-deps installs wrk)")
        return 0
    url = pg_url()
    if url is None:
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    variant_ids = seed(url, work / "seed")
    cache = PrivateRedis()
    cache.start()
    sites: list[ServedSite] = []
    try:
        env = {"DATABASE_URL": url, "REDIS_URL": cache.url, "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
               "LOGIN_LIMIT_PER_IP": "100000 per minute", "API_RATE_LIMIT": "100000/minute",
               "MAIL_DISPATCH_AFTER_COMMIT": "false", "SEARCH_BACKEND": "postgres"}
        for name in ("a", "b"):
            data_dir = work / f"instance-{name}"
            data_dir.mkdir()
            sites.append(ServedSite(data_dir, {**env, "MARKETPLACE_DATA_DIR": str(data_dir)}))
        for site in sites:
            site.start()
        requests.get(sites[0].base + "/products", timeout=60)  # first render, stored in the shared cache
        rows = []
        one = wrk([sites[0].base + "/products"])
        two = wrk([site.base + "/products" for site in sites])
        rows.append(("product list (req/s)", one, two))
        one_c = checkout_mix(sites[:1], variant_ids)
        two_c = checkout_mix(sites, variant_ids)
        rows.append(("checkout mix (orders/s)", one_c[:2], two_c[:2]))
    finally:
        for site in sites:
            site.stop()
        cache.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nOne instance vs two (gunicorn 1 process × 8 threads each; PostgreSQL, Redis shared), "
          f"{SECONDS} s per run, wrk {CONNECTIONS} connections, {BUYERS} checkout guests")
    print(f"{'workload':<26}{'1 instance':>12}{'p99 ms':>9}{'2 instances':>13}{'p99 ms':>9}{'ratio 2/1':>11}")
    for name, (r1, p1), (r2, p2) in rows:
        print(f"{name:<26}{r1:>12.1f}{p1:>9.1f}{r2:>13.1f}{p2:>9.1f}{r2 / r1 if r1 else float('nan'):>10.2f}×")
    print(f"failed checkout rounds: {one_c[2]} (one), {two_c[2]} (two)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
