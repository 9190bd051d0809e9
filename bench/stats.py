"""Officials' dashboard render time at scale, against a trivial page of the same app in the same run.

Data: 400 villages, 2,000 shops, 100,000 products (half with a photo), 1,000,000 order lines in
400,000 orders over three years. Bulk-inserted into a SQLite file with ``sqlite3.executemany`` in one
transaction (about half a minute); the schema comes from the models (``db.create_all``).

Measured in process with Flask's test client (signed in as an official): the trivial page is
``/healthz`` (one ``SELECT 1``). "cold" is the first render after the cache is emptied (every aggregate
query runs), "warm" the median of later renders (results cached until the data changes). Goal: warm
dashboard ≤ 10× the trivial page.
"""
from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VILLAGES = int(os.environ.get("BENCH_VILLAGES", 400))
SHOPS = VILLAGES * 5
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", 100_000))
ORDERS = int(os.environ.get("BENCH_ORDERS", 400_000))
LINES = int(os.environ.get("BENCH_LINES", 1_000_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 30))
CATEGORIES = ("ceramics", "textiles", "lacquer", "woodwork", "bamboo_rattan", "metalwork", "embroidery", "food")


def build(path: Path) -> dict:
    from marketplace import create_app
    from marketplace.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "DATA_DIR": str(path.parent / "instance")})
    with app.app_context():
        from marketplace.accounts.models import User

        db.create_all()
        official = User(email="official@bench.vn", name="Cán bộ", role="official")
        db.session.add(official)
        db.session.commit()
        user_key = official.get_id()
        db.session.remove()
        db.engine.dispose()
    rng = random.Random(282)
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    now = datetime(2026, 11, 1, 9).isoformat(sep=" ")
    recog = ("lang_nghe", "lang_nghe_truyen_thong", "lang_nghe_truyen_thong", "none")
    con.executemany(
        "INSERT INTO craft_villages (id, slug, name_vi, commune_vi, craft_vi, category, recognition, tourism, "
        "created_at) VALUES (?,?,?,?,?,?,?,0,?)",
        [(i, f"lang-{i}", f"Làng {i}", f"xã {i % 60}", "nghề", CATEGORIES[i % len(CATEGORIES)], recog[i % 4], now)
         for i in range(1, VILLAGES + 1)])
    con.executemany(
        "INSERT INTO shops (id, village_id, name, slug, shipping_fee, verified, status, created_at) "
        "VALUES (?,?,?,?,30000,?,?,?)",
        [(i, (i % VILLAGES) + 1, f"Xưởng {i}", f"xuong-{i}", int(i % 7 != 0), "suspended" if i % 50 == 0 else "active",
          now) for i in range(1, SHOPS + 1)])
    con.executemany(
        "INSERT INTO ip_protections (id, kind, name, registration_number, village_id, created_at) VALUES (?,?,?,?,?,?)",
        [(i, "collective_mark", f"NHTT {i}", f"4-2020-{i:05d}" if i % 3 else None, i, now)
         for i in range(1, VILLAGES + 1)])
    desc = "Sản phẩm làm thủ công tại làng nghề, men tro, nung củi, mỗi chiếc một khác."
    statuses = ("active",) * 8 + ("draft", "archived")

    def product(i):
        shop = rng.randrange(1, SHOPS + 1)
        stars = rng.choice((None, None, None, None, 3, 4, 5))
        issued = date(2022 + rng.randrange(4), 1 + rng.randrange(12), 1) if stars else None
        return (i, shop, f"Sản phẩm {i}", desc if i % 3 else "ngắn", CATEGORIES[i % len(CATEGORIES)],
                statuses[i % 10], now, now, stars, issued and issued.isoformat(),
                issued and date(issued.year + 3, issued.month, 1).isoformat(),
                (shop % VILLAGES) + 1 if i % 11 == 0 else None)

    con.executemany(
        "INSERT INTO products (id, shop_id, title_vi, description_vi, category, status, created_at, updated_at, "
        "ocop_stars, ocop_issued_on, ocop_expires_on, ip_protection_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (product(i) for i in range(1, PRODUCTS + 1)))
    con.executemany(
        "INSERT INTO variants (product_id, name, sku, price, stock, position) VALUES (?,?,?,?,?,0)",
        ((i, "Tiêu chuẩn", f"SKU-{i}", 100_000 + (i % 50) * 10_000, 5) for i in range(1, PRODUCTS + 1)))
    con.executemany(
        "INSERT INTO product_images (product_id, storage_key, width, height, position, created_at) "
        "VALUES (?,?,800,800,0,?)", ((i, f"b/{i}", now) for i in range(1, PRODUCTS + 1, 2)))
    start = datetime(2024, 1, 1)
    span = (datetime(2026, 11, 1) - start).total_seconds()
    order_status = ("completed",) * 6 + ("delivered", "delivered", "cancelled", "refunded")

    def order(i):
        created = start + timedelta(seconds=int(span * (i / ORDERS) ** 0.9))
        st = order_status[rng.randrange(10)]
        delivered = (created + timedelta(days=3)).isoformat(sep=" ") if st != "cancelled" else None
        return (i, i, (i % SHOPS) + 1, st, "cod", 500_000, 0, 500_000, created.isoformat(sep=" "), delivered)

    con.executemany("INSERT INTO checkouts (id, token, payment_method, total, created_at) VALUES (?,?,'cod',0,?)",
                    ((i, f"c{i}", now) for i in range(1, ORDERS + 1)))
    con.executemany(
        "INSERT INTO orders (id, checkout_id, shop_id, status, payment_method, subtotal, shipping_fee, total, "
        "created_at, delivered_at, refunded_amount) VALUES (?,?,?,?,?,?,?,?,?,?,0)", (order(i) for i in range(1, ORDERS + 1)))
    con.executemany(
        "INSERT INTO order_lines (order_id, shop_id, village_id, title, variant_name, unit_price, quantity, "
        "refunded_amount) VALUES (?,?,?,'Bình','Lớn',?,?,0)",
        (((j % ORDERS) + 1, ((j % ORDERS) % SHOPS) + 1, ((((j % ORDERS) % SHOPS) + 1) % VILLAGES) + 1,
          100_000 + (j % 30) * 5_000, 1 + j % 3) for j in range(LINES)))
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return {"seconds": time.perf_counter() - t0, "user_key": user_key}


def _user_key(path: Path) -> str:
    from marketplace import create_app
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "DATA_DIR": str(path.parent / "instance")})
    with app.app_context():
        key = db.session.scalar(db.select(User).where(User.email == "official@bench.vn")).get_id()
        db.engine.dispose()
    return key


def _has_column(con, table: str, column: str) -> bool:
    return any(row[1] == column for row in con.execute(f"PRAGMA table_info({table})"))


def timed(client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def main() -> int:
    from marketplace import create_app
    from marketplace.officials.cache import invalidate

    keep = os.environ.get("BENCH_DB")  # reuse a database built by an earlier run (development aid)
    tmp = Path(keep).parent if keep else Path(tempfile.mkdtemp(prefix="bench-stats-"))
    db_path = Path(keep) if keep else tmp / "stats.sqlite"
    if keep and db_path.exists():
        info = {"seconds": 0.0, "user_key": _user_key(db_path)}
    else:
        info = build(db_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                      "DATA_DIR": str(tmp / "instance"), "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = info["user_key"]
        session["_fresh"] = True
    timed(client, "/healthz", 5)  # warm-up (imports, template compile)
    rows = []
    trivial = statistics.median(timed(client, "/healthz", REPEAT))
    rows.append(("/healthz (trivial page)", trivial, trivial))
    for url in ("/officials", "/officials/villages", "/api/v1/stats/indicators", "/minh-bach"):
        with app.app_context():
            invalidate()
        cold = timed(client, url, 1)[0]
        warm = statistics.median(timed(client, url, REPEAT))
        rows.append((url, cold, warm))
    print(f"data: {VILLAGES} villages, {SHOPS} shops, {PRODUCTS:,} products, {ORDERS:,} orders, "
          f"{LINES:,} order lines (SQLite, executemany bulk insert in {info['seconds']:.1f} s)")
    print(f"{'page':32} {'cold ms':>10} {'warm ms':>10} {'warm / trivial':>15}")
    for url, cold, warm in rows:
        print(f"{url:32} {cold:10.1f} {warm:10.1f} {warm / trivial:14.1f}×")
    dash = rows[1][2] / trivial
    print(f"goal: warm dashboard ≤ 10× trivial → {dash:.1f}× {'OK' if dash <= 10 else 'MISSED'}")
    if not keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
