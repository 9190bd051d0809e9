"""Makers of a shop (managed in the seller area), the maker named on a product, and the QR scan counter.

Who may manage a maker is who may manage its shop (``catalog.services.can_manage`` →
``shops.access.can_manage_shop``); anything else is ``NotFound`` (another shop's maker answers 404).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from marketplace.catalog.models import Product, visible_products_clause
from marketplace.catalog.services import can_manage, valid_id
from marketplace.core.audit import record
from marketplace.core.time import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.makers.models import HonourTitle, Maker, QrScan
from marketplace.media.images import check_uploads, ingest_upload
from marketplace.shops.models import Shop, ShopStatus

MAX_MAKERS_PER_SHOP = 50
MAX_STORY = 5000
FIELDS = ("name", "honour_title", "honour_decision", "years_in_craft", "story_vi", "story_en")


# --- loading --------------------------------------------------------------------------------------

def maker_for_seller(actor, maker_id: Any) -> Maker:
    maker = db.session.get(Maker, maker_id) if valid_id(maker_id) else None
    if maker is None or not can_manage(actor, maker.shop):
        raise NotFound(_("Không tìm thấy nghệ nhân."))
    return maker


def shop_makers(shop_id: int) -> list[Maker]:
    return list(db.session.scalars(sa.select(Maker).where(Maker.shop_id == shop_id).order_by(Maker.name, Maker.id)))


def public_maker(maker_id: int) -> Maker | None:
    """A maker whose shop is active (what ``/makers/<id>`` shows), or None."""
    return db.session.scalar(
        sa.select(Maker).join(Shop, Shop.id == Maker.shop_id)
        .where(Maker.id == maker_id, Shop.status == ShopStatus.ACTIVE)
    )


def maker_products(maker_id: int, limit: int = 24) -> list[Product]:
    return list(db.session.scalars(
        sa.select(Product).where(Product.maker_id == maker_id, visible_products_clause())
        .options(selectinload(Product.images), joinedload(Product.shop).joinedload(Shop.village))
        .order_by(Product.published_at.desc().nulls_last(), Product.id.desc()).limit(limit)
    ))


def village_makers(village_id: int) -> list[Maker]:
    """The makers of the village's active shops (the village page lists them), honoured ones first."""
    return list(db.session.scalars(
        sa.select(Maker).join(Shop, Shop.id == Maker.shop_id)
        .where(Shop.village_id == village_id, Shop.status == ShopStatus.ACTIVE)
        .options(joinedload(Maker.shop))
        .order_by(Maker.honour_title.is_(None), Maker.name, Maker.id)
    ))


def village_makers_of(shops: list[Shop]) -> list[Maker]:
    """The makers of already loaded shops (``Shop.makers``), in ``village_makers``' order."""
    makers = [m for shop in shops for m in shop.makers]
    return sorted(makers, key=lambda m: (m.honour_title is None, m.name, m.id))


# --- writing --------------------------------------------------------------------------------------

def clean_maker_data(form) -> tuple[dict, dict]:
    """The form's values, typed, and a field → message dict of what is wrong."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = _("Hãy nhập tên nghệ nhân.")
    elif len(name) > 120:
        errors["name"] = _("Tên dài tối đa %(n)s ký tự.", n=120)
    clean["name"] = name
    title = str(form.get("honour_title") or "").strip() or None
    if title is not None and title not in HonourTitle.CHOICES:
        errors["honour_title"] = _("Hãy chọn một danh hiệu trong danh sách.")
    clean["honour_title"] = title
    decision = str(form.get("honour_decision") or "").strip() or None
    if decision and len(decision) > 200:
        errors["honour_decision"] = _("Tối đa %(n)s ký tự.", n=200)
    if title and not decision:
        errors["honour_decision"] = _("Hãy ghi quyết định phong tặng danh hiệu (số, ngày, cơ quan).")
    if decision and not title:
        errors["honour_title"] = _("Hãy chọn danh hiệu mà quyết định này phong tặng.")
    clean["honour_decision"] = decision
    years_raw = str(form.get("years_in_craft") or "").strip()
    years = None
    if years_raw:
        if not years_raw.isascii() or not years_raw.isdigit() or not 0 <= int(years_raw) <= 90:
            errors["years_in_craft"] = _("Số năm làm nghề là một số từ 0 đến 90.")
        else:
            years = int(years_raw)
    clean["years_in_craft"] = years
    for key in ("story_vi", "story_en"):
        text = str(form.get(key) or "").strip()
        if len(text) > MAX_STORY:
            errors[key] = _("Tối đa %(n)s ký tự.", n=MAX_STORY)
        clean[key] = text or None
    return clean, errors


def _apply(maker: Maker, form) -> dict:
    clean, errors = clean_maker_data(form)
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, details={"errors": errors})
    before = {k: getattr(maker, k) for k in FIELDS}
    for key, value in clean.items():
        setattr(maker, key, value)
    return {k: v for k, v in before.items() if v != clean[k]}


def _portrait(maker: Maker, upload: tuple[str, bytes] | None) -> None:
    """Store the portrait through the photo pipeline (header and budget checks, re-encoded, no metadata)."""
    if upload is None:
        return
    name, data = upload
    try:
        _headers, refused = check_uploads([(name, data)], field="portrait")
        if refused:
            raise InvalidInput("; ".join(refused), field="portrait")
        stored = ingest_upload(data, prefix="m")
    except InvalidInput as exc:  # found while decoding (a truncated file) or over the request's budget
        raise InvalidInput(exc.message if exc.field == "portrait" else f"{name}: {exc.message}",
                           field="portrait") from None
    maker.portrait_key, maker.portrait_width, maker.portrait_height = stored.key, stored.width, stored.height


def create_maker(actor, shop: Shop, form, portrait: tuple[str, bytes] | None = None) -> Maker:
    if not can_manage(actor, shop):
        raise NotFound(_("Không tìm thấy cửa hàng."))
    count = db.session.scalar(sa.select(sa.func.count(Maker.id)).where(Maker.shop_id == shop.id)) or 0
    if count >= MAX_MAKERS_PER_SHOP:
        raise InvalidInput(_("Một cửa hàng có tối đa %(n)s nghệ nhân.", n=MAX_MAKERS_PER_SHOP), field="name")
    maker = Maker(shop_id=shop.id, name="")
    _apply(maker, form)
    _portrait(maker, portrait)
    db.session.add(maker)
    db.session.flush()
    record(actor, "maker.create", "maker", maker.id, after={"shop_id": shop.id, "name": maker.name})
    return maker


def update_maker(actor, maker: Maker, form, portrait: tuple[str, bytes] | None = None) -> Maker:
    if not can_manage(actor, maker.shop):
        raise NotFound(_("Không tìm thấy nghệ nhân."))
    changed = _apply(maker, form)
    _portrait(maker, portrait)
    db.session.flush()
    record(actor, "maker.update", "maker", maker.id, before={k: str(v) for k, v in changed.items()})
    return maker


def delete_maker(actor, maker: Maker) -> None:
    if not can_manage(actor, maker.shop):
        raise NotFound(_("Không tìm thấy nghệ nhân."))
    db.session.execute(sa.update(Product).where(Product.maker_id == maker.id).values(maker_id=None))
    record(actor, "maker.delete", "maker", maker.id, before={"name": maker.name, "shop_id": maker.shop_id})
    db.session.delete(maker)
    db.session.flush()


def set_product_maker(actor, product: Product, raw_maker_id: Any) -> None:
    """Name the product's maker (one of its shop's makers) or none (empty value)."""
    if not can_manage(actor, product.shop):
        raise NotFound(_("Không tìm thấy sản phẩm."))
    text = str(raw_maker_id or "").strip()
    if not text:
        product.maker_id = None
    else:
        maker_id = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
        maker = db.session.get(Maker, maker_id) if valid_id(maker_id) else None
        if maker is None or maker.shop_id != product.shop_id:
            raise InvalidInput(_("Hãy chọn một nghệ nhân của cửa hàng."), field="maker_id")
        product.maker_id = maker.id
    db.session.flush()


# --- QR scans -------------------------------------------------------------------------------------

def count_scan(product_id: int) -> None:
    """One scan: a single upsert statement (``scans = scans + 1``), no read, no lock held past it."""
    now = utcnow()
    table = QrScan.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = insert.values(product_id=product_id, scans=1, last_scan_at=now).on_conflict_do_update(
        index_elements=[table.c.product_id], set_={"scans": table.c.scans + 1, "last_scan_at": now})
    db.session.execute(stmt)


def scan_counts(product_ids: list[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    return dict(db.session.execute(
        sa.select(QrScan.product_id, QrScan.scans).where(QrScan.product_id.in_(product_ids))).all())
