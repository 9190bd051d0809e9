"""A 12-megapixel phone photo uploaded through the seller's photo form, with background jobs (RQ).

Serves the app as ``make run`` does (gunicorn, 1 worker × 8 threads) on a temporary SQLite data dir, once
without Redis (inline: the request makes the derivatives, as before) and once with ``REDIS_URL`` and one
``flask worker`` running (the request checks the header, keeps the bytes and answers; the worker makes the
derivatives). Each upload is a different 4000×3000 JPEG (fresh pixels, so no content-hash shortcut).

Prints, measured in this run: the upload's answer time (p50, max) in both modes and their ratio; whether
the placeholder shows; the time until every derivative exists; the worker's derivative work per photo —
the CPU seconds of each ``media.derivatives`` job (``cpu_seconds`` in its rq meta: the whole job, loading
the bytes, decoding, rendering, writing the files, committing) — against the naive pipeline (full decode,
each size resized from the full image, the original encoder settings) on the same photos in this process,
also in CPU seconds (wall times are printed too; on a shared machine they mostly measure the load).
Goals: upload ≤ 300 ms with a worker; derivative work ≤ 0.4× naive.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

PHOTOS = int(os.environ.get("BENCH_PHOTOS", "6"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PASSWORD = "lang-nghe-2030"
EMAIL = "bench-artisan@example.vn"
UPLOAD_GOAL_MS = 300
WORK_GOAL = 0.4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photos(n: int) -> list[bytes]:
    """``n`` distinct 12 MP JPEGs with EXIF orientation, like a phone's (bench/images.py's photo, marked)."""
    from bench.images import make_photo

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phone.jpg"
        make_photo(path)
        base = Image.open(path)
        exif = base.getexif()
        base.load()
    out = []
    for i in range(n):
        image = base.copy()
        ImageDraw.Draw(image).rectangle((40 * i, 40 * i, 40 * i + 600, 40 * i + 400), fill=(20 * i % 256, 90, 160))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90, exif=exif)
        out.append(buffer.getvalue())
    return out


def setup(data_dir: Path) -> dict:
    env = dict(os.environ, MARKETPLACE_DATA_DIR=str(data_dir), MARKETPLACE_ENV="development")
    for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "SEARCH_INDEX_DIR"):
        env.pop(name, None)
    subprocess.run([str(BIN / "flask"), "db", "upgrade", "heads"], env=env, cwd=ROOT, check=True, capture_output=True)
    script = f"""
from marketplace import create_app
from marketplace.accounts.passwords import hash_password
from marketplace.extensions import db
from tests.factories import make_product, make_shop, make_user
app = create_app()
with app.app_context():
    user = make_user("artisan", email={EMAIL!r}, password_hash=hash_password({PASSWORD!r}))
    shop = make_shop(owner=user)
    ids = [make_product(shop=shop).id for _ in range({2 * PHOTOS})]
    db.session.commit()
    print(",".join(map(str, ids)))
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    env["_PRODUCTS"] = done.stdout.strip().splitlines()[-1]
    return env


def serve(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "1", "--threads", "8", "--bind",
                               f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning", "wsgi:app"],
                              env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            requests.get(base + "/healthz", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.2)
    return server, base


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/account/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
                            allow_redirects=False)
    assert response.status_code == 303, response.status_code
    return session


CPU_MS: list[float] = []  # server CPU of each upload request (the gunicorn worker's utime + stime)


def _server_cpu(pid: int) -> float:
    """CPU milliseconds used so far by gunicorn's worker process (the master's child)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def upload(base: str, session: requests.Session, product_id: int, data: bytes, server_pid: int) -> float:
    url = f"{base}/seller/products/{product_id}/photos"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(url).text).group(1)
    cpu_before = _server_cpu(server_pid)
    started = time.perf_counter()
    response = session.post(url, data={"csrf_token": token}, files={"photos": ("phone.jpg", data, "image/jpeg")},
                            allow_redirects=False, timeout=120)
    elapsed = time.perf_counter() - started
    CPU_MS.append(_server_cpu(server_pid) - cpu_before)
    assert response.status_code == 303, response.status_code
    return elapsed * 1000


def processing(base: str, session: requests.Session, product_id: int) -> bool:
    return "photo-processing" in session.get(f"{base}/seller/products/{product_id}/photos").text


def naive_seconds(images: list[bytes]) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of the naive pipeline on each photo, in this process."""
    from bench.images import naive_pipeline
    from marketplace import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-naive-"))
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'x.sqlite'}"})
    wall, cpu = [], []
    with app.app_context():
        for i, data in enumerate(images):
            media = tmp / f"m{i}"
            media.mkdir()
            started, cpu_started = time.perf_counter(), time.process_time()
            naive_pipeline(data, media, app.config["MEDIA_SIZES"])
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    shutil.rmtree(tmp, ignore_errors=True)
    return wall, cpu


def main() -> int:
    print(f"preparing {2 * PHOTOS} photos…", flush=True)
    images = photos(2 * PHOTOS)
    inline_set, async_set = images[:PHOTOS], images[PHOTOS:]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-photo-jobs-"))
    conn = redis.Redis.from_url(REDIS_URL)
    for key in conn.scan_iter("rq:*"):
        conn.delete(key)
    try:
        env = setup(data_dir)
        products = [int(x) for x in env.pop("_PRODUCTS").split(",")]
        # 1. inline (no Redis): the request makes the derivatives
        server, base = serve(env)
        try:
            session = login(base)
            inline_ms = [upload(base, session, products[i], data, server.pid) for i, data in enumerate(inline_set)]
            inline_cpu = CPU_MS[:]
            CPU_MS.clear()
        finally:
            server.terminate()
            server.wait(10)
        # 2. with Redis and one worker
        env_async = dict(env, REDIS_URL=REDIS_URL)
        worker = subprocess.Popen([str(BIN / "flask"), "worker", "--no-schedule"], env=env_async, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server, base = serve(env_async)
        try:
            session = login(base)
            async_ms, shown_pending = [], []
            started = time.perf_counter()
            for i, data in enumerate(async_set):  # one after the other; the worker starts on the first at once
                product_id = products[PHOTOS + i]
                async_ms.append(upload(base, session, product_id, data, server.pid))
                shown_pending.append(processing(base, session, product_id))
            from rq.registry import FailedJobRegistry, FinishedJobRegistry

            done = FinishedJobRegistry("default", connection=conn)
            failed = FailedJobRegistry("default", connection=conn)
            while done.count + failed.count < PHOTOS:  # no page polling while the worker works
                time.sleep(0.2)
                if time.perf_counter() - started > 300:
                    raise SystemExit("derivatives not made within 300 s")
            all_ready_s = time.perf_counter() - started
            async_cpu = CPU_MS[:]
            assert not any(processing(base, session, products[PHOTOS + i]) for i in range(PHOTOS))
        finally:
            server.terminate()
            server.wait(10)
            worker.terminate()
            worker.wait(30)
        from rq.job import Job

        finished = [j for j in Job.fetch_many(FinishedJobRegistry("default", connection=conn).get_job_ids(),
                                              connection=conn) if j is not None and j.id.startswith("media-derivatives")]
        work_s = [(j.ended_at - j.started_at).total_seconds() for j in finished]
        work_cpu = [j.meta["cpu_seconds"] for j in finished]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        for key in conn.scan_iter("rq:*"):
            conn.delete(key)
    naive_s, naive_cpu = naive_seconds(async_set)

    print(f"\n12 MP photo upload ({len(async_set[0]) / 2**20:.1f} MiB JPEG, 4000×3000, EXIF orientation) through "
          f"/seller/products/<id>/photos, gunicorn 1 × 8 threads, SQLite, {os.cpu_count()} CPUs, {PHOTOS} photos each")
    print(f"{'':44}{'p50':>10}{'max':>10}")
    p50_inline, p50_async = statistics.median(inline_ms), statistics.median(async_ms)
    print(f"{'upload answer, inline (no Redis) ms':44}{p50_inline:>10.0f}{max(inline_ms):>10.0f}")
    print(f"{'upload answer, with a worker ms':44}{p50_async:>10.0f}{max(async_ms):>10.0f}")
    print(f"{'  ratio with worker / inline':44}{p50_async / p50_inline:>10.2f}")
    c_inline, c_async = statistics.median(inline_cpu), statistics.median(async_cpu)
    print(f"{'upload request server CPU, inline ms':44}{c_inline:>10.0f}{max(inline_cpu):>10.0f}")
    print(f"{'upload request server CPU, with a worker ms':44}{c_async:>10.0f}{max(async_cpu):>10.0f}")
    print(f"{'  ratio with worker / inline (CPU)':44}{c_async / c_inline:>10.2f}")
    load = os.getloadavg()[0]
    print(f"{'machine load average (1 min) at the end':44}{load:>10.1f}")
    print(f"{'placeholder shown right after the answer':44}{sum(shown_pending):>10}/{len(shown_pending)}")
    print(f"{'all derivatives made, from the first upload s':44}{all_ready_s:>10.2f}")
    w, n = statistics.median(work_cpu), statistics.median(naive_cpu)
    print(f"{'derivative work per photo, worker job CPU s':44}{w:>10.2f}{max(work_cpu):>10.2f}")
    print(f"{'naive pipeline per photo, CPU s':44}{n:>10.2f}{max(naive_cpu):>10.2f}")
    print(f"{'  ratio worker job / naive (CPU)':44}{w / n:>10.2f}")
    print(f"{'  (wall: job s, naive s, ratio)':44}{statistics.median(work_s):>10.2f}{statistics.median(naive_s):>10.2f}"
          f"{statistics.median(work_s) / statistics.median(naive_s):>8.2f}")
    print(f"\ngoals: upload ≤ {UPLOAD_GOAL_MS} ms with a worker: {'yes' if max(async_ms) <= UPLOAD_GOAL_MS else 'NO'} "
          f"(p50 {p50_async:.0f} ms, max {max(async_ms):.0f} ms wall; server CPU p50 {c_async:.0f} ms, "
          f"max {max(async_cpu):.0f} ms); derivative work ≤ {WORK_GOAL}× naive: "
          f"{'yes' if w / n <= WORK_GOAL else 'NO'} ({w / n:.2f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
