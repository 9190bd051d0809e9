"""Officials' numbers at city scale: cold (first view after a delivery) and warm times per page, against the
trivial ``/healthz`` of the same app in the same run, on SQLite and (with ``BENCH_DATABASE_URL``) PostgreSQL.

Data at ``BENCH_SCALE=1``: 400 villages, 2,000 shops, 100,000 products (half with a photo), 400,000 orders
with 1,000,000 order lines over three years, bulk-inserted with Core ``executemany`` (model defaults
applied); the sales aggregates are then filled by ``aggregates.rebuild`` (timed) and checked by
``aggregates.verify`` (must find 0 differences). ``BENCH_SCALE=0.1`` builds a tenth of everything.

Per page (``/officials``, ``/officials/villages``, ``/api/v1/stats/indicators``, ``/minh-bach``):

* cold: a real delivery (``orders.services.deliver_order`` in its own transaction: the change feed empties
  the stats cache), then one render — the median of ``BENCH_COLD`` such pairs; once reading the aggregates,
  once summing every order line (``_sales_by(raw=True)``, what the indicators did before);
* warm: the median of ``BENCH_REPEAT`` renders with the cache full.

Then the cost of the aggregates to a checkout (``place_checkout``, cash on delivery) and to a delivery
(``deliver_order``): the median time with the ``before_commit`` hook and without it.
Goals (issue 20): cold ≤ 300 ms on every page; warm ≤ 10× trivial; checkout/delivery ≤ +10 %.

``BENCH_DATABASE_URL=postgresql://…/<db>``: the database is created if missing and its tables are dropped and
recreated (use a database of its own). ``BENCH_SQLITE=0`` skips SQLite.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
VILLAGES = max(20, int(400 * SCALE))
SHOPS = VILLAGES * 5
PRODUCTS = max(1000, int(100_000 * SCALE))
ORDERS = max(4000, int(400_000 * SCALE))
LINES = int(ORDERS * 2.5)
REPEAT = int(os.environ.get("BENCH_REPEAT", 20))
COLD = int(os.environ.get("BENCH_COLD", 3))
OPS = int(os.environ.get("BENCH_OPS", 40))
CHUNK = 20_000
CATEGORIES = ("ceramics", "textiles", "lacquer", "woodwork", "bamboo_rattan", "metalwork", "embroidery", "food")
PAGES = ("/officials", "/officials/villages", "/api/v1/stats/indicators", "/minh-bach")


def make_app(uri: str, data_dir: str):
    from marketplace import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "DATA_DIR": data_dir,
                       "WTF_CSRF_ENABLED": False, "SEARCH_ENABLED": False, "STATS_AS_OF": date(2026, 11, 1)})


def _chunks(rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def build(app) -> dict:
    """Fill the database (its tables dropped and recreated). Returns the ids the timing needs."""
    from marketplace.accounts.models import User
    from marketplace.catalog.models import CraftVillage, IpProtection, Product, ProductImage, Variant
    from marketplace.extensions import db
    from marketplace.orders.models import Checkout, Order, OrderLine
    from marketplace.shops.models import Shop

    rng = random.Random(282)
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        conn = db.session.connection()
        now = datetime(2026, 11, 1, 2)
        recog = ("lang_nghe", "lang_nghe_truyen_thong", "lang_nghe_truyen_thong", "none")

        def insert(model, rows):
            for batch in _chunks(rows):
                conn.execute(sa.insert(model.__table__), batch)

        insert(CraftVillage, ({"id": i, "slug": f"lang-{i}", "code": f"lang-{i}", "name_vi": f"Làng {i}",
                               "commune_vi": f"xã {i % 60}", "craft_vi": "nghề",
                               "category": CATEGORIES[i % len(CATEGORIES)], "recognition": recog[i % 4],
                               "created_at": now} for i in range(1, VILLAGES + 1)))
        insert(Shop, ({"id": i, "village_id": (i % VILLAGES) + 1, "name": f"Xưởng {i}", "slug": f"xuong-{i}",
                       "verified": i % 7 != 0, "status": "suspended" if i % 50 == 0 else "active",
                       "created_at": now} for i in range(1, SHOPS + 1)))
        insert(IpProtection, ({"id": i, "kind": "collective_mark", "name": f"NHTT {i}", "status": "verified",
                               "registration_number": f"4-2020-{i:05d}" if i % 3 else None, "village_id": i,
                               "created_at": now} for i in range(1, VILLAGES + 1)))
        desc = "Sản phẩm làm thủ công tại làng nghề, men tro, nung củi, mỗi chiếc một khác."
        statuses = ("active",) * 8 + ("draft", "archived")

        def product(i):
            shop = rng.randrange(1, SHOPS + 1)
            stars = rng.choice((None, None, None, None, 3, 4, 5))
            issued = date(2022 + rng.randrange(4), 1 + rng.randrange(12), 1) if stars else None
            return {"id": i, "shop_id": shop, "title_vi": f"Sản phẩm {i}", "description_vi": desc if i % 3 else "ngắn",
                    "category": CATEGORIES[i % len(CATEGORIES)], "status": statuses[i % 10], "created_at": now,
                    "updated_at": now, "ocop_stars": stars, "ocop_issued_on": issued,
                    "ocop_status": "verified" if stars and i % 4 else "declared",
                    "ocop_expires_on": issued and date(issued.year + 3, issued.month, 1),
                    "ip_protection_id": (shop % VILLAGES) + 1 if i % 11 == 0 else None}

        insert(Product, (product(i) for i in range(1, PRODUCTS + 1)))
        insert(Variant, ({"product_id": i, "name": "Tiêu chuẩn", "sku": f"SKU-{i}", "price": 100_000 + (i % 50) * 10_000,
                          "stock": 1000, "position": 0} for i in range(1, PRODUCTS + 1)))
        insert(ProductImage, ({"product_id": i, "storage_key": f"b/{i}", "width": 800, "height": 800, "position": 0,
                               "created_at": now} for i in range(1, PRODUCTS + 1, 2)))
        start = datetime(2024, 1, 1)
        span = (datetime(2026, 10, 25) - start).total_seconds()
        order_status = ("completed",) * 6 + ("delivered", "delivered", "cancelled", "refunded")
        insert(Checkout, ({"id": i, "token": f"c{i}", "payment_method": "cod", "total": 0, "created_at": now}
                          for i in range(1, ORDERS + 1)))

        def order(i):
            created = start + timedelta(seconds=int(span * (i / ORDERS) ** 0.9))
            st = order_status[rng.randrange(10)]
            return {"id": i, "checkout_id": i, "shop_id": (i % SHOPS) + 1, "status": st, "payment_method": "cod",
                    "subtotal": 500_000, "shipping_fee": 0, "total": 500_000, "created_at": created,
                    "delivered_at": created + timedelta(days=3) if st != "cancelled" else None, "refunded_amount": 0}

        insert(Order, (order(i) for i in range(1, ORDERS + 1)))
        insert(OrderLine, ({"order_id": (j % ORDERS) + 1, "shop_id": ((j % ORDERS) % SHOPS) + 1,
                            "village_id": ((((j % ORDERS) % SHOPS) + 1) % VILLAGES) + 1, "title": "Bình",
                            "variant_name": "Lớn", "unit_price": 100_000 + (j % 30) * 5_000, "quantity": 1 + j % 3,
                            "refunded_amount": 0} for j in range(LINES)))
        official = User(email="official@bench.vn", name="Cán bộ", role="official")
        admin = User(email="admin@bench.vn", name="Quản trị", role="admin")
        db.session.add_all([official, admin])
        db.session.commit()
        load = time.perf_counter() - t0
        if db.engine.dialect.name == "postgresql":
            for table in ("craft_villages", "shops", "ip_protections", "products", "checkouts", "orders"):
                db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                           f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        return {"load": load, "official": official.get_id(), "admin": admin.id}


def rebuild_and_verify(app) -> tuple[float, float, int, tuple[int, int]]:
    from marketplace.extensions import db
    from marketplace.officials import aggregates

    with app.app_context():
        t = time.perf_counter()
        rows = aggregates.rebuild(db.session.connection())
        db.session.commit()
        rebuild_s = time.perf_counter() - t
        t = time.perf_counter()
        differences = aggregates.verify(db.session.connection())
        db.session.rollback()
        return rebuild_s, time.perf_counter() - t, len(differences), rows


SELLABLE: list[int] = []


def sellable(app) -> list[int]:
    """Variant ids of products on sale (the checkout refuses the others)."""
    from marketplace.catalog.models import Product, Variant, visible_products_clause
    from marketplace.extensions import db
    from marketplace.shops.models import Shop

    with app.app_context():
        return list(db.session.scalars(sa.select(Variant.id).join(Product, Product.id == Variant.product_id)
                                       .join(Shop, Shop.id == Product.shop_id).where(visible_products_clause())
                                       .order_by(Variant.id).limit(2000)))


class Shipped:
    """Orders placed and shipped ahead (not timed), delivered one by one by the timing."""

    def __init__(self, app, admin_id: int, n: int):
        from marketplace.accounts.models import User
        from marketplace.core import uow
        from marketplace.extensions import db
        from marketplace.orders import services

        self.app, self.admin_id, self.ids, self.delivered = app, admin_id, [], []
        with app.app_context():
            admin = db.session.get(User, admin_id)
            for i in range(n):
                with uow.transaction():
                    checkout = services.place_checkout(None, {SELLABLE[(i * 37) % len(SELLABLE)]: 1}, address(), "cod",
                                                       uuid.uuid4().hex)
                    order = checkout.orders[0]
                    services.ship_order(admin, order, "VNPost", f"VN{i}")
                    self.ids.append(order.id)

    def deliver(self) -> float:
        from marketplace.accounts.models import User
        from marketplace.core import uow
        from marketplace.extensions import db
        from marketplace.orders import services
        from marketplace.orders.models import Order

        with self.app.app_context():
            order_id = self.ids.pop()
            self.delivered.append(order_id)
            t = time.perf_counter()
            with uow.transaction():
                services.deliver_order(db.session.get(User, self.admin_id), db.session.get(Order, order_id))
            return (time.perf_counter() - t) * 1000


def address():
    from marketplace.orders import services

    return services.Address(recipient_name="Bench", phone="0912345678", province="Thành phố Hà Nội",
                            ward="Xã Bát Tràng", street="1", email="bench@example.vn")


def checkout_ms(app) -> float:
    from marketplace.core import uow
    from marketplace.orders import services

    with app.app_context():
        t = time.perf_counter()
        with uow.transaction():
            services.place_checkout(None, {random.choice(SELLABLE): 1}, address(), "cod", uuid.uuid4().hex)
        return (time.perf_counter() - t) * 1000


def timed(client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def measure(label: str, app, info: dict) -> list[str]:
    from sqlalchemy import event

    from marketplace.extensions import db
    from marketplace.officials import aggregates
    from marketplace.officials import indicators as ind

    rebuild_s, verify_s, differences, (day_rows, month_rows) = rebuild_and_verify(app)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = info["official"]
        session["_fresh"] = True
    timed(client, "/healthz", 5)
    trivial = statistics.median(timed(client, "/healthz", REPEAT))
    SELLABLE[:] = sellable(app)
    shipped = Shipped(app, info["admin"], COLD * len(PAGES) * 2 + 2 * OPS + 4)
    out = [f"## {label}: {VILLAGES} villages, {SHOPS} shops, {PRODUCTS:,} products, {ORDERS:,} orders, "
           f"{LINES:,} order lines (BENCH_SCALE={SCALE:g}); load {info['load']:.0f} s, aggregates rebuilt in "
           f"{rebuild_s:.1f} s ({day_rows:,} day rows, {month_rows:,} month rows), verify {verify_s:.1f} s: "
           f"{differences} differences",
           f"{'page':28} {'cold raw ms':>12} {'cold agg ms':>12} {'warm ms':>9} {'cold/triv':>10} {'warm/triv':>10}",
           f"{'/healthz (trivial)':28} {'':>12} {'':>12} {trivial:9.1f}"]
    agg_sales = ind._sales_by
    def raw_sales(key, as_of, raw=False):
        return agg_sales(key, as_of, True)

    ok = differences == 0
    for url in PAGES:
        timed(client, url, 1)
        colds = {}
        for name, fn in (("raw", raw_sales), ("agg", agg_sales)):
            ind._sales_by = fn
            samples = []
            for _ in range(COLD):
                shipped.deliver()
                samples.append(timed(client, url, 1)[0])
            colds[name] = statistics.median(samples)
        ind._sales_by = agg_sales
        warm = statistics.median(timed(client, url, REPEAT))
        ok = ok and colds["agg"] <= 300 and warm <= 10 * trivial
        out.append(f"{url:28} {colds['raw']:12.1f} {colds['agg']:12.1f} {warm:9.1f} {colds['agg'] / trivial:9.1f}× "
                   f"{warm / trivial:9.1f}×")
    # The cost of the aggregates: the same operations with and without the before_commit hook.
    costs = {}
    for hooked in (True, False, True, False):
        if not hooked:
            event.remove(db.session, "before_commit", aggregates.before_commit)
        shipped.delivered.clear()
        c = [checkout_ms(app) for _ in range(OPS // 2)]
        d = [shipped.deliver() for _ in range(OPS // 2)]
        if not hooked:
            aggregates.install()
            with app.app_context():  # what the unhooked deliveries left out (not timed)
                aggregates.refresh(db.session.connection(), shipped.delivered)
                db.session.commit()
        prev = costs.get(hooked, ([], []))
        costs[hooked] = (prev[0] + c, prev[1] + d)
    for i, op in enumerate(("checkout", "delivery")):
        with_ms, without_ms = statistics.median(costs[True][i]), statistics.median(costs[False][i])
        ratio = with_ms / without_ms
        ok = ok and ratio <= 1.10
        out.append(f"{op:10} with aggregates {with_ms:7.2f} ms, without {without_ms:7.2f} ms → {ratio:.3f}×")
    after = len(_verify(app))
    out.append(f"verify after the timed deliveries: {after} differences")
    out.append(f"goals (cold ≤ 300 ms, warm ≤ 10× trivial, ≤ +10 % per operation, 0 differences): "
               f"{'MET' if ok and after == 0 else 'MISSED'}")
    return out


def _verify(app):
    from marketplace.extensions import db
    from marketplace.officials import aggregates

    with app.app_context():
        differences = aggregates.verify(db.session.connection())
        db.session.rollback()
        return differences


def pg_uri() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return None
    target = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)
                                if url.startswith("postgresql://") else url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-stats-"))
    targets = []
    if os.environ.get("BENCH_SQLITE", "1") != "0":
        targets.append(("SQLite", f"sqlite:///{tmp / 'stats.sqlite'}"))
    uri = pg_uri()
    if uri:
        targets.append(("PostgreSQL", uri))
    for label, target in targets:
        app = make_app(target, str(tmp / "instance"))
        info = build(app)
        for line in measure(label, app, info):
            print(line, flush=True)
        with app.app_context():
            from marketplace.extensions import db

            db.session.remove()
            db.engine.dispose()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
