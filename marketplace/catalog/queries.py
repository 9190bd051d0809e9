"""Read-side queries for the public catalog. Each returns fully loaded rows in a constant
number of statements (no lazy loads in templates)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from marketplace.catalog.models import (
    PENDING_KEY_PREFIX,
    Category,
    ClaimStatus,
    CraftVillage,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    ip_valid_clause,
    ocop_valid_clause,
    visible_products_clause,
)
from marketplace.core.pagination import Paged
from marketplace.core.time import today_vn
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus

SORTS = {
    "newest": lambda: (Product.published_at.desc(), Product.id.desc()),
    "price_asc": lambda: (Product.min_price.asc(), Product.id.asc()),
    "price_desc": lambda: (Product.min_price.desc(), Product.id.desc()),
}
DEFAULT_SORT = "newest"


@dataclass
class Page(Paged):
    items: list
    page: int
    per_page: int
    total: int


def card_options():
    """What a product card shows: shop, village and images, loaded up front."""
    return (
        joinedload(Product.shop).joinedload(Shop.village),
        selectinload(Product.images),
    )


def visible_products(*, category: str | None = None, village_id: int | None = None, shop_id: int | None = None,
                     sort: str = DEFAULT_SORT, page: int = 1, per_page: int = 24) -> Page:
    criteria = [visible_products_clause()]
    if category in Category.CHOICES:
        criteria.append(Product.category == category)
    if village_id is not None:
        criteria.append(Product.shop_id.in_(sa.select(Shop.id).where(Shop.village_id == village_id)))
    if shop_id is not None:
        criteria.append(Product.shop_id == shop_id)
    total = db.session.scalar(sa.select(sa.func.count(Product.id)).where(*criteria))
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])()
    stmt = (
        sa.select(Product)
        .where(*criteria)
        .options(*card_options())
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = list(db.session.scalars(stmt).unique())
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def product_for_page(product_id: int) -> Product | None:
    stmt = (
        sa.select(Product)
        .where(Product.id == product_id, visible_products_clause())
        .options(
            joinedload(Product.shop).joinedload(Shop.village),
            selectinload(Product.images),
            selectinload(Product.variants),
            joinedload(Product.ip_protection),
            joinedload(Product.maker),
        )
    )
    return db.session.scalars(stmt).unique().first()


def villages_directory(*, category: str | None = None, commune: str | None = None,
                       recognition: str | None = None) -> list[tuple[CraftVillage, int]]:
    """Villages with the number of visible products each, filtered by whitelisted values."""
    counts = (
        sa.select(Shop.village_id, sa.func.count(Product.id).label("n"))
        .join(Product, Product.shop_id == Shop.id)
        .where(Shop.status == ShopStatus.ACTIVE, Product.status == ProductStatus.ACTIVE)
        .group_by(Shop.village_id)
        .subquery()
    )
    stmt = sa.select(CraftVillage, sa.func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.village_id == CraftVillage.id
    )
    if category in Category.CHOICES:
        stmt = stmt.where(CraftVillage.category == category)
    if commune:
        stmt = stmt.where(CraftVillage.commune_vi == commune)
    if recognition in Recognition.CHOICES:
        stmt = stmt.where(CraftVillage.recognition == recognition)
    stmt = stmt.order_by(sa.func.coalesce(counts.c.n, 0).desc(), CraftVillage.name_vi, CraftVillage.id)
    return [(v, n) for v, n in db.session.execute(stmt)]


def communes() -> list[str]:
    stmt = sa.select(CraftVillage.commune_vi).where(CraftVillage.commune_vi.is_not(None)).distinct()
    return sorted(c for (c,) in db.session.execute(stmt) if c)


def village_by_slug(slug: str) -> CraftVillage | None:
    stmt = sa.select(CraftVillage).where(CraftVillage.slug == slug).options(
        selectinload(CraftVillage.ip_protections), selectinload(CraftVillage.images))
    return db.session.scalars(stmt).first()


def village_shops(village_id: int) -> list[Shop]:
    stmt = (
        sa.select(Shop)
        .where(Shop.village_id == village_id, Shop.status == ShopStatus.ACTIVE)
        .options(joinedload(Shop.makers))
        .order_by(Shop.verified.desc(), Shop.name, Shop.id)
    )
    return list(db.session.scalars(stmt).unique())


def village_badges(village_id: int) -> dict:
    """OCOP and IP facts for a village's handbook page, from its visible products."""
    today = today_vn()
    ocop_ok = ocop_valid_clause(today)
    ocop_pending = sa.and_(ocop_valid_clause(today, verified_only=False), Product.ocop_status == ClaimStatus.DECLARED)
    ip_ok = Product.ip_protection_id.in_(sa.select(IpProtection.id).where(ip_valid_clause(today)))
    in_village = Product.shop_id.in_(sa.select(Shop.id).where(Shop.village_id == village_id))
    cover = _cover_statement(in_village).subquery()
    row = db.session.execute(
        sa.select(
            sa.func.max(sa.case((ocop_ok, Product.ocop_stars), else_=None)),
            sa.func.count(sa.case((ocop_ok, 1), else_=None)),
            sa.func.count(sa.case((ip_ok, 1), else_=None)),
            sa.func.count(sa.case((ocop_pending, 1), else_=None)),
            # the village's cover photo for shared links, in the same statement (the page's count stays fixed)
            sa.select(cover.c.storage_key).scalar_subquery(), sa.select(cover.c.width).scalar_subquery(),
            sa.select(cover.c.height).scalar_subquery(),
        ).where(visible_products_clause(), in_village)
    ).one()
    photo = CoverPhoto(row[4], row[5], row[6]) if row[4] else None
    return {"ocop_best": row[0], "ocop_products": row[1], "ip_products": row[2], "ocop_pending": row[3],
            "cover": photo}


def featured_villages(limit: int = 8) -> list[tuple[CraftVillage, int]]:
    return villages_directory()[:limit]


def shop_by_slug(slug: str) -> Shop | None:
    stmt = (
        sa.select(Shop)
        .where(Shop.slug == slug, Shop.status == ShopStatus.ACTIVE)
        .options(joinedload(Shop.village))
    )
    return db.session.scalars(stmt).first()


@dataclass(frozen=True)
class CoverPhoto:
    """A product photo's storage facts (what ``image_url`` needs), read without loading the row."""

    storage_key: str
    width: int
    height: int
    processing: bool = False


def _cover_statement(*criteria):
    """The first photo of the newest visible product matching ``criteria`` (processed photos only)."""
    return (sa.select(ProductImage.storage_key, ProductImage.width, ProductImage.height)
            .join(Product, Product.id == ProductImage.product_id)
            .where(visible_products_clause(), ~ProductImage.storage_key.startswith(PENDING_KEY_PREFIX), *criteria)
            .order_by(Product.published_at.desc(), Product.id.desc(), ProductImage.position, ProductImage.id)
            .limit(1))


def cover_photo(*, shop_id: int) -> CoverPhoto | None:
    """A shop's cover photo for shared links: the first photo of its newest visible product."""
    row = db.session.execute(_cover_statement(Product.shop_id == shop_id)).first()
    return CoverPhoto(*row) if row else None
