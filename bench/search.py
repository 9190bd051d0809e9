"""Search: the Whoosh backend against SQLite FTS5 on the same synthetic Vietnamese catalogs.

For each catalog size (1k, 10k, 100k products; ``BENCH_SEARCH_SIZES`` overrides) the script builds
* the Whoosh index with the production code (``marketplace.search.backend.WhooshBackend.rebuild``),
* an FTS5 table (``unicode61 remove_diacritics 2``, text folded first so đ → d as well),
then runs the same queries (at least 50: half typed with diacritics, half without) on both.

Whoosh timings are one full ``WhooshBackend.search`` call as the search page makes it: restricted
parsing, all-words matching (any-word fallback when needed), exact total, facet counts (category,
village, OCOP, price band) and the BM25F-ranked first page of 20. Every cache (term postings, match
sets, facet counts) is emptied before each query, so the p50/p95 columns are cold; "warm p50" keeps the
term postings (the match sets and facets are still recomputed). FTS5 does the
ranked first page (bm25, same field weights) and an exact count, without facets.

PostgreSQL (``SEARCH_BACKEND=postgres``, when ``BENCH_DATABASE_URL`` or else ``TEST_DATABASE_URL`` names a
PostgreSQL database): the production write code (``pg_index.rebuild``: COPY of the folded tsvectors, the
vocabulary, ANALYZE) into a schema of its own (``bench_search``, dropped afterwards), then one full
``PostgresBackend.search`` call per query, as the search page makes it: all-words matching (any-word
fallback), exact total, facet counts, the ranked first page of 20 (exact tier, ts_rank) and "did you
mean" where Whoosh computes it. "same totals" compares each engine's totals with Whoosh's.

Prints one table; ratios are each engine ÷ FTS5 measured in this run.
"""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from config import _database_url, env_value  # noqa: E402
from marketplace.demo import catalog_data as data  # noqa: E402
from marketplace.demo.seed import village_rows  # noqa: E402
from marketplace.search import pg_index  # noqa: E402
from marketplace.search.analysis import fold_text  # noqa: E402
from marketplace.search.backend import WhooshBackend  # noqa: E402
from marketplace.search.documents import stamp  # noqa: E402
from marketplace.search.models import SearchDocument, SearchTerm  # noqa: E402
from marketplace.search.parsing import parse_query  # noqa: E402
from marketplace.search.pg_backend import PostgresBackend  # noqa: E402

PG_URL = _database_url(env_value("BENCH_DATABASE_URL") or env_value("TEST_DATABASE_URL"))
PG_SCHEMA = "bench_search"
SIZES = [int(s) for s in os.environ.get("BENCH_SEARCH_SIZES", "1000,10000,100000").split(",") if s.strip()]
REPEAT = int(os.environ.get("BENCH_SEARCH_REPEAT", 2))
SEED = 282

QUERIES_VI = [
    "gốm bát tràng", "lụa vạn phúc", "nón lá", "nón lá chuông", "khăn lụa tơ tằm", "bình hoa men rạn",
    "sơn mài", "khay sơn mài hạ thái", "tượng gỗ", "tượng gỗ sơn đồng", "giỏ mây đan tay", "mây tre đan",
    "trống đồng", "dao bếp rèn tay", "hương trầm", "cốm làng vòng", "bánh chưng", "chuồn chuồn tre",
    "vòng tay bạc", "tranh thêu hoa sen", "đàn bầu", "giày da", "sư tử đá", "bộ ấm chén men ngọc",
    "đĩa trang trí vẽ cá chép", "áo dài lụa", "quạt giấy",
]
QUERIES_PLAIN = [
    "gom bat trang", "lua van phuc", "non la", "non la chuong", "khan lua to tam", "binh hoa men ran",
    "son mai", "khay son mai ha thai", "tuong go", "tuong go son dong", "gio may dan tay", "may tre dan",
    "trong dong", "dao bep ren tay", "huong tram", "com lang vong", "banh chung", "chuon chuon tre",
    "vong tay bac", "tranh theu hoa sen", "dan bau", "giay da", "su tu da", "silk scarf", "conical hat",
    "lacquer box", "bronze drum",
]
QUERIES = QUERIES_VI + QUERIES_PLAIN
COLOURS = ["xanh ngọc", "đỏ son", "vàng nghệ", "nâu đất", "trắng ngà", "xanh chàm", "đen tuyền", "hồng phấn"]
EXTRAS = ["quà tặng", "trang trí", "gia đình", "phong thủy", "làm tay", "truyền thống", "cao cấp", "mẫu mới",
          "bản đặc biệt", "cỡ nhỏ", "cỡ lớn", "cổ điển", "hiện đại", "đóng hộp", "xuất khẩu"]


def templates() -> list[tuple]:
    out = []
    for name in dir(data):
        value = getattr(data, name)
        if isinstance(value, list) and value and isinstance(value[0], tuple) and len(value[0]) == 11:
            cat = {"CERAMICS": "ceramics", "TEXTILES": "textiles", "LACQUER": "lacquer", "INLAY": "lacquer",
                   "WOODWORK": "woodwork", "BAMBOO": "bamboo_rattan", "METALWORK": "metalwork",
                   "EMBROIDERY": "embroidery", "FOOD": "food", "INCENSE": "incense", "TOYS": "toys",
                   "JEWELRY": "jewelry", "PAPER": "paper_printing"}.get(name, "other")
            out.extend((cat, t) for t in value)
    return out


def catalog(n: int) -> list[dict]:
    """``n`` product documents shaped like the real ones (title vi+en, description, village, shop…)."""
    rng = random.Random(SEED + n)
    tpls = templates()
    villages = village_rows()
    makers = [m for m, _ in data.MAKERS]
    docs = []
    for i in range(1, n + 1):
        category, t = tpls[rng.randrange(len(tpls))]
        title_vi, title_en, desc_vi, desc_en, materials, technique = t[:6]
        village = villages[rng.randrange(len(villages))]
        colour, extra = rng.choice(COLOURS), rng.choice(EXTRAS)
        maker = rng.choice(makers)
        price = int(t[8] * rng.uniform(0.6, 1.8)) // 5000 * 5000 + 5000
        doc = {
            "id": str(i), "pid": i,
            "title": f"{title_vi} {village['name_vi']} {colour}\n{title_en} from {village['name_en'] or village['name_vi']}",
            "village": f"{village['name_vi']}\n{village['name_en']}\n{village['commune_vi']}",
            "body": f"{desc_vi} {extra}.\n{desc_en}\n{village['craft_vi']}\n{materials}\n{technique}\nXưởng {maker}",
            "category": category.encode(), "village_id": villages.index(village) + 1,
            "ocop": rng.choice([0, 0, 0, 0, 3, 4, 5]), "ocop_until": 740_000, "price": price,
            "published": 1_700_000_000 + rng.randrange(60_000_000),
        }
        doc["stamp"] = stamp(doc)
        docs.append(doc)
    return docs


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def bench_whoosh(docs: list[dict], folder: Path) -> dict:
    backend = WhooshBackend(str(folder / "whoosh"))
    began = time.perf_counter()
    backend.rebuild(iter(docs))
    build = time.perf_counter() - began
    gen = backend.generation()
    for name in ("pid", "category", "village_id", "ocop", "ocop_until", "price", "published"):
        gen.array(name)  # a running server has these cached; loading them is not per-query work
    gen.derived("band")
    gen.derived("ocop_valid")
    times, warm = [], []
    totals = {}
    for _ in range(REPEAT):
        for q in QUERIES:
            gen.clear()
            began = time.perf_counter()
            result = backend.search(parse_query(q), {}, "relevance", 1, 20)
            times.append(time.perf_counter() - began)
            totals[q] = result.total
    for q in QUERIES:  # warm: postings of the terms already read, match and facets not cached
        gen.matches.clear()
        gen.facets.clear()
        began = time.perf_counter()
        backend.search(parse_query(q), {}, "relevance", 1, 20)
        warm.append(time.perf_counter() - began)
    return {"build": build, "size": dir_size(folder / "whoosh"), "times": times, "totals": totals, "warm": warm}


def bench_postgres(docs: list[dict]) -> dict:
    """The PostgreSQL backend on ``docs``, in the schema ``bench_search`` of the bench database."""
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    admin.dispose()
    engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA},public"})
    try:
        with engine.begin() as conn:
            SearchDocument.__table__.create(conn)
            SearchTerm.__table__.create(conn)
        backend = PostgresBackend(engine)
        began = time.perf_counter()
        with engine.begin() as conn:
            pg_index.rebuild(conn, iter(docs))
        build = time.perf_counter() - began
        with engine.connect() as conn:
            size = conn.execute(sa.text(
                "SELECT pg_total_relation_size('search_documents') + pg_total_relation_size('search_terms')")).scalar()
        for q in QUERIES:  # one pass to load the pages into PostgreSQL's buffers, like a running server
            backend.search(parse_query(q), {}, "relevance", 1, 20)
        times, totals = [], {}
        for _ in range(REPEAT):
            for q in QUERIES:
                began = time.perf_counter()
                result = backend.search(parse_query(q), {}, "relevance", 1, 20)
                times.append(time.perf_counter() - began)
                totals[q] = result.total
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        engine.dispose()
    return {"build": build, "size": size, "times": times, "totals": totals}


def fts_query(q: str) -> str:
    parsed = parse_query(q)
    return " ".join('"' + fold_text(w) + '"' for w in parsed.terms)


def bench_fts5(docs: list[dict], folder: Path) -> dict:
    path = folder / "fts.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(title, village, body, "
                 "tokenize = 'unicode61 remove_diacritics 2')")
    began = time.perf_counter()
    conn.executemany("INSERT INTO fts(rowid, title, village, body) VALUES (?, ?, ?, ?)",
                     ((d["pid"], fold_text(d["title"]), fold_text(d["village"]), fold_text(d["body"])) for d in docs))
    conn.commit()
    build = time.perf_counter() - began
    times = []
    totals = {}
    for _ in range(REPEAT):
        for q in QUERIES:
            match = fts_query(q)
            began = time.perf_counter()
            rows = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 3.0, 2.0, 1.0) LIMIT 20",
                                (match,)).fetchall()
            total = conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]
            times.append(time.perf_counter() - began)
            totals[q] = total
            del rows
    conn.close()
    return {"build": build, "size": path.stat().st_size, "times": times, "totals": totals}


def main() -> int:
    assert len(QUERIES) >= 50
    rows = []
    for n in SIZES:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-search-{n}-"))
        try:
            docs = catalog(n)
            fts = bench_fts5(docs, folder)
            whoosh = bench_whoosh(docs, folder)
            pg = bench_postgres(docs) if PG_URL else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        base = (n, "FTS5 (baseline)", fts["build"], fts["size"] / 1e6, statistics.median(fts["times"]) * 1000,
                percentile(fts["times"], 95) * 1000)
        rows.append(base + (1.0, 1.0, "", float("nan")))
        for name, r in (("Whoosh", whoosh), ("PostgreSQL", pg)):
            if r is None:
                continue
            p50, p95 = statistics.median(r["times"]) * 1000, percentile(r["times"], 95) * 1000
            reference = fts if name == "Whoosh" else whoosh
            agree = sum(1 for q in QUERIES if reference["totals"][q] == r["totals"][q])
            rows.append((n, name, r["build"], r["size"] / 1e6, p50, p95, p50 / base[4], p95 / base[5],
                         f"{agree}/{len(QUERIES)}" + (" (vs FTS5)" if name == "Whoosh" else " (vs Whoosh)"),
                         statistics.median(r["warm"]) * 1000 if "warm" in r else float("nan")))
        print(f"  {n:>7,} products done", file=sys.stderr, flush=True)
    print(f"\nSearch: {len(QUERIES)} queries ({len(QUERIES_VI)} with diacritics, {len(QUERIES_PLAIN)} without), "
          f"each run {REPEAT}×; Whoosh and PostgreSQL = full search (total + facets + top 20), Whoosh's caches "
          "cold per query")
    if not PG_URL:
        print("(PostgreSQL rows skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
    header = (f"{'products':>9} | {'engine':<15} | {'build s':>8} | {'size MB':>8} | {'p50 ms':>7} | {'p95 ms':>7} | "
              f"{'p50 ×':>6} | {'p95 ×':>6} | {'warm p50':>8} | same totals")
    print(header)
    print("-" * len(header))
    for n, name, build, size, p50, p95, r50, r95, agree, warm in rows:
        warm_text = "" if warm != warm else f"{warm:.2f}"
        print(f"{n:>9,} | {name:<15} | {build:>8.2f} | {size:>8.1f} | {p50:>7.2f} | {p95:>7.2f} | "
              f"{r50:>6.1f} | {r95:>6.1f} | {warm_text:>8} | {agree}")
    try:
        load = os.getloadavg()[0]
        print(f"(load average during the run: {load:.1f} on {os.cpu_count()} CPUs)")
    except OSError:  # pragma: no cover
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
