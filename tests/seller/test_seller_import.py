"""Bulk import: template, row-level validation, all-valid-rows vs all-or-nothing, ZIP guards, CLI."""
from __future__ import annotations

import csv
import io
import zipfile

import sqlalchemy as sa

from marketplace.catalog.importer import COLUMNS, template_csv
from marketplace.catalog.models import Product, ProductImage, ProductStatus, Variant
from marketplace.extensions import db
from tests.seller.imagegen import PDF, jpeg_bytes


def make_csv(rows: list[dict], delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


DESC = "Sản phẩm thủ công của làng nghề, làm hoàn toàn bằng tay."
VALID = [
    {"product_ref": "A", "title_vi": "Bình men lam", "description_vi": DESC, "variant_name": "Nhỏ", "price": "350.000",
     "stock": "5", "photos": "a1.jpg;a2.jpg", "photo_alt": "Bình men lam", "publish": "có", "ocop_stars": "4",
     "ocop_certificate_number": "12/QĐ", "ocop_issuer": "UBND TP Hà Nội", "ocop_issued_on": "20/05/2024"},
    {"product_ref": "A", "variant_name": "Lớn", "price": "690.000", "stock": "2"},
    {"product_ref": "B", "title_vi": "Đĩa sơn mài", "description_vi": DESC, "price": "1.200.000", "stock": "1"},
]
BAD = [
    {"product_ref": "C", "title_vi": "", "description_vi": DESC, "price": "100.000", "stock": "1"},
    {"product_ref": "D", "title_vi": "Chén", "description_vi": DESC, "price": "500", "stock": "-1", "ocop_stars": "2"},
]
PHOTOS = {"a1.jpg": jpeg_bytes(color=(200, 0, 0)), "a2.jpg": jpeg_bytes(color=(0, 200, 0))}


def post_import(client, csv_bytes, zip_bytes=None, all_or_nothing=False):
    data = {"csv": (io.BytesIO(csv_bytes), "products.csv")}
    if zip_bytes is not None:
        data["zip"] = (io.BytesIO(zip_bytes), "photos.zip")
    if all_or_nothing:
        data["all_or_nothing"] = "1"
    return client.post("/seller/import", data=data, content_type="multipart/form-data")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_template_downloads_and_is_valid_utf8(seller):
    response = seller.get("/seller/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert "Bình hút lộc men lam" in text
    assert template_csv().startswith("\ufeff")


def test_valid_rows_import_with_variants_photos_and_publish(seller, shop, app):
    response = post_import(seller, make_csv(VALID), make_zip(PHOTOS))
    assert response.status_code == 303
    products = db.session.scalars(sa.select(Product).order_by(Product.id)).all()
    assert [p.title_vi for p in products] == ["Bình men lam", "Đĩa sơn mài"]
    vase, plate = products
    assert all(p.shop_id == shop.id for p in products)
    assert [(v.name, v.price, v.stock) for v in vase.variants] == [("Nhỏ", 350_000, 5), ("Lớn", 690_000, 2)]
    assert vase.status == ProductStatus.ACTIVE and vase.published_at is not None
    assert vase.ocop_stars == 4 and vase.ocop_expires_on.year == 2027
    assert len(vase.images) == 2 and vase.images[0].alt_text == "Bình men lam"
    assert plate.status == ProductStatus.DRAFT and plate.images == []


def test_row_errors_shown_and_valid_rows_imported(seller, shop):
    response = post_import(seller, make_csv(VALID + BAD), make_zip(PHOTOS))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Đã nhập 2 sản phẩm" in html
    # CSV line numbers: header is line 1, so BAD rows are lines 5 and 6
    assert "<td>5</td>" in html and "title_vi: Bắt buộc" in html
    assert "<td>6</td>" in html and "price:" in html and "stock:" in html and "ocop_stars:" in html
    assert count(Product) == 2


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(seller, shop, app):
    response = post_import(seller, make_csv(VALID + BAD), make_zip(PHOTOS), all_or_nothing=True)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Chưa nhập gì" in html and "3/5" in html
    assert count(Product) == 0 and count(Variant) == 0 and count(ProductImage) == 0
    from pathlib import Path
    media = Path(app.config["MEDIA_ROOT"])
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_missing_bad_and_traversal_photos_are_row_errors(seller, shop):
    rows = [
        {"product_ref": "A", "title_vi": "A", "description_vi": DESC, "price": "10.000", "photos": "missing.jpg"},
        {"product_ref": "B", "title_vi": "B", "description_vi": DESC, "price": "10.000", "photos": "scan.jpg"},
        {"product_ref": "C", "title_vi": "C", "description_vi": DESC, "price": "10.000", "photos": "../../etc/passwd"},
        {"product_ref": "D", "title_vi": "D", "description_vi": DESC, "price": "10.000", "photos": "inner.jpg"},
    ]
    archive = make_zip({"scan.jpg": PDF, "../evil.jpg": jpeg_bytes(), "sub/inner.jpg": jpeg_bytes(color=(9, 9, 9))})
    response = post_import(seller, make_csv(rows), archive)
    html = response.get_data(as_text=True)
    assert "Không có ảnh missing.jpg" in html
    assert "không phải ảnh" in html
    assert "không ghi thư mục" in html
    # only D (a photo in a sub-folder, found by its bare name) is imported
    assert [p.title_vi for p in db.session.scalars(sa.select(Product))] == ["D"]


def test_zip_bomb_entry_is_refused_by_size(seller, shop, app):
    app.config["MAX_CONTENT_LENGTH"] = 512 * 1024
    bomb = make_zip({"big.jpg": b"\0" * (2 * 1024 * 1024)})  # compresses to a few KB
    assert len(bomb) < 50_000
    rows = [{"title_vi": "A", "description_vi": DESC, "price": "10.000", "photos": "big.jpg"}]
    response = post_import(seller, make_csv(rows), bomb, all_or_nothing=True)
    assert "quá lớn" in response.get_data(as_text=True)
    assert count(Product) == 0


def test_file_level_errors(seller, shop):
    response = post_import(seller, "title_vi,price\nBình,10.000\n".encode("utf-16"))
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    response = post_import(seller, b"name,cost\nx,1\n")
    assert response.status_code == 400 and "Thiếu cột bắt buộc" in response.get_data(as_text=True)
    response = post_import(seller, make_csv(VALID[2:]), b"not a zip")
    assert response.status_code == 400 and "ZIP" in response.get_data(as_text=True)
    assert count(Product) == 0


def test_semicolon_csv_with_bom(seller, shop):
    data = "\ufeff".encode() + make_csv(VALID[2:], delimiter=";")
    assert post_import(seller, data).status_code == 303
    assert [p.title_vi for p in db.session.scalars(sa.select(Product))] == ["Đĩa sơn mài"]


def test_duplicate_skus_in_file_and_database(seller, shop, other_shop):
    taken = other_shop.products[0].variants[0].sku
    rows = [
        {"product_ref": "A", "title_vi": "A", "description_vi": DESC, "price": "10.000", "sku": "X-1"},
        {"product_ref": "B", "title_vi": "B", "description_vi": DESC, "price": "10.000", "sku": "X-1"},
        {"product_ref": "C", "title_vi": "C", "description_vi": DESC, "price": "10.000", "sku": taken},
    ]
    html = post_import(seller, make_csv(rows)).get_data(as_text=True)
    assert "trùng với dòng 2" in html and "đã được dùng" in html
    assert [p.title_vi for p in db.session.scalars(sa.select(Product).where(Product.shop_id == shop.id))] == ["A"]


def test_cli_import(runner, shop, tmp_path, app):
    csv_path = tmp_path / "p.csv"
    zip_path = tmp_path / "p.zip"
    csv_path.write_bytes(make_csv(VALID + BAD))
    zip_path.write_bytes(make_zip(PHOTOS))
    result = runner.invoke(args=["catalog", "import", str(csv_path), "--zip", str(zip_path), "--shop", shop.slug,
                                 "--all-or-nothing"])
    assert result.exit_code == 1
    assert "Nothing imported" in result.output and "line 5" in result.output
    assert count(Product) == 0
    result = runner.invoke(args=["catalog", "import", str(csv_path), "--zip", str(zip_path), "--shop", shop.slug])
    assert result.exit_code == 0, result.output
    assert "Imported 2 products" in result.output
    db.session.expire_all()
    assert count(Product) == 2 and count(ProductImage) == 2
    result = runner.invoke(args=["catalog", "import", str(csv_path), "--shop", "no-such-shop"])
    assert result.exit_code != 0 and "No shop" in result.output
