"""No request can hold a worker: the per-request image budget (files, decoded pixels), checked from the headers
before any decoding, and all or nothing across the photo form, the bulk import and the API.

The figures are the issue's: a 43 KB ZIP of 200 PNGs of 6324×6324 (just under the 40 MP per-photo cap) with
one CSV row each, and eight such PNGs through the photo form. The time bound (2 s) is functional: decoding one
of these PNGs alone takes about as long, so a refusal within it means nothing was decoded.
"""
from __future__ import annotations

import csv
import functools
import io
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from marketplace.api.services import issue_token
from marketplace.catalog.importer import COLUMNS
from marketplace.catalog.models import Product, ProductImage
from marketplace.extensions import db
from marketplace.media import images
from tests.factories import make_product
from tests.seller.imagegen import jpeg_bytes, truncated_jpeg

SIDE = 6324  # 6324² = 39 992 976 pixels: each photo alone is allowed
DESC = "Sản phẩm thủ công của làng nghề, làm hoàn toàn bằng tay."
FAST = 2.0


@functools.cache
def _black_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (SIDE, SIDE)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def big_png(n: int = 0) -> bytes:
    """A 6324×6324 PNG of a few KB (one bit per pixel, all black): 40 MP once decoded. A text chunk numbered
    ``n`` makes each file's bytes different, as separate photos would be."""
    data = _black_png()
    text = b"Comment\0" + str(n).encode()
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
    return data[:-12] + chunk + data[-12:]  # before IEND


def bomb_import(n=200) -> tuple[bytes, bytes]:
    rows = io.StringIO()
    writer = csv.DictWriter(rows, fieldnames=COLUMNS)
    writer.writeheader()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for i in range(n):
            zf.writestr(f"p{i:03}.png", big_png(i))
            writer.writerow({"product_ref": f"P{i}", "title_vi": f"Bình gốm số {i}", "description_vi": DESC,
                             "price": "350.000", "stock": "3", "photos": f"p{i:03}.png"})
    return rows.getvalue().encode(), archive.getvalue()


def stored_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(model.id)))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel is decoded."""
    def refuse(*args, **kwargs):
        raise AssertionError("an image was decoded before the budget refused the request")

    monkeypatch.setattr(images, "decode", refuse)


@pytest.fixture
def product(shop):
    product = make_product(shop=shop)
    db.session.commit()
    return product


def post_import(client, csv_bytes, zip_bytes):
    return client.post("/seller/import", content_type="multipart/form-data",
                       data={"csv": (io.BytesIO(csv_bytes), "products.csv"),
                             "zip": (io.BytesIO(zip_bytes), "photos.zip")})


def post_photos(client, product_id, files):
    return client.post(f"/seller/products/{product_id}/photos", content_type="multipart/form-data",
                       data={"photos": [(io.BytesIO(data), name) for name, data in files]})


# --- refused fast, nothing stored ----------------------------------------------------------------------

@pytest.mark.parametrize("files_cap, limit", [(None, "MAX_IMAGES_PER_REQUEST"),
                                              (500, "MAX_IMAGE_PIXELS_PER_REQUEST")])
def test_the_200_png_import_is_refused_fast_with_nothing_stored(seller, shop, app, no_decoding, files_cap, limit):
    if files_cap:  # also with the file count allowed: the pixels, read from the 200 headers, refuse it
        app.config["MAX_IMAGES_PER_REQUEST"] = files_cap
    csv_bytes, zip_bytes = bomb_import()
    assert len(zip_bytes) < 50_000  # the issue's ~43 KB
    started = time.monotonic()
    response = post_import(seller, csv_bytes, zip_bytes)
    elapsed = time.monotonic() - started
    assert elapsed < FAST, elapsed
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert limit in html and "tối đa" in html
    assert count(Product) == 0 and count(ProductImage) == 0
    assert stored_files(app) == []


def test_eight_large_pngs_through_the_photo_form_are_refused_fast(seller, product, app, no_decoding):
    files = [(f"IMG_{i}.png", big_png(i)) for i in range(8)]
    started = time.monotonic()
    response = post_photos(seller, product.id, files)
    elapsed = time.monotonic() - started
    assert elapsed < FAST, elapsed
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "MAX_IMAGE_PIXELS_PER_REQUEST" in html and "100 megapixel" in html
    assert count(ProductImage) == 0 and stored_files(app) == []


def test_api_photo_upload_over_the_budget_is_refused_fast(client, artisan, product, app, no_decoding):
    _, secret = issue_token(artisan, "test")
    db.session.commit()
    started = time.monotonic()
    response = client.post(f"/api/v1/me/products/{product.id}/photos", content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {secret}"},
                           data={"photos": [(io.BytesIO(big_png(i)), f"{i}.png") for i in range(8)]})
    elapsed = time.monotonic() - started
    assert elapsed < FAST, elapsed
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_many_pixels_in_request" and "MAX_IMAGE_PIXELS_PER_REQUEST" in error["message"]
    assert count(ProductImage) == 0 and stored_files(app) == []


def test_too_many_files_is_refused_by_count_in_english_too(seller, product, app, no_decoding):
    app.config["MAX_IMAGES_PER_REQUEST"] = 3
    files = [(f"{i}.jpg", jpeg_bytes(color=(i, 0, 0))) for i in range(4)]
    response = seller.post(f"/seller/products/{product.id}/photos?lang=en", content_type="multipart/form-data",
                           data={"photos": [(io.BytesIO(d), n) for n, d in files]})
    assert response.status_code == 413
    assert "Too many photos in one request: at most 3 photos (MAX_IMAGES_PER_REQUEST)" in response.get_data(as_text=True)
    assert count(ProductImage) == 0 and stored_files(app) == []


def test_zip_uncompressed_cap_is_checked_before_extracting(seller, shop, app, no_decoding):
    app.config["MAX_ZIP_UNCOMPRESSED"] = 1024 * 1024
    csv_bytes, _ = bomb_import(1)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p000.png", b"\0" * (2 * 1024 * 1024))
    response = post_import(seller, csv_bytes, archive.getvalue())
    assert response.status_code == 400
    assert "MAX_ZIP_UNCOMPRESSED" in response.get_data(as_text=True)
    assert count(Product) == 0 and stored_files(app) == []


# --- all or nothing ------------------------------------------------------------------------------------

def test_one_refused_file_stores_none_of_the_upload(seller, product, app):
    response = post_photos(seller, product.id, [("good.jpg", jpeg_bytes()), ("cut.jpg", truncated_jpeg())])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Chưa lưu ảnh nào" in html and "cut.jpg" in html
    assert count(ProductImage) == 0 and stored_files(app) == []


def test_files_written_for_a_transaction_that_fails_are_deleted(seller, product, app):
    written = []

    def fail_after_files_are_written(session):
        written.extend(stored_files(app))
        raise RuntimeError("the database went away")

    sa.event.listen(db.session, "before_commit", fail_after_files_are_written)
    try:
        response = post_photos(seller, product.id, [("a.jpg", jpeg_bytes(size=(900, 600)))])
    finally:
        sa.event.remove(db.session, "before_commit", fail_after_files_are_written)
    assert response.status_code == 500
    assert len(written) == 4  # 320 and 800, WebP and JPEG: they were on disk when the commit failed
    assert count(ProductImage) == 0 and stored_files(app) == []


def test_an_import_that_is_not_applied_writes_no_file(seller, shop, app):
    csv_bytes, _ = bomb_import(2)
    rows = csv_bytes.decode().splitlines()
    rows[2] = rows[2].replace("350.000", "-1")  # the second row is invalid
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("p000.png", jpeg_bytes(size=(1000, 800)))
        zf.writestr("p001.png", jpeg_bytes(size=(1000, 800), color=(1, 2, 3)))
    response = seller.post("/seller/import", content_type="multipart/form-data",
                           data={"csv": (io.BytesIO("\n".join(rows).encode()), "p.csv"),
                                 "zip": (io.BytesIO(archive.getvalue()), "p.zip"), "all_or_nothing": "1"})
    assert response.status_code == 400
    assert count(Product) == 0 and stored_files(app) == []


# --- within the budget, everything works ---------------------------------------------------------------

def test_within_the_budget_the_form_the_import_and_the_api_store(seller, artisan, shop, product, app):
    response = post_photos(seller, product.id, [("a.jpg", jpeg_bytes(size=(2400, 1800))),
                                                ("b.png", big_png())])  # 40 MP + 1 MP (JPEG drafted to 1/2)
    assert response.status_code == 303
    assert count(ProductImage) == 2 and len(stored_files(app)) == 12

    csv_bytes, _ = bomb_import(2)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("p000.png", jpeg_bytes(size=(1000, 800), color=(9, 9, 9)))
        zf.writestr("p001.png", jpeg_bytes(size=(1000, 800), color=(1, 2, 3)))
    response = post_import(seller, csv_bytes, archive.getvalue())
    assert response.status_code == 303
    assert count(Product) == 3 and count(ProductImage) == 4

    _, secret = issue_token(artisan, "test")
    db.session.commit()
    response = seller.post(f"/api/v1/me/products/{product.id}/photos", content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {secret}"},
                           data={"photos": [(io.BytesIO(jpeg_bytes(color=(7, 7, 7))), "c.jpg")], "alt_text": "Mặt bên"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert len(response.get_json()["images"]) == 3
    assert count(ProductImage) == 5
    for image in db.session.scalars(sa.select(ProductImage)):
        assert any(p.name.startswith(image.storage_key.rsplit("/", 1)[1]) for p in stored_files(app))


def test_the_budget_is_per_request(seller, product, app):
    app.config["MAX_IMAGES_PER_REQUEST"] = 1
    for color in ((1, 1, 1), (2, 2, 2)):
        assert post_photos(seller, product.id, [("a.jpg", jpeg_bytes(color=color))]).status_code == 303
    assert count(ProductImage) == 2
