"""Uploads: (1) a 12-MP photo with background jobs (``bench/_photo_jobs.py``: the upload answers before the
derivatives exist; the worker's derivative work against the naive pipeline); (2) does the site keep
answering while two artisans upload the largest allowed imports at once? ``python bench/uploads.py photo``
runs only the first part.

Serves the app as ``make serve`` does (gunicorn, 1 worker × 8 threads, no control socket) on a temporary data
dir with the demo data (no photos). Measures ``/healthz`` and the product list (``/products``) from two
probe threads: first alone (baseline), then while two artisans each post, in a loop, the largest import the
budget allows: ``MAX_IMAGES_PER_REQUEST`` PNG photos whose decoded pixels together just fit
``MAX_IMAGE_PIXELS_PER_REQUEST`` (PNG: decoded at full size, the costliest kind), one CSV row each. Every
import uses fresh pictures (no content-hash shortcut). Prints p50/p99 of both against the baseline, and
whether p99 < 500 ms.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402  (the embedded defaults the served app uses)

BASELINE_SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
IMPORTS_PER_ARTISAN = int(os.environ.get("BENCH_IMPORTS", "3"))
GOAL_MS = 500
PASSWORD = "lang-nghe-2030"
ARTISANS = ("artisan01@demo.cholangnghe.vn", "artisan02@demo.cholangnghe.vn")
COLUMNS = ("product_ref", "title_vi", "description_vi", "price", "stock", "photos")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def largest_import(seed: int) -> tuple[bytes, bytes, int]:
    """(CSV, ZIP, decoded pixels): MAX_IMAGES_PER_REQUEST PNGs sharing MAX_IMAGE_PIXELS_PER_REQUEST."""
    files = Config.MAX_IMAGES_PER_REQUEST
    side = math.isqrt(Config.MAX_IMAGE_PIXELS_PER_REQUEST // files)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(COLUMNS)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for i in range(files):
            image = Image.linear_gradient("L").resize((side, side)).convert("RGB")
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, 0, side // 3, side // 3), fill=((seed * 37) % 256, i * 5 % 256, 90))
            draw.text((side // 2, side // 2), f"{seed}-{i}", fill=(255, 255, 255))
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            zf.writestr(f"s{seed}-{i}.png", buffer.getvalue())
            writer.writerow((f"S{seed}-{i}", f"Sản phẩm nhập thử {seed}-{i}",
                             "Sản phẩm thủ công làm tay, nhập hàng loạt để đo tải.", "150.000", "3",
                             f"s{seed}-{i}.png"))
    return rows.getvalue().encode(), archive.getvalue(), files * side * side


def login(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/account/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email,
                                                           "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 303, response.status_code
    return session


def import_once(base: str, session: requests.Session, csv_bytes: bytes, zip_bytes: bytes) -> tuple[int, float]:
    page = session.get(base + "/seller/import").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    started = time.monotonic()
    response = session.post(base + "/seller/import", data={"csrf_token": token},
                            files={"csv": ("p.csv", csv_bytes), "zip": ("p.zip", zip_bytes)},
                            allow_redirects=False, timeout=120)
    return response.status_code, time.monotonic() - started


def probe(base: str, path: str, stop: threading.Event, out: list[float], errors: list[int]) -> None:
    session = requests.Session()
    while not stop.is_set():
        started = time.monotonic()
        try:
            status = session.get(base + path, timeout=30).status_code
        except requests.RequestException:
            status = 599
        out.append((time.monotonic() - started) * 1000)
        if status != 200:
            errors.append(status)
        time.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else float("nan")


def measure(base: str, during) -> dict:
    stop = threading.Event()
    samples = {"/healthz": ([], []), "/products": ([], [])}
    threads = [threading.Thread(target=probe, args=(base, path, stop, *samples[path])) for path in samples]
    for t in threads:
        t.start()
    try:
        during()
    finally:
        stop.set()
        for t in threads:
            t.join()
    return samples


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    env = dict(os.environ, MARKETPLACE_DATA_DIR=str(data_dir), MARKETPLACE_ENV="development")
    for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "SEARCH_INDEX_DIR"):
        env.pop(name, None)
    flask = str(BIN / "flask")
    subprocess.run([flask, "db", "upgrade", "heads"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([flask, "seed-demo", "--no-images"], env=env, cwd=ROOT, check=True, capture_output=True)
    print("preparing the imports…", flush=True)
    imports = [[largest_import(a * 100 + n) for n in range(IMPORTS_PER_ARTISAN)] for a in range(len(ARTISANS))]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # as `make serve`
        [str(BIN / "gunicorn"), "--workers", "1", "--threads", "8", "--bind", f"127.0.0.1:{port}",
         "--no-control-socket", "--log-level", "warning", "wsgi:app"], env=env, cwd=ROOT)
    outcomes: list[tuple[int, float]] = []
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        for path in ("/healthz", "/products"):  # warm up
            for _ in range(10):
                requests.get(base + path)
        sessions = [login(base, email) for email in ARTISANS]
        baseline = measure(base, lambda: time.sleep(BASELINE_SECONDS))

        def uploads():
            def artisan(index):
                for csv_bytes, zip_bytes, _pixels in imports[index]:
                    outcomes.append(import_once(base, sessions[index], csv_bytes, zip_bytes))

            workers = [threading.Thread(target=artisan, args=(i,)) for i in range(len(ARTISANS))]
            for w in workers:
                w.start()
            for w in workers:
                w.join()

        started = time.monotonic()
        loaded = measure(base, uploads)
        window = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)

    csv_bytes, zip_bytes, pixels = imports[0][0]
    print(f"\nUploads vs page latency under gunicorn (1 worker × 8 threads, as make serve), SQLite demo data, "
          f"{os.cpu_count()} CPUs")
    print(f"each import: {Config.MAX_IMAGES_PER_REQUEST} PNGs, {pixels / 1e6:.1f} MP decoded "
          f"(budget {Config.MAX_IMAGE_PIXELS_PER_REQUEST / 1e6:.0f} MP), ZIP {len(zip_bytes) / 1e6:.1f} MB; "
          f"{len(ARTISANS)} artisans × {IMPORTS_PER_ARTISAN} imports at once, {window:.1f} s")
    statuses = sorted({s for s, _ in outcomes})
    print(f"import answers: {statuses}; time per import p50 {percentile([t for _, t in outcomes], 0.5):.1f} s, "
          f"max {max(t for _, t in outcomes):.1f} s")
    print(f"{'path':<12}{'n base':>8}{'p50 base':>10}{'p99 base':>10}{'n load':>8}{'p50 load':>10}"
          f"{'p99 load':>10}{'p99 ×':>8}{'errors':>8}")
    ok = all(s == 303 for s, _ in outcomes)
    for path in baseline:
        b, lo = baseline[path][0], loaded[path][0]
        p99 = percentile(lo, 0.99)
        errors = len(loaded[path][1]) + len(baseline[path][1])
        ok = ok and p99 < GOAL_MS and errors == 0
        print(f"{path:<12}{len(b):>8}{percentile(b, 0.5):>10.1f}{percentile(b, 0.99):>10.1f}{len(lo):>8}"
              f"{percentile(lo, 0.5):>10.1f}{p99:>10.1f}{p99 / percentile(b, 0.99):>8.1f}{errors:>8}")
    print(f"\np99 under {GOAL_MS} ms for /healthz and /products while importing, every import stored: {ok}")
    return 0


if __name__ == "__main__":
    from bench import _photo_jobs  # the photo part (also runnable alone)

    status = _photo_jobs.main()
    if sys.argv[1:] != ["photo"]:
        status = main() or status
    sys.exit(status)
