"""Photo pipeline: what is accepted, what is refused (with nothing stored), and what is stored."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from marketplace.catalog.models import Product, ProductImage
from marketplace.extensions import db
from marketplace.media import images
from marketplace.media.images import ImageRejected, ingest_upload, open_checked
from tests.factories import make_product
from tests.seller.imagegen import (
    HTML,
    PDF,
    SVG,
    gps_rotated_jpeg,
    jpeg_bytes,
    jpeg_with_html_tail,
    png_bomb_header,
    png_bytes,
    truncated_jpeg,
    webp_bytes,
)


def stored_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(client, product_id, *files, alt=None):
    data = {"photos": [(io.BytesIO(content), name) for content, name in files]}
    if alt is not None:
        data["alt_text"] = alt
    return client.post(f"/seller/products/{product_id}/photos", data=data, content_type="multipart/form-data")


@pytest.fixture
def product(shop):
    product = make_product(shop=shop)
    db.session.commit()
    return product


def test_gps_rotated_jpeg_is_rotated_and_stripped(seller, product, app):
    original = gps_rotated_jpeg(size=(400, 200))
    with Image.open(io.BytesIO(original)) as check:  # the fixture really carries what we strip
        assert check.getexif().get(0x0112) == 6 and check.getexif().get_ifd(0x8825)
        assert b"artisan" in check.info.get("comment", b"")
    response = upload(seller, product.id, (original, "IMG_0001.JPG"), alt="Bình gốm")
    assert response.status_code == 303
    image = db.session.scalars(db.select(ProductImage)).one()
    assert (image.width, image.height) == (200, 400)  # portrait after applying the orientation
    assert image.alt_text == "Bình gốm"
    files = stored_files(app)
    assert {f.suffix for f in files} == {".jpg", ".webp"}
    assert len(files) == 2  # 400 px long side: only the 320 size
    for path in files:
        data = path.read_bytes()
        assert b"artisan" not in data and b"PhoneMaker" not in data and b"Exif" not in data
        with Image.open(path) as out:
            assert len(out.getexif()) == 0
            assert "comment" not in out.info and "exif" not in out.info
            assert out.size == (160, 320)
            rgb = out.convert("RGB")
            top = rgb.getpixel((80, 20))
            bottom = rgb.getpixel((80, 300))
            assert top[0] > 150 and top[2] < 100  # red was on the left, now on top
            assert bottom[2] > 150 and bottom[0] < 100
        assert data != original


def test_sizes_webp_and_jpeg_content_hash_keys(seller, product, app):
    big = jpeg_bytes(size=(2400, 1800), color=(120, 60, 30))
    assert upload(seller, product.id, (big, "a.jpg")).status_code == 303
    image = db.session.scalars(db.select(ProductImage)).one()
    assert (image.width, image.height) == (1600, 1200)
    names = sorted(p.name for p in stored_files(app))
    digest = image.storage_key.rsplit("/", 1)[1]
    assert names == sorted(f"{digest}-{s}.{f}" for s in (320, 800, 1600) for f in ("jpg", "webp"))
    for path in stored_files(app):
        with Image.open(path) as out:
            assert out.format == ("WEBP" if path.suffix == ".webp" else "JPEG")
            assert max(out.size) == int(path.stem.rsplit("-", 1)[1])
    # the same picture again: the same key, nothing new on disk
    before = stored_files(app)
    assert upload(seller, product.id, (big, "again.jpg")).status_code == 303
    keys = {i.storage_key for i in db.session.scalars(db.select(ProductImage))}
    assert keys == {image.storage_key} and stored_files(app) == before


def test_png_with_transparency_and_webp_are_accepted(seller, product, app):
    response = upload(seller, product.id, (png_bytes(mode="RGBA"), "logo.png"), (webp_bytes(), "x.webp"))
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count(ProductImage.id))) == 2


@pytest.mark.parametrize("content, name, message", [
    (SVG, "drawing.svg", "không phải ảnh"),
    (PDF, "scan.jpg", "không phải ảnh"),
    (HTML, "page.jpg", "không phải ảnh"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif", "không phải ảnh"),
    (png_bomb_header(20000, 20000), "bomb.png", "Ảnh quá lớn"),
    (png_bomb_header(7000, 6000), "just-over.png", "Ảnh quá lớn"),
    (truncated_jpeg(), "cut.jpg", "thiếu dữ liệu"),
    (b"", "empty.jpg", "Tệp rỗng"),
])
def test_refused_uploads_have_a_clear_message_and_store_nothing(seller, product, app, content, name, message):
    response = upload(seller, product.id, (content, name))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored_files(app) == []
    assert db.session.scalar(db.select(db.func.count(ProductImage.id))) == 0


def test_bombs_are_refused_from_the_header_before_decoding(app, monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(images, "decode", no_decoding)
    for data in (png_bomb_header(20000, 20000), png_bomb_header(10000, 10000), png_bomb_header(7000, 6000)):
        with pytest.raises(ImageRejected) as exc:
            ingest_upload(data)
        assert exc.value.code == "too_many_pixels"
    with pytest.raises(ImageRejected) as exc:
        open_checked(png_bomb_header(20000, 20000))
    assert exc.value.code == "too_many_pixels"
    assert stored_files(app) == []


def test_polyglot_tail_is_dropped_and_served_as_image_with_nosniff(seller, product, app, client):
    assert upload(seller, product.id, (jpeg_with_html_tail(), "photo.jpg")).status_code == 303
    for path in stored_files(app):
        assert b"<script" not in path.read_bytes() and b"<html" not in path.read_bytes()
    image = db.session.scalars(db.select(ProductImage)).one()
    response = client.get(f"/media/{image.storage_key}-320.jpg")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.data.startswith(b"\xff\xd8")
    response.close()
    assert client.get("/media/../config.py").status_code == 404


def test_too_large_request_is_413_with_a_friendly_page(seller, product, app):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    # a hand-built body (the test client would spool a large file to a temp file it never closes on a 413)
    boundary = "x-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"huge.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8" + b"0" * (3 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    response = seller.post(f"/seller/products/{product.id}/photos", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Tệp quá lớn" in html and "2 MB" in html
    assert stored_files(app) == []


def test_at_most_eight_photos(seller, shop, app):
    product = make_product(shop=shop, images=7)
    db.session.commit()
    response = upload(seller, product.id, (jpeg_bytes(color=(1, 2, 3)), "8.jpg"), (jpeg_bytes(color=(4, 5, 6)), "9.jpg"))
    assert response.status_code == 400
    assert "Tối đa 8 ảnh" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Product, product.id).images) == 7  # one upload, one unit: neither is stored
    assert upload(seller, product.id, (jpeg_bytes(color=(1, 2, 3)), "8.jpg")).status_code == 303
    page = seller.get(f"/seller/products/{product.id}/photos").get_data(as_text=True)
    assert 'type="file"' not in page


def test_photo_form_is_phone_friendly(seller, product):
    html = seller.get(f"/seller/products/{product.id}/photos").get_data(as_text=True)
    assert 'accept="image/*"' in html and 'enctype="multipart/form-data"' in html and "multiple" in html


def test_reorder_alt_text_and_delete(seller, product, app):
    for n, color in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        assert upload(seller, product.id, (jpeg_bytes(color=color), f"{n}.jpg")).status_code == 303
    first, second, third = db.session.get(Product, product.id).images
    seller.post(f"/seller/products/{product.id}/photos/{third.id}/move", data={"direction": "first"})
    seller.post(f"/seller/products/{product.id}/photos/{first.id}/move", data={"direction": "down"})
    db.session.expire_all()
    assert [i.id for i in db.session.get(Product, product.id).images] == [third.id, second.id, first.id]
    seller.post(f"/seller/products/{product.id}/photos/{second.id}", data={"alt_text": "Mặt sau của bình"})
    db.session.expire_all()
    assert db.session.get(ProductImage, second.id).alt_text == "Mặt sau của bình"
    key = third.storage_key
    assert seller.post(f"/seller/products/{product.id}/photos/{third.id}/delete").status_code == 303
    db.session.expire_all()
    assert [i.id for i in db.session.get(Product, product.id).images] == [second.id, first.id]
    assert [i.position for i in db.session.get(Product, product.id).images] == [0, 1]
    assert not any(p.name.startswith(key.rsplit("/", 1)[1]) for p in stored_files(app))
    assert len(stored_files(app)) == 4


def test_store_derivatives_keeps_its_interface(app):
    key, width, height = images.store_derivatives(Image.new("RGB", (900, 600), (5, 6, 7)), prefix="demo")
    assert key.startswith("demo/") and (width, height) == (900, 600)
    assert len(stored_files(app)) == 4  # 320 and 800, as WebP and JPEG
