"""Callable factories: each builds one object with sensible defaults, flushes and returns it."""
from __future__ import annotations

import itertools
from datetime import date

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import (
    ClaimStatus,
    CraftVillage,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    Variant,
)
from marketplace.core.time import add_months, utcnow
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus

_seq = itertools.count(1)


def make_user(role: str = Role.SHOPPER, email: str | None = None, password_hash: str | None = None, **kw) -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@example.vn", name=kw.pop("name", f"Người dùng {n}"), role=role,
                password_hash=password_hash, **kw)
    db.session.add(user)
    db.session.flush()
    return user


def make_village(slug: str | None = None, recognition: str = Recognition.TRADITIONAL, **kw) -> CraftVillage:
    n = next(_seq)
    village = CraftVillage(
        slug=slug or f"lang-{n}", name_vi=kw.pop("name_vi", f"Làng {n}"), name_en=kw.pop("name_en", None),
        craft_vi=kw.pop("craft_vi", "gốm sứ"), craft_en=kw.pop("craft_en", "pottery"),
        category=kw.pop("category", "ceramics"), recognition=recognition,
        commune_vi=kw.pop("commune_vi", "xã Bát Tràng"), **kw,
    )
    db.session.add(village)
    db.session.flush()
    return village


def make_shop(village: CraftVillage | None = None, owner: User | None = None, status: str = ShopStatus.ACTIVE,
              verified: bool = True, **kw) -> Shop:
    n = next(_seq)
    village = village or make_village()
    owner = owner or make_user(Role.ARTISAN)
    shop = Shop(owner_id=owner.id, village_id=village.id, name=kw.pop("name", f"Xưởng {n}"),
                slug=kw.pop("slug", f"xuong-{n}"), status=status, verified=verified,
                shipping_fee=kw.pop("shipping_fee", 30_000), **kw)
    db.session.add(shop)
    db.session.flush()
    return shop


def make_product(shop: Shop | None = None, status: str = ProductStatus.ACTIVE, price: int = 350_000,
                 stock: int = 10, variants: list[tuple[str, int, int]] | None = None, images: int = 0,
                 ocop_stars: int | None = None, ocop_issued_on: date | None = None,
                 ocop_status: str = ClaimStatus.VERIFIED, **kw) -> Product:
    """An OCOP certificate (``ocop_stars``) is verified unless ``ocop_status`` says otherwise."""
    n = next(_seq)
    shop = shop or make_shop()
    product = Product(
        shop_id=shop.id, title_vi=kw.pop("title_vi", f"Sản phẩm {n}"), title_en=kw.pop("title_en", None),
        description_vi=kw.pop("description_vi", "Mô tả sản phẩm làm thủ công tại làng nghề."),
        category=kw.pop("category", "ceramics"), status=status, **kw,
    )
    if status != ProductStatus.DRAFT:
        product.published_at = kw.get("published_at") or utcnow()
    if ocop_stars:
        product.ocop_stars = ocop_stars
        product.ocop_issued_on = ocop_issued_on or date.today()
        product.ocop_expires_on = add_months(product.ocop_issued_on, 36)
        product.ocop_certificate_number = f"{n}/QĐ-UBND"
        product.ocop_status = ocop_status
    for position, (name, vprice, vstock) in enumerate(variants or [("Tiêu chuẩn", price, stock)]):
        product.variants.append(Variant(name=name, sku=f"SKU-{n}-{position}", price=vprice, stock=vstock,
                                        position=position))
    for position in range(images):
        product.images.append(ProductImage(storage_key=f"test/{n:02d}/img{position}", width=800, height=800,
                                           position=position, alt_text="ảnh"))
    db.session.add(product)
    db.session.flush()
    return product


def make_ip(village: CraftVillage | None = None, kind: str = "collective_mark", number: str | None = "4-2020-00001",
            **kw) -> IpProtection:
    """Verified and granted on 10/01/2020 unless told otherwise (a mark then runs to 10/01/2030)."""
    ip = IpProtection(kind=kind, name=kw.pop("name", "Nhãn hiệu tập thể"), registration_number=number,
                      village_id=village.id if village else None, status=kw.pop("status", ClaimStatus.VERIFIED),
                      granted_on=kw.pop("granted_on", date(2020, 1, 10)), **kw)
    db.session.add(ip)
    db.session.flush()
    return ip
