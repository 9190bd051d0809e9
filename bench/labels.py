"""Provenance label sheet for a 200-product shop (A4, 24 labels a sheet → 9 sheets).

Measured in one run on a SQLite catalog (one shop, 200 products with a maker): the baseline
``qr only`` makes the 200 QR codes with segno; ``pdf`` is what ``/seller/labels/sheet.pdf`` does (load the
products, build the labels, draw the QR codes as vector squares and the text with fpdf2); ``html`` is the
print page (``/seller/labels/sheet``, inline SVG), both through the test client with a signed-in artisan.
Median of 5 after one warm-up. Run alone: ``python bench/labels.py``.

Measured 2026-12-07 on the shared 2-core machine under load (load average ~8): qr only 2.05 s, PDF 5.67 s
(181 KB, 9 pages), HTML 3.63 s. Most of it is segno choosing each code's mask (pure Python, ~10 ms a code).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTS = 200
REPEAT = int(os.environ.get("BENCH_REPEAT", 5))


def median_time(fn) -> float:
    fn()
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import segno

    from config import TestingConfig
    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.makers import labels
    from marketplace.makers.models import Maker
    from tests.factories import make_product, make_shop

    data_dir = tempfile.mkdtemp(prefix="bench-labels-")

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{data_dir}/bench.sqlite"
        DATA_DIR = data_dir

    app = create_app(Config)
    with app.app_context():
        db.create_all()
        shop = make_shop()
        maker = Maker(shop_id=shop.id, name="Nguyễn Văn Quý", honour_title="nghe_nhan_ha_noi",
                      honour_decision="QĐ minh hoạ")
        db.session.add(maker)
        db.session.flush()
        for n in range(PRODUCTS):
            make_product(shop=shop, title_vi=f"Bình gốm men lam vẽ tay số {n}", maker_id=maker.id,
                         ocop_stars=4 if n % 3 == 0 else None)
        db.session.commit()
        owner = shop.owner.get_id()
        with app.test_request_context():
            urls = [labels.short_url(p.id) for p in labels.label_products(shop)]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["_id"] = owner, True, "bench"
    sizes = {}

    def qr_only():
        for url in urls:
            segno.make_qr(url, error="m").matrix  # noqa: B018

    def pdf():
        response = client.get("/seller/labels/sheet.pdf")
        assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
        sizes["pdf"] = len(response.data)

    def html():
        response = client.get("/seller/labels/sheet")
        assert response.status_code == 200
        sizes["html"] = len(response.data)

    base = median_time(qr_only)
    rows = [("qr only (segno, 200 codes)", base, None), ("pdf sheet (9 pages)", median_time(pdf), "pdf"),
            ("html print page", median_time(html), "html")]
    print(f"label sheet for a {PRODUCTS}-product shop, median of {REPEAT}")
    print(f"{'what':32} {'seconds':>9} {'× qr only':>10} {'bytes':>10}")
    for name, seconds, key in rows:
        print(f"{name:32} {seconds:9.3f} {seconds / base:10.2f} {sizes.get(key, ''):>10}")


if __name__ == "__main__":
    main()
