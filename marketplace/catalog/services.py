"""Product services: create, edit, publish and stock changes for a shop's listings.

Request-free: views, the JSON API, the CSV importer and the CLI call these with the acting user and
plain values (strings from a form or typed values from JSON). Only the fields named in
``PRODUCT_FIELDS`` / ``VARIANT_FIELDS`` are read, so nothing sent by a browser decides the owner, the
status or another shop's product. Every function checks that ``actor`` may manage the shop and raises
``NotFound`` otherwise (the caller shows 404). Validation problems raise ``InvalidInput`` whose
``details["errors"]`` maps every bad field to its message. Functions ``flush()``, never ``commit()``.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from marketplace.catalog.models import (
    OCOP_FIELDS,
    Category,
    ClaimStatus,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    ocop_max_expiry,
)
from marketplace.core import jobs
from marketplace.core.audit import record
from marketplace.core.money import MAX_PRICE, MIN_PRICE, format_vnd, parse_vnd
from marketplace.core.text import nfc
from marketplace.core.time import today_vn, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.media import pending
from marketplace.media.images import ingest_upload
from marketplace.shops.access import can_manage_shop
from marketplace.shops.models import Shop

OCOP_STARS = (3, 4, 5)
MAX_STOCK = 1_000_000
MAX_WEIGHT_GRAMS = 1_000_000
MAX_VARIANTS = 30
VARIANT_NAME_MAX = 120  # Variant.name
SKU_MAX = 64  # Variant.sku

# field → max length for free text
TEXT_FIELDS = {
    "title_vi": 200,
    "title_en": 200,
    "description_vi": 20_000,
    "description_en": 20_000,
    "materials": 300,
    "technique": 300,
    "dimensions": 120,
    "ocop_certificate_number": 80,
    "ocop_issuer": 200,
    # English for tourists (Vietnamese is the fallback)
    "materials_en": 300,
    "technique_en": 300,
    "ocop_issuer_en": 200,
}
PRODUCT_FIELDS = tuple(TEXT_FIELDS) + (
    "category", "weight_grams", "ip_protection_id", "ocop_stars", "ocop_issued_on", "ocop_expires_on",
)
VARIANT_FIELDS = ("name", "name_en", "sku", "price", "stock")


# --- access ---------------------------------------------------------------------------------------

class SystemActor:
    """The command line (``flask catalog import``): whoever reaches the shell reaches the database."""

    id = None
    role = "system"
    is_authenticated = True
    is_system = True


SYSTEM = SystemActor()


def can_manage(actor, shop: Shop | None) -> bool:
    """The command line manages every shop; anyone else by the one rule, ``shops.access.can_manage_shop``."""
    if actor is SYSTEM:
        return shop is not None
    return can_manage_shop(actor, shop)


def _require(actor, shop: Shop | None) -> None:
    if not can_manage(actor, shop):
        raise NotFound(_("Không tìm thấy."))


MAX_DB_ID = 2_147_483_647


def valid_id(value: Any) -> bool:
    """Ids outside the INTEGER range would be a database error on PostgreSQL: they name nothing."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_DB_ID


def product_for_seller(actor, product_id: int) -> Product:
    product = db.session.get(Product, product_id) if valid_id(product_id) else None
    if product is None:
        raise NotFound(_("Không tìm thấy sản phẩm."))
    _require(actor, product.shop)
    return product


def variant_for_seller(actor, product: Product, variant_id: int) -> Variant:
    variant = db.session.get(Variant, variant_id) if valid_id(variant_id) else None
    if variant is None or variant.product_id != product.id:
        raise NotFound(_("Không tìm thấy phân loại."))
    _require(actor, product.shop)
    return variant


def image_for_seller(actor, product: Product, image_id: int) -> ProductImage:
    image = db.session.get(ProductImage, image_id) if valid_id(image_id) else None
    if image is None or image.product_id != product.id:
        raise NotFound(_("Không tìm thấy ảnh."))
    _require(actor, product.shop)
    return image


# --- parsing helpers ------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    return nfc(str(value)).replace("\x00", "").replace("\r\n", "\n").strip()


def parse_int(value: Any) -> int | None:
    """An int from an int or a string of digits (thousand separators allowed); None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _text(value).replace(".", "").replace(",", "").replace(" ", "")
    if text.startswith("-") and text[1:].isdigit():
        return -int(text[1:])
    return int(text) if text.isdigit() else None


def parse_date(value: Any) -> date | None:
    """``YYYY-MM-DD`` (HTML date input, ISO) or ``DD/MM/YYYY`` (Vietnamese habit); raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_price(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return parse_vnd(value)


# --- validation -----------------------------------------------------------------------------------

def _raise(errors: dict[str, str]) -> None:
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field, details={"errors": errors})


def clean_product_data(shop: Shop, data: Mapping[str, Any], *, partial: bool = False,
                       current: Product | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Whitelisted, parsed values and a dict of field errors (messages in the current language).

    ``partial``: only the keys present in ``data`` are checked and returned (PATCH-style updates).
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def present(key: str) -> bool:
        return not partial or key in data

    for key, max_len in TEXT_FIELDS.items():
        if not present(key) or key.startswith("ocop_"):
            continue
        if not isinstance(data.get(key), (str, int, type(None))) or isinstance(data.get(key), bool):
            errors[key] = _("Phải là một chuỗi ký tự.")
            continue
        value = _text(data.get(key))
        if len(value) > max_len:
            errors[key] = _("Tối đa %(n)s ký tự.", n=max_len)
        clean[key] = value or None
    for key in ("title_vi", "description_vi"):
        if present(key) and not clean.get(key) and key not in errors:
            errors[key] = _("Bắt buộc.")
    if "description_vi" in clean and clean["description_vi"] is None:
        clean["description_vi"] = ""

    if present("category"):
        category = _text(data.get("category")) or (shop.village.category if shop.village else "other")
        if category not in Category.CHOICES:
            errors["category"] = _("Chọn một nhóm nghề trong danh sách.")
        clean["category"] = category

    if present("weight_grams"):
        raw = data.get("weight_grams")
        if raw in (None, ""):
            clean["weight_grams"] = None
        else:
            weight = parse_int(raw)
            if weight is None or not 1 <= weight <= MAX_WEIGHT_GRAMS:
                errors["weight_grams"] = _("Khối lượng là số gam nguyên, từ 1 đến 1.000.000.")
            clean["weight_grams"] = weight

    if present("ip_protection_id"):
        raw = data.get("ip_protection_id")
        if raw in (None, "", 0, "0"):
            clean["ip_protection_id"] = None
        else:
            ip_id = parse_int(raw)
            ip = db.session.get(IpProtection, ip_id) if valid_id(ip_id) else None
            if ip is None or ip.village_id != shop.village_id:
                errors["ip_protection_id"] = _("Chọn một văn bằng bảo hộ của làng nghề của bạn.")
            clean["ip_protection_id"] = ip_id

    ocop_keys = ("ocop_stars", "ocop_certificate_number", "ocop_issuer", "ocop_issued_on", "ocop_expires_on")
    if not partial or any(k in data for k in ocop_keys):
        _clean_ocop(data, clean, errors, current if partial else None)
    return clean, errors


def _clean_ocop(data: Mapping[str, Any], clean: dict, errors: dict, current: Product | None) -> None:
    def get(key: str):
        if key in data:
            return data.get(key)
        return getattr(current, key, None) if current is not None else None

    raw_stars = get("ocop_stars")
    if raw_stars in (None, "", 0, "0"):
        for key in ("ocop_stars", "ocop_certificate_number", "ocop_issuer", "ocop_issued_on", "ocop_expires_on"):
            clean[key] = None
        return
    stars = parse_int(raw_stars)
    if stars not in OCOP_STARS:
        errors["ocop_stars"] = _("Hạng OCOP chỉ có thể là 3, 4 hoặc 5 sao.")
    clean["ocop_stars"] = stars
    for key, max_len in (("ocop_certificate_number", 80), ("ocop_issuer", 200)):
        value = _text(get(key))
        if not value:
            errors[key] = _("Bắt buộc khi có chứng nhận OCOP.")
        elif len(value) > max_len:
            errors[key] = _("Tối đa %(n)s ký tự.", n=max_len)
        clean[key] = value or None
    issued = expires = None
    try:
        issued = parse_date(get("ocop_issued_on"))
        if issued is None:
            errors["ocop_issued_on"] = _("Bắt buộc khi có chứng nhận OCOP.")
        elif issued > today_vn():
            errors["ocop_issued_on"] = _("Ngày cấp không thể ở tương lai.")
        elif issued.year < 2018:
            errors["ocop_issued_on"] = _("Chương trình OCOP bắt đầu năm 2018; kiểm tra lại ngày cấp.")
    except ValueError:
        errors["ocop_issued_on"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    try:
        expires = parse_date(get("ocop_expires_on"))
    except ValueError:
        errors["ocop_expires_on"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    if issued is not None and "ocop_issued_on" not in errors:
        latest = ocop_max_expiry(issued)
        if expires is None and "ocop_expires_on" not in errors:
            expires = latest
        elif expires is not None and expires <= issued:
            errors["ocop_expires_on"] = _("Ngày hết hạn phải sau ngày cấp.")
        elif expires is not None and expires > latest:
            errors["ocop_expires_on"] = _(
                "Giấy chứng nhận OCOP có hiệu lực tối đa 36 tháng kể từ ngày cấp (muộn nhất %(day)s).",
                day=latest.strftime("%d/%m/%Y"))
    clean["ocop_issued_on"] = issued
    clean["ocop_expires_on"] = expires


def clean_variant_data(data: Mapping[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if not partial or "name" in data:
        name = _text(data.get("name")) or _("Tiêu chuẩn")
        if len(name) > VARIANT_NAME_MAX:
            errors["name"] = _("Tối đa %(n)s ký tự.", n=VARIANT_NAME_MAX)
        clean["name"] = name
    if "name_en" in data:  # English for tourists; empty = the Vietnamese name is shown
        name_en = _text(data.get("name_en"))
        if len(name_en) > VARIANT_NAME_MAX:
            errors["name_en"] = _("Tối đa %(n)s ký tự.", n=VARIANT_NAME_MAX)
        clean["name_en"] = name_en or None
    if "sku" in data:
        sku = _text(data.get("sku")).upper()
        if sku and (len(sku) > SKU_MAX or not all(c.isalnum() or c in "-_." for c in sku) or not sku.isascii()):
            errors["sku"] = _("Mã SKU chỉ gồm chữ, số, - _ . (tối đa 64).")
        clean["sku"] = sku or None
    if not partial or "price" in data:
        price = parse_price(data.get("price"))
        if price is None:
            errors["price"] = _("Giá là số đồng nguyên, ví dụ 350.000.")
        elif not MIN_PRICE <= price <= MAX_PRICE:
            errors["price"] = _("Giá từ %(lo)s đến %(hi)s.", lo=format_vnd(MIN_PRICE), hi=format_vnd(MAX_PRICE))
        clean["price"] = price
    if not partial or "stock" in data:
        raw = data.get("stock")
        stock = 0 if raw in (None, "") and not partial else parse_int(raw)
        if stock is None or stock < 0 or stock > MAX_STOCK:
            errors["stock"] = _("Tồn kho là số nguyên từ 0.")
        clean["stock"] = stock
    return clean, errors


def _sku_taken(sku: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(Variant.id).where(Variant.sku == sku)
    if exclude_id is not None:
        stmt = stmt.where(Variant.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _new_sku(product: Product) -> str:
    while True:
        sku = f"P{product.id}-{secrets.token_hex(3).upper()}"
        if not _sku_taken(sku):
            return sku


def _snapshot(product: Product) -> dict:
    return {
        "title_vi": product.title_vi,
        "status": product.status,
        "ocop_stars": product.ocop_stars,
        "ocop_status": product.ocop_status,
        "variants": [[v.name, v.price, v.stock] for v in product.variants],
    }


# --- products -------------------------------------------------------------------------------------

def create_product(actor, shop: Shop, data: Mapping[str, Any],
                   variants: list[Mapping[str, Any]] | None = None) -> Product:
    """A new draft product of ``shop`` (optionally with variants, validated all together)."""
    _require(actor, shop)
    clean, errors = clean_product_data(shop, data)
    if len(variants or []) > MAX_VARIANTS:
        raise InvalidInput(_("Tối đa %(n)s phân loại cho một sản phẩm.", n=MAX_VARIANTS), field="variants")
    variant_values = []
    for index, row in enumerate(variants or []):
        vclean, verrors = clean_variant_data(row)
        errors.update({f"variants-{index}-{k}": v for k, v in verrors.items()})
        variant_values.append(vclean)
    _raise(errors)
    product = Product(shop_id=shop.id, status=ProductStatus.DRAFT, **clean)
    db.session.add(product)
    db.session.flush()
    for index, vclean in enumerate(variant_values):
        _add_variant(product, vclean, f"variants-{index}-")
    db.session.flush()
    record(actor, "product.create", "product", product.id, after=_snapshot(product))
    return product


def update_product(actor, product: Product, data: Mapping[str, Any], *, partial: bool = False) -> Product:
    """Change the editable fields; ``partial`` changes only the keys present (JSON PATCH)."""
    _require(actor, product.shop)
    clean, errors = clean_product_data(product.shop, data, partial=partial, current=product)
    _raise(errors)
    before = _snapshot(product)
    ocop_before = {key: getattr(product, key) for key in OCOP_FIELDS}
    for key, value in clean.items():
        setattr(product, key, value)
    if {key: getattr(product, key) for key in OCOP_FIELDS} != ocop_before:
        reset_ocop_claim(product)
    product.updated_at = utcnow()
    db.session.flush()
    record(actor, "product.update", "product", product.id, before=before, after=_snapshot(product))
    return product


def reset_ocop_claim(product: Product) -> None:
    """A changed certificate is a new claim: back to "declared", the earlier review no longer applies. Without
    a certificate the evidence goes too."""
    product.ocop_status = ClaimStatus.DECLARED
    product.ocop_reviewed_by_id = None
    product.ocop_reviewed_at = None
    product.ocop_review_note = None
    if product.ocop_stars is None:
        product.ocop_evidence_key = None


def publish_product(actor, product: Product) -> Product:
    _require(actor, product.shop)
    if product.status == ProductStatus.ACTIVE:
        return product
    errors = {}
    if not product.title_vi:
        errors["title_vi"] = _("Bắt buộc.")
    if not (product.description_vi or "").strip():
        errors["description_vi"] = _("Bắt buộc.")
    if not product.variants:
        errors["variants"] = _("Cần ít nhất một phân loại có giá trước khi đăng bán.")
    elif not any(v.stock > 0 for v in product.variants):
        errors["variants"] = _("Cần ít nhất một phân loại còn hàng (tồn kho lớn hơn 0) trước khi đăng bán.")
    if not product.images:
        errors["photos"] = _("Cần ít nhất một ảnh sản phẩm trước khi đăng bán.")
    _raise(errors)
    before = product.status
    product.status = ProductStatus.ACTIVE
    if product.published_at is None:
        product.published_at = utcnow()
    db.session.flush()
    record(actor, "product.publish", "product", product.id, before={"status": before}, after={"status": product.status})
    return product


def unpublish_product(actor, product: Product) -> Product:
    _require(actor, product.shop)
    before = product.status
    product.status = ProductStatus.DRAFT
    db.session.flush()
    record(actor, "product.unpublish", "product", product.id, before={"status": before}, after={"status": product.status})
    return product


def archive_product(actor, product: Product) -> Product:
    _require(actor, product.shop)
    before = product.status
    product.status = ProductStatus.ARCHIVED
    db.session.flush()
    record(actor, "product.archive", "product", product.id, before={"status": before}, after={"status": product.status})
    return product


COPY_SKIPPED = ("ocop_stars", "ocop_issued_on", "ocop_expires_on")  # a claim is the original's, never copied
COPY_SUFFIX = " (bản sao)"


def duplicate_product(actor, product: Product) -> Product:
    """A draft copy of ``product`` in the same shop: its fields (not its OCOP claim), variants with new SKUs
    and the same stock, and its photos (the same stored files: a photo's files are deleted only once no row
    points at them)."""
    _require(actor, product.shop)
    values = {key: getattr(product, key) for key in PRODUCT_FIELDS if key not in COPY_SKIPPED}
    values["title_vi"] = (product.title_vi or "")[:200 - len(COPY_SUFFIX)] + COPY_SUFFIX
    copy = Product(shop_id=product.shop_id, status=ProductStatus.DRAFT, **values)
    db.session.add(copy)
    db.session.flush()
    for variant in product.variants:
        copy.variants.append(Variant(name=variant.name, price=variant.price, stock=variant.stock,
                                     sku=_new_sku(copy), position=variant.position))
    for image in product.images:
        copy.images.append(ProductImage(storage_key=image.storage_key, width=image.width, height=image.height,
                                        position=image.position, alt_text=image.alt_text))
    db.session.flush()
    record(actor, "product.duplicate", "product", copy.id, before={"from": product.id}, after=_snapshot(copy))
    return copy


MAX_BULK_VARIANTS = 500


def bulk_update_variants(actor, shop: Shop, changes: Mapping[int, Mapping[str, Any]]) -> int:
    """Price and/or stock of many variants of ``shop`` at once, all or nothing. ``changes``: variant id →
    {"price": …, "stock": …} (only the keys that change). A variant of another shop is NotFound. Errors are
    keyed ``price-<id>`` / ``stock-<id>``. Returns how many variants changed."""
    _require(actor, shop)
    if len(changes) > MAX_BULK_VARIANTS:
        raise InvalidInput(_("Tối đa %(n)s phân loại mỗi lần.", n=MAX_BULK_VARIANTS), field="form")
    if not changes:
        return 0
    variants = {v.id: v for v in db.session.scalars(
        sa.select(Variant).join(Product, Variant.product_id == Product.id)
        .where(Variant.id.in_(list(changes)), Product.shop_id == shop.id))}
    if len(variants) != len(changes):
        raise NotFound(_("Không tìm thấy phân loại."))
    errors, cleaned = {}, {}
    for variant_id, data in changes.items():
        clean, verrors = clean_variant_data({k: v for k, v in data.items() if k in ("price", "stock")}, partial=True)
        errors.update({f"{k}-{variant_id}": v for k, v in verrors.items()})
        cleaned[variant_id] = clean
    _raise(errors)
    changed = 0
    for variant_id, clean in cleaned.items():
        variant = variants[variant_id]
        before = {"price": variant.price, "stock": variant.stock}
        for key, value in clean.items():
            setattr(variant, key, value)
        after = {"price": variant.price, "stock": variant.stock}
        if after != before:
            changed += 1
            record(actor, "variant.bulk_update", "variant", variant.id, before=before, after=after)
    db.session.flush()
    return changed


# --- variants -------------------------------------------------------------------------------------

def _add_variant(product: Product, clean: dict, prefix: str = "") -> Variant:
    sku = clean.get("sku")
    if sku and _sku_taken(sku):
        raise InvalidInput(_("Mã SKU này đã được dùng."), field=f"{prefix}sku",
                           details={"errors": {f"{prefix}sku": _("Mã SKU này đã được dùng.")}})
    position = max((v.position for v in product.variants), default=-1) + 1
    variant = Variant(name=clean["name"], name_en=clean.get("name_en"), price=clean["price"], stock=clean["stock"],
                      sku=sku or _new_sku(product), position=position)
    product.variants.append(variant)
    db.session.flush()
    return variant


def add_variant(actor, product: Product, data: Mapping[str, Any]) -> Variant:
    _require(actor, product.shop)
    if len(product.variants) >= MAX_VARIANTS:
        raise InvalidInput(_("Tối đa %(n)s phân loại cho một sản phẩm.", n=MAX_VARIANTS), field="variants")
    clean, errors = clean_variant_data(data)
    _raise(errors)
    variant = _add_variant(product, clean)
    record(actor, "variant.create", "variant", variant.id, after={"price": variant.price, "stock": variant.stock})
    return variant


def update_variant(actor, variant: Variant, data: Mapping[str, Any]) -> Variant:
    _require(actor, variant.product.shop)
    clean, errors = clean_variant_data(data, partial=True)
    _raise(errors)
    if clean.get("sku") and _sku_taken(clean["sku"], exclude_id=variant.id):
        raise InvalidInput(_("Mã SKU này đã được dùng."), field="sku",
                           details={"errors": {"sku": _("Mã SKU này đã được dùng.")}})
    if "sku" in clean and not clean["sku"]:
        clean.pop("sku")
    before = {"name": variant.name, "name_en": variant.name_en, "price": variant.price, "stock": variant.stock}
    for key, value in clean.items():
        setattr(variant, key, value)
    db.session.flush()
    after = {"name": variant.name, "name_en": variant.name_en, "price": variant.price, "stock": variant.stock}
    if after != before:
        record(actor, "variant.update", "variant", variant.id, before=before, after=after)
    return variant


def delete_variant(actor, variant: Variant) -> None:
    product = variant.product
    _require(actor, product.shop)
    if product.status == ProductStatus.ACTIVE and len(product.variants) <= 1:
        raise InvalidInput(_("Sản phẩm đang bán cần ít nhất một phân loại. Hãy ẩn sản phẩm trước."),
                           field="variants")
    record(actor, "variant.delete", "variant", variant.id, before={"name": variant.name, "price": variant.price})
    product.variants.remove(variant)
    db.session.flush()


def set_stock(actor, variant: Variant, stock: Any) -> Variant:
    _require(actor, variant.product.shop)
    value = parse_int(stock)
    if value is None or value < 0 or value > MAX_STOCK:
        raise InvalidInput(_("Tồn kho là số nguyên từ 0."), field="stock")
    before = variant.stock
    variant.stock = value
    db.session.flush()
    record(actor, "variant.stock", "variant", variant.id, before={"stock": before}, after={"stock": value})
    return variant


# --- photos ---------------------------------------------------------------------------------------

MAX_PHOTOS = 8
MAX_ALT_LENGTH = 300


def _clean_alt(alt_text: Any) -> str | None:
    alt = _text(alt_text)
    if len(alt) > MAX_ALT_LENGTH:
        raise InvalidInput(_("Tối đa %(n)s ký tự.", n=MAX_ALT_LENGTH), field="alt_text")
    return alt or None


def add_photo(actor, product: Product, data: bytes, alt_text: Any = None, *, background: bool | None = None) -> ProductImage:
    """Validate, re-encode and store one photo; raises ``ImageRejected``/``InvalidInput`` with nothing stored.
    With background jobs (``background`` None = ``jobs.is_async()``) only the header is checked now and the
    derivatives are made by the ``media.derivatives`` job (media/pending.py)."""
    _require(actor, product.shop)
    if len(product.images) >= MAX_PHOTOS:
        raise InvalidInput(_("Tối đa %(n)s ảnh cho một sản phẩm. Hãy xoá bớt ảnh cũ.", n=MAX_PHOTOS), field="photo")
    alt = _clean_alt(alt_text)
    background = jobs.is_async() if background is None else background
    stored = pending.accept_upload(data) if background else ingest_upload(data, prefix="p")
    position = max((i.position for i in product.images), default=-1) + 1
    image = ProductImage(storage_key=stored.key, width=stored.width, height=stored.height, position=position,
                         alt_text=alt or product.title_vi[:MAX_ALT_LENGTH])
    product.images.append(image)
    db.session.flush()
    if background:
        pending.hold(image, data)
    record(actor, "photo.add", "product", product.id, after={"image_id": image.id})
    return image


def update_photo(actor, image: ProductImage, alt_text: Any) -> ProductImage:
    _require(actor, image.product.shop)
    image.alt_text = _clean_alt(alt_text)
    db.session.flush()
    return image


def move_photo(actor, image: ProductImage, offset: int) -> None:
    """Move a photo ``offset`` places (-1 earlier, +1 later); the first photo is the cover."""
    product = image.product
    _require(actor, product.shop)
    ordered = list(product.images)
    index = ordered.index(image)
    target = min(max(index + int(offset), 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, item in enumerate(ordered):
        item.position = position
    db.session.flush()
    db.session.expire(product, ["images"])


def delete_photo(actor, image: ProductImage) -> str | None:
    """Remove the photo; returns its storage key when no other row uses it (delete files after commit)."""
    product = image.product
    _require(actor, product.shop)
    key = image.storage_key
    record(actor, "photo.delete", "product", product.id, before={"image_id": image.id})
    product.images.remove(image)
    db.session.flush()
    for position, item in enumerate(product.images):
        item.position = position
    db.session.flush()
    still_used = db.session.scalar(sa.select(ProductImage.id).where(ProductImage.storage_key == key).limit(1))
    return None if still_used else key
