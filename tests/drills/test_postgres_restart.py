"""Drill: PostgreSQL restarted while the site is under traffic.

While the database is down /healthz says 503 at once and pages answer an error page, never hang; after the
restart every request succeeds without restarting the app (``pool_pre_ping`` replaces the dead connections).
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from tests.drills.conftest import make_catalog
from tests.drills.harness import wait_until

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


class Traffic:
    """Visitors in threads, each requesting pages in a loop; every answer is recorded with its start time."""

    def __init__(self, site, paths: list[str], visitors: int = 4):
        self.site, self.paths = site, paths
        self.results: list[tuple[float, float, str, object]] = []  # (start, seconds, path, status or error)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(visitors)]

    def _run(self, n: int) -> None:
        with requests.Session() as http:
            i = n
            while not self._stop.is_set():
                path = self.paths[i % len(self.paths)]
                i += 1
                start = time.monotonic()
                try:
                    outcome = http.get(self.site.base + path, timeout=30, allow_redirects=False).status_code
                except requests.RequestException as exc:
                    outcome = exc
                with self._lock:
                    self.results.append((start, time.monotonic() - start, path, outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def since(self, moment: float) -> list:
        with self._lock:
            return [r for r in self.results if r[0] >= moment]

    def between(self, start: float, end: float) -> list:
        with self._lock:
            return [r for r in self.results if start <= r[0] and r[0] + r[1] <= end]


def test_postgresql_restarted_under_traffic(drill, serve):
    catalog = make_catalog()
    site = serve(drill)
    workers = site.worker_pids()
    paths = ["/", catalog.product_paths[0], "/products", "/api/v1/products", "/healthz"]
    with Traffic(site, paths) as traffic:
        wait_until(lambda: len(traffic.results) >= 20, timeout=60, what="traffic before the restart")
        assert {r[3] for r in traffic.results} == {200}

        down = time.monotonic()
        drill.pg.stop("fast")  # terminates every connection, as a restart or failover does
        stopped = time.monotonic()
        health = site.get("/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "error"
        product = site.get(paths[1], timeout=30)  # needs the database: "try again shortly", not a server error
        assert product.status_code == 503 and "thử lại" in product.text
        api = site.get(paths[3], timeout=30)
        assert api.status_code == 503 and api.json()["error"]["code"] == "service_unavailable"
        # "/" and "/products" are made of fragments rendered before the stop: one worker, no Redis, so the
        # fragments and the catalog version live in that process and the pages are served without the
        # database. The product page and the API need the database: 503 with Retry-After, never a 500.
        for path in ("/", "/products"):
            response = site.get(path, timeout=30)
            assert response.status_code == 200, (path, response.status_code)
            assert "Bình gốm men lam" in response.text and catalog.product_paths[0] in response.text
        for path in (paths[1], paths[3]):
            response = site.get(path, timeout=30)
            assert response.status_code == 503, (path, response.status_code)
            assert int(response.headers["Retry-After"]) > 0
            assert "Bình gốm men lam" not in response.text  # the "try again" answer, not a stale copy
        wait_until(lambda: len(traffic.between(stopped, time.monotonic())) >= 10, timeout=60,
                   what="traffic answered during the outage")
        during = traffic.between(stopped, time.monotonic())

        drill.pg.start()
        up = time.monotonic()
        # the very first requests after the restart succeed: no restart of the app, no error page
        for path in paths:
            assert site.get(path).status_code == 200, path
        wait_until(lambda: len(traffic.since(up)) >= 40, timeout=90, what="traffic after the restart")
    after = traffic.since(up)
    assert {r[3] for r in after} == {200}, sorted({str(r[3]) for r in after})
    assert {r[3] for r in during} <= {200, 503}, sorted({str(r[3]) for r in during})  # never a 500
    by_path = {path: {r[3] for r in during if r[2] == path} for path in paths}
    assert by_path == {"/": {200}, paths[1]: {503}, "/products": {200}, paths[3]: {503}, "/healthz": {503}}, by_path
    assert not [r for r in traffic.results if isinstance(r[3], Exception)]  # nothing hung or was dropped
    assert site.worker_pids() == workers  # the same worker process served before, during and after
    slowest = max(r[1] for r in during)
    statuses = Counter(r[3] for r in during)
    print(f"outage {up - down:.2f} s; {len(during)} requests during it {dict(statuses)} (slowest {slowest:.2f} s), "
          f"{len(after)} after it, all 200")
    assert "unhandled error" not in site.log_tail(100_000)
