"""Photo pipeline: a 12-megapixel phone JPEG → every derivative (320/800/1600 px, WebP + JPEG).

Two pipelines, measured in the same run, each in its own subprocess (so peak memory is its own):

* ``naive``: decode the full 4000×3000 image, apply EXIF orientation, copy into a clean image, then for each
  size resize from the full image and encode WebP + JPEG (what ``store_derivatives`` did before).
* ``app``: what an upload runs, ``marketplace.media.images.ingest_upload`` — header checks, JPEG decoded
  at reduced size with ``Image.draft`` (4000×3000 → 2000×1500), then each size resized from the previous one.

Both write their files to a fresh media folder every iteration. Time: median of 10 (after one warm-up).
Memory: peak RSS of the subprocess (``ru_maxrss``) minus its RSS after start-up, and ``tracemalloc``'s
peak for the Python-level allocations. Also: the time to refuse pixel-bomb headers (median of 2,000).
Goal: app ≤ 0.7× naive time and ≤ 100 MiB peak; bombs refused in < 1 ms before decoding.
"""
from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEAT = int(os.environ.get("BENCH_REPEAT", 10))
WIDTH, HEIGHT = 4000, 3000


def make_photo(path: Path) -> None:
    """A 12 MP JPEG with photo-like detail (noise over gradients) and EXIF orientation + GPS, like a phone's."""
    from PIL import Image

    noise = Image.effect_noise((WIDTH // 2, HEIGHT // 2), 48).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    image = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient.rotate(90), 0.5)))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 55.0, 12.0)}
    image.save(path, "JPEG", quality=90, exif=exif, comment=b"bench")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def naive_encode(image) -> dict[str, bytes]:
    """The encoder settings of the original pipeline (WebP method 4, progressive optimized JPEG), kept here so
    that the baseline does not move when the app's encoder changes."""
    out = {}
    for fmt, pil_format, options in (("webp", "WEBP", {"quality": 80, "method": 4}),
                                     ("jpg", "JPEG", {"quality": 82, "optimize": True, "progressive": True})):
        buffer = io.BytesIO()
        image.save(buffer, pil_format, **options)
        out[fmt] = buffer.getvalue()
    return out


def naive_pipeline(data: bytes, media_root: Path, sizes) -> None:
    import hashlib

    from PIL import Image, ImageOps

    from marketplace.media.images import clean_copy

    image = Image.open(io.BytesIO(data))
    image.load()
    image = clean_copy(ImageOps.exif_transpose(image))
    digest = hashlib.sha256(image.tobytes()).hexdigest()[:24]
    for size in sizes:
        derived = image.copy()
        derived.thumbnail((size, size), Image.Resampling.LANCZOS)
        for fmt, payload in naive_encode(derived).items():
            path = media_root / f"{digest}-{size}.{fmt}"
            path.write_bytes(payload)


def worker(variant: str, photo: Path) -> dict:
    from marketplace import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-images-"))
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'x.sqlite'}",
                      "SEARCH_ENABLED": False})
    data = photo.read_bytes()
    times = []
    with app.app_context():
        from marketplace.media.images import ingest_upload

        sizes = app.config["MEDIA_SIZES"]
        base_rss = rss_mib()
        tracemalloc.start()
        for i in range(REPEAT + 1):
            media = tmp / f"media-{i}"
            media.mkdir()
            app.config["MEDIA_ROOT"] = str(media)
            t0 = time.perf_counter()
            if variant == "naive":
                naive_pipeline(data, media, sizes)
            else:
                ingest_upload(data)
            elapsed = time.perf_counter() - t0
            if i:  # the first run warms caches
                times.append(elapsed)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        files = sorted(p.name.rsplit("-", 1)[1] for p in media.rglob("*") if p.is_file())
    return {
        "median": statistics.median(times), "min": min(times), "max": max(times),
        "rss_peak": rss_mib(), "rss_delta": rss_mib() - base_rss, "traced_peak": traced_peak / 2**20,
        "files": files,
    }


def bomb_worker() -> dict:
    from marketplace import create_app
    from marketplace.media.images import ImageRejected, open_checked
    from tests.seller.imagegen import png_bomb_header

    tmp = Path(tempfile.mkdtemp(prefix="bench-bomb-"))
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'x.sqlite'}"})
    out = {}
    with app.test_request_context():
        for label, header in (("20000×20000 PNG header (400 MP)", png_bomb_header(20000, 20000)),
                              ("10000×10000 PNG header (100 MP)", png_bomb_header(10000, 10000)),
                              ("7000×6000 PNG header (42 MP, just over the 40 MP cap)", png_bomb_header(7000, 6000))):
            times = []
            rss_before = rss_mib()
            for _ in range(2000):
                t0 = time.perf_counter()
                try:
                    open_checked(header)
                except ImageRejected:
                    pass
                else:
                    raise SystemExit(f"{label} was not refused")
                times.append(time.perf_counter() - t0)
            out[label] = {"median_us": statistics.median(times) * 1e6, "max_us": max(times) * 1e6,
                          "rss_growth": rss_mib() - rss_before, "bytes": len(header)}
    return out


def run_sub(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"worker {args} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "phone.jpg"
        make_photo(photo)
        size_mb = photo.stat().st_size / 2**20
        naive = run_sub("--worker", "naive", str(photo))
        app = run_sub("--worker", "app", str(photo))
        bombs = run_sub("--bombs")
    print(f"Photo: {WIDTH}×{HEIGHT} JPEG ({WIDTH * HEIGHT / 1e6:.0f} MP, {size_mb:.1f} MiB, EXIF Orientation=6 + GPS) "
          f"→ {len(app['files'])} files ({', '.join(app['files'])}); median of {REPEAT}, one subprocess per pipeline")
    print()
    header = f"{'pipeline':<40} {'median s':>9} {'min s':>7} {'× naive':>8} {'peak RSS MiB':>13} {'Δ RSS MiB':>10} {'tracemalloc MiB':>16}"
    print(header)
    print("-" * len(header))
    for name, row in (("naive (full decode, resize each size)", naive), ("app: ingest_upload (draft + cascade)", app)):
        print(f"{name:<40} {row['median']:>9.3f} {row['min']:>7.3f} {row['median'] / naive['median']:>8.2f} "
              f"{row['rss_peak']:>13.1f} {row['rss_delta']:>10.1f} {row['traced_peak']:>16.2f}")
    print()
    print(f"{'bomb refused at open (no decoding)':<60} {'median µs':>10} {'max µs':>9} {'bytes':>6} {'RSS growth MiB':>15}")
    for label, row in bombs.items():
        print(f"{label:<60} {row['median_us']:>10.1f} {row['max_us']:>9.1f} {row['bytes']:>6} {row['rss_growth']:>15.1f}")
    print()
    ratio = app["median"] / naive["median"]
    ok_time = ratio <= 0.7
    ok_mem = app["rss_delta"] <= 100
    ok_bomb = all(r["median_us"] < 1000 for r in bombs.values())
    print(f"goals: time ≤ 0.7× naive: {'yes' if ok_time else 'NO'} ({ratio:.2f}×); "
          f"peak ≤ 100 MiB (Δ RSS): {'yes' if ok_mem else 'NO'} ({app['rss_delta']:.0f} MiB); "
          f"bombs < 1 ms: {'yes' if ok_bomb else 'NO'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], Path(sys.argv[3]))))
    elif len(sys.argv) >= 2 and sys.argv[1] == "--bombs":
        print(json.dumps(bomb_worker()))
    else:
        sys.exit(main())
