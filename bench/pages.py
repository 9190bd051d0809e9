"""Page throughput under gunicorn (2 workers) with the demo data, measured with wrk on loopback.

Each page is compared with a bare hello route of the same app, measured in the same run.
Also prints the number of SQL statements each page issues at two page sizes (must be equal).
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DURATION = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout

    def latency(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def statement_counts(env: dict, paths: list[str]) -> dict:
    code = r'''
import json, sys
from sqlalchemy import event
from marketplace import create_app
from marketplace.extensions import db
app = create_app()
out = {}
app.config["FRAGMENT_CACHE"] = False  # count the queries a cache miss issues
with app.app_context():
    client = app.test_client()
    for path in sys.argv[1:]:
        row = []
        for per_page in (4, 48):
            app.config["PER_PAGE"] = per_page
            client.get(path)
            n = [0]
            def before(*a, **k): n[0] += 1
            event.listen(db.engine, "before_cursor_execute", before)
            client.get(path)
            event.remove(db.engine, "before_cursor_execute", before)
            row.append(n[0])
        out[path] = row
print(json.dumps(out))
'''
    import json

    result = subprocess.run([sys.executable, "-c", code, *paths], env=env, cwd=ROOT, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (make system-deps installs it)")
        return 1
    data_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = dict(os.environ, MARKETPLACE_DATA_DIR=str(data_dir), MARKETPLACE_ENV="development")
    env.pop("DATABASE_URL", None)
    flask = str(BIN / "flask")
    subprocess.run([flask, "db", "upgrade", "heads"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([flask, "seed-demo", "--no-images", "--no-reindex"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--chdir", str(ROOT), "bench._pages_app:app"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/__hello", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        product_html = urllib.request.urlopen(base + "/products").read().decode()
        product_id = re.search(r'/products/(\d+)"', product_html).group(1)
        pages = [("hello (baseline)", "/__hello"), ("home", "/"), ("product list", "/products"),
                 ("product detail", f"/products/{product_id}"), ("village", "/villages/bat-trang")]
        for _, path in pages:  # warm up every worker
            for _ in range(20):
                urllib.request.urlopen(base + path).read()
        results = [(name, path, wrk(base + path)) for name, path in pages]
    finally:
        server.terminate()
        server.wait(10)
    counts = statement_counts(env, [p for _, p in pages[1:]])
    shutil.rmtree(data_dir, ignore_errors=True)

    hello = results[0][2]["rps"]
    print(f"\nPages under gunicorn (2 workers), wrk -t2 -c{CONNECTIONS} -d{DURATION}s, SQLite demo data")
    print(f"{'page':<18}{'path':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}{'SQL @4/@48':>13}  (SQL = statements per request at 4 and 48 items per page, cache off)")
    for name, path, r in results:
        sql = counts.get(path)
        sql_text = f"{sql[0]}/{sql[1]}" if sql else "-"
        print(f"{name:<18}{path:<22}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['rps'] / hello:>9.0%}"
              f"{sql_text:>13}")
    bad = [p for p, c in counts.items() if c[0] != c[1]]
    goal = next(r for n, p, r in results if p == "/products")["rps"] / hello
    print(f"\n/products at {goal:.0%} of hello (goal ≥ 30 %); statements constant per page (cache off): {not bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
