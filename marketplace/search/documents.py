"""Product → search document, built from the database (the truth). Only visible products (active
products of active shops) get a document; anything else is removed from the index."""
from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.catalog.models import Category, ClaimStatus, Product, visible_products_clause
from marketplace.shops.models import Shop

BATCH = 500
EPOCH = datetime(1970, 1, 1)


def _join(*parts) -> str:
    return "\n".join(p for p in parts if p)


def document_for(product: Product) -> dict:
    shop = product.shop
    village = shop.village
    cat_vi, cat_en = Category.LABELS.get(product.category, ("", ""))
    prices = [v.price for v in product.variants if v.price]
    price = min(prices) if prices else 0
    published = product.published_at or product.created_at or datetime(2000, 1, 1)
    ocop_until = 0
    # Only a verified certificate is searchable as OCOP (``ocop_valid_clause``); its expiry ends it in the index.
    ocop_stars = product.ocop_stars if product.ocop_status == ClaimStatus.VERIFIED else None
    if ocop_stars:
        expiry = product.ocop_expiry
        ocop_until = expiry.toordinal() if expiry else 0
    doc = {
        "id": str(product.id),
        "pid": product.id,
        "title": _join(product.title_vi, product.title_en),
        "village": _join(village.name_vi, village.name_en, village.commune_vi),
        "body": _join(
            product.description_vi, product.description_en, village.craft_vi, village.craft_en,
            product.materials, product.technique, shop.name, shop.maker_name, cat_vi, cat_en,
        ),
        "category": (product.category or "").encode("utf-8"),
        "village_id": village.id,
        "ocop": int(ocop_stars or 0),
        "ocop_until": ocop_until,
        "price": int(price),
        "published": int((published - EPOCH).total_seconds()),
    }
    doc["stamp"] = stamp(doc)
    return doc


def stamp(doc: dict) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for key in sorted(k for k in doc if k != "stamp"):
        digest.update(f"{key}={doc[key]}\x1f".encode())
    return digest.hexdigest()


def _load(session: Session, criteria) -> list[Product]:
    stmt = (
        sa.select(Product)
        .where(visible_products_clause(), *criteria)
        .options(joinedload(Product.shop).joinedload(Shop.village), selectinload(Product.variants))
        .order_by(Product.id)
    )
    return list(session.scalars(stmt).unique())


def documents_for_ids(session: Session, ids) -> dict[int, dict | None]:
    """id → document, or None where the product is gone or not visible (to be removed)."""
    ids = sorted({int(i) for i in ids})
    out: dict[int, dict | None] = {i: None for i in ids}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for product in _load(session, [Product.id.in_(chunk)]):
            out[product.id] = document_for(product)
    return out


def visible_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count(Product.id)).where(visible_products_clause())) or 0


def all_documents(session: Session):
    """Every visible product's document, in id order, in batches (keyset pagination)."""
    last = 0
    while True:
        stmt = (
            sa.select(Product.id)
            .where(visible_products_clause(), Product.id > last)
            .order_by(Product.id)
            .limit(BATCH)
        )
        ids = list(session.scalars(stmt))
        if not ids:
            return
        for product in _load(session, [Product.id.in_(ids)]):
            yield document_for(product)
        session.expunge_all()
        last = ids[-1]


def product_ids_for(session: Session, shop_ids=(), village_ids=()) -> set[int]:
    """All product ids (visible or not) of the given shops and villages."""
    ids: set[int] = set()
    if shop_ids:
        ids.update(session.scalars(sa.select(Product.id).where(Product.shop_id.in_(list(shop_ids)))))
    if village_ids:
        ids.update(session.scalars(
            sa.select(Product.id).where(Product.shop_id.in_(sa.select(Shop.id).where(Shop.village_id.in_(list(village_ids)))))
        ))
    return ids
