"""Deterministic demo data: the 59 real villages, about 40 shops, 300+ active products with
variants, OCOP certificates (some expired), IP records and drawn photos.

Everything is derived from a fixed seed and a fixed anchor date, so two runs give the same catalog.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.catalog.models import (
    ClaimStatus,
    CraftVillage,
    IpKind,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    Variant,
)
from marketplace.core.text import slugify
from marketplace.core.time import add_months
from marketplace.demo import catalog_data as data
from marketplace.demo.drawing import draw_product_image
from marketplace.demo.english import seed_english
from marketplace.demo.ledger import seed_ledger_demo
from marketplace.demo.makers import seed_makers
from marketplace.extensions import db
from marketplace.ledger.models import LedgerLine, wipe_lines
from marketplace.media.images import store_derivatives
from marketplace.officials.demo import seed_officials_demo
from marketplace.shops.models import Shop, ShopStatus

SEED = 282
ANCHOR = datetime(2026, 11, 1, 9, 0, 0)  # "today" of the demo data (UTC, naive)
DEMO_PASSWORD = "lang-nghe-2030"
DEMO_DOMAIN = "demo.cholangnghe.vn"
TOURISM_VILLAGES = {"bat-trang", "van-phuc", "chuong", "phu-vinh", "son-dong", "quang-phu-cau", "ha-thai",
                    "xuan-la", "kieu-ky", "com-vong", "chang-son", "thach-xa-chuon-chuon"}
# Villages that get more than one shop (the famous ones), then others picked by the RNG.
MULTI_SHOP = {"bat-trang": 4, "van-phuc": 3, "chuong": 2, "phu-vinh": 2, "son-dong": 2, "ha-thai": 2,
              "quang-phu-cau": 1, "com-vong": 1, "thach-xa-chuon-chuon": 1, "xuan-la": 1, "dinh-cong": 1}
SHOP_COUNT = 40


@dataclass
class SeedReport:
    villages: int = 0
    users: int = 0
    shops: int = 0
    products: int = 0
    images: int = 0
    notes: list[str] = field(default_factory=list)


def village_rows() -> list[dict]:
    with resources.files("marketplace.demo").joinpath("data/hanoi_craft_villages.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _recognition(row: dict) -> str:
    return {"yes": Recognition.TRADITIONAL, "no": Recognition.CRAFT_VILLAGE}.get(row["traditional"], Recognition.NONE)


def _story(row: dict) -> tuple[str, str]:
    where_vi = row["commune_vi"] or "Hà Nội"
    district = f", trước đây thuộc {row['former_district_vi']}" if row["former_district_vi"] else ""
    notable = row["notable_products"].strip()
    vi = (f"Làng {row['name_vi']} ({where_vi}{district}) nổi tiếng với nghề {row['craft_vi']}. "
          f"Nghề được truyền qua nhiều thế hệ; mỗi sản phẩm mang dấu tay của người thợ và nếp làng.")
    if notable:
        vi += f"\n\nSản phẩm tiêu biểu: {notable}."
    vi += "\n\nTrên Chợ Làng Nghề, bạn mua trực tiếp từ các hộ và hợp tác xã của làng."
    en = (f"{row['name_en'] or row['name_vi']} is known for {row['craft_en']}. The craft has been handed down "
          f"for generations, and every piece carries the maker's hand and the village's style.\n\n"
          f"On Chợ Làng Nghề you buy directly from the village's households and cooperatives.")
    return vi, en


def seed_villages(report: SeedReport) -> dict[str, CraftVillage]:
    existing = {v.slug: v for v in db.session.scalars(sa.select(CraftVillage))}
    for row in village_rows():
        village = existing.get(row["slug"])
        if village is None:
            village = CraftVillage(slug=row["slug"])
            db.session.add(village)
            existing[row["slug"]] = village
        story_vi, story_en = _story(row)
        village.name_vi = row["name_vi"]
        village.name_en = row["name_en"] or None
        village.commune_vi = row["commune_vi"] or None
        village.former_district_vi = row["former_district_vi"] or None
        village.commune_note = row["commune_note"] or None
        village.craft_vi = row["craft_vi"]
        village.craft_en = row["craft_en"] or None
        village.category = row["category"]
        village.recognition = _recognition(row)
        village.recognition_year = int(row["recognized_year"]) if row["recognized_year"].isdigit() else None
        village.tourism = row["slug"] in TOURISM_VILLAGES
        village.notable_products = row["notable_products"] or None
        village.story_vi = village.story_vi or story_vi
        village.story_en = village.story_en or story_en
        village.sources = row["source"] or None
        if row["latitude"] and village.latitude is None:  # an official's correction is kept
            village.latitude, village.longitude = float(row["latitude"]), float(row["longitude"])
    db.session.flush()
    report.villages = len(existing)
    _seed_ip(existing)
    return existing


def _seed_ip(villages: dict[str, CraftVillage]) -> None:
    """IP records: the marks the source names (collective marks), with illustrative registration numbers."""
    have = {(ip.village_id, ip.kind) for ip in db.session.scalars(sa.select(IpProtection))}
    n = 0
    for row in village_rows():
        note = row["ip_protection"].strip()
        if not note.startswith("collective_mark"):
            continue  # trademarks and 'heritage' notes are not one of the three protected kinds
        village = villages[row["slug"]]
        n += 1
        if (village.id, IpKind.COLLECTIVE_MARK) in have:
            continue
        name = note.split(":", 1)[1].strip() if ":" in note else f"{row['craft_vi'].capitalize()} {row['name_vi']}"
        name = name.split("(")[0].strip() or f"{row['craft_vi'].capitalize()} {row['name_vi']}"
        db.session.add(IpProtection(
            kind=IpKind.COLLECTIVE_MARK, name=name, village_id=village.id,
            registration_number=f"4-{2015 + n % 8}-{10_000 + n * 137:05d} (minh họa)",
            holder=f"Hội làng nghề {row['name_vi']}", granted_on=date(2015 + n % 8, 1 + n % 12, 10),
        ))
    db.session.flush()


def _user(email: str, name: str, role: str, password_hash: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, role=role, password_hash=password_hash)
        db.session.add(user)
    return user


def seed_users_and_shops(villages: dict[str, CraftVillage], report: SeedReport, password_hash: str) -> list[Shop]:
    rng = random.Random(SEED)
    _user(f"admin@{DEMO_DOMAIN}", "Quản trị viên", Role.ADMIN, password_hash)
    _user(f"official@{DEMO_DOMAIN}", "Chị Mai (Sở Nông nghiệp và Môi trường)", Role.OFFICIAL, password_hash)
    _user(f"shopper@{DEMO_DOMAIN}", "Lan Nguyễn", Role.SHOPPER, password_hash)
    rows = {r["slug"]: r for r in village_rows()}
    plan: list[str] = []
    for slug, count in MULTI_SHOP.items():
        plan.extend([slug] * count)
    others = [s for s in rows if s not in MULTI_SHOP]
    rng.shuffle(others)
    plan.extend(others[: SHOP_COUNT - len(plan)])
    shops = []
    per_village: dict[str, int] = {}
    for index, slug in enumerate(plan):
        village = villages[slug]
        per_village[slug] = per_village.get(slug, 0) + 1
        maker, title = data.MAKERS[index % len(data.MAKERS)]
        prefix = data.SHOP_PREFIXES[index % len(data.SHOP_PREFIXES)]
        name = f"{prefix} {maker.split()[-1]} {village.name_vi}"
        if per_village[slug] > 1:
            name = f"{prefix} {maker.split()[-1]} {village.name_vi} {per_village[slug]}"
        slug_shop = slugify(name)
        shop = db.session.scalar(sa.select(Shop).where(Shop.slug == slug_shop))
        if shop is None:
            owner = _user(f"artisan{index + 1:02d}@{DEMO_DOMAIN}", maker, Role.ARTISAN, password_hash)
            db.session.flush()
            fee = rng.choice([20_000, 25_000, 30_000, 35_000])
            shop = Shop(
                owner_id=owner.id, village_id=village.id, name=name, slug=slug_shop,
                story=(f"{maker} làm nghề {village.craft_vi} ở làng {village.name_vi} từ nhỏ, theo nghề của gia đình. "
                       f"Mỗi sản phẩm đều làm tay tại xưởng trong làng."),
                maker_name=maker, maker_title=title, phone=f"09{rng.randrange(10_000_000, 99_999_999)}",
                shipping_policy="Đóng gói chống va đập, giao trong 2–4 ngày nội thành Hà Nội, 4–7 ngày toàn quốc.",
                returns_policy="Đổi trả trong 7 ngày nếu hàng vỡ hỏng khi vận chuyển (kèm video mở hộp).",
                shipping_fee=fee, free_shipping_over=rng.choice([None, 500_000, 1_000_000]),
                **_demo_shipping(index, fee),
                verified=index % 7 != 6, status=ShopStatus.SUSPENDED if index == 33 else ShopStatus.ACTIVE,
            )
            db.session.add(shop)
        shops.append(shop)
    db.session.flush()
    report.users = db.session.scalar(sa.select(sa.func.count(User.id)))
    report.shops = len(shops)
    return shops


def _round_price(value: float) -> int:
    step = 5_000 if value < 2_000_000 else 50_000
    return max(step, int(round(value / step)) * step)


def seed_products(shops: list[Shop], report: SeedReport, with_images: bool) -> None:
    rng = random.Random(SEED * 7)
    image_cache: dict[tuple[str, int], tuple[str, int, int]] = {}
    ip_by_village = {ip.village_id: ip for ip in db.session.scalars(sa.select(IpProtection))}
    shops_with_products = set(db.session.scalars(sa.select(Product.shop_id).distinct()))
    sku_counter = 0
    for shop_index, shop in enumerate(shops):
        if shop.id in shops_with_products:
            continue
        village = shop.village
        category, templates = data.VILLAGE_TEMPLATES.get(
            village.slug, (village.category, data.CATEGORY_TEMPLATES.get(village.category, data.GENERIC))
        )
        count = 9 if len(templates) >= 5 else 8
        start = rng.randrange(len(templates))
        for k in range(count):
            tpl_index = (start + k) % len(templates)
            (title_vi, title_en, desc_vi, desc_en, materials, technique, dims, weight, base_price, variants,
             kind) = templates[tpl_index]
            repeat = (start + k) // len(templates)
            style_vi, style_en = [("", ""), (" – mẫu mới", " – new design"), (" – bản đặc biệt", " – special edition")][
                min(repeat, 2)]
            product = Product(
                shop_id=shop.id,
                title_vi=f"{title_vi} {village.name_vi}{style_vi}",
                title_en=f"{title_en} from {village.name_en or village.name_vi}{style_en}",
                description_vi=f"{desc_vi}\n\nLàm tay tại làng {village.name_vi} bởi {shop.maker_name}.",
                description_en=f"{desc_en}\n\nHand-made in {village.name_vi} by {shop.maker_name}.",
                category=category, materials=materials, technique=technique, dimensions=dims, weight_grams=weight,
            )
            roll = rng.random()
            product.status = (ProductStatus.DRAFT if roll < 0.06 else ProductStatus.ARCHIVED if roll < 0.09
                              else ProductStatus.ACTIVE)
            days_ago = rng.randrange(0, 720)
            product.created_at = ANCHOR - timedelta(days=days_ago, hours=rng.randrange(24))
            if product.status != ProductStatus.DRAFT:
                product.published_at = product.created_at + timedelta(hours=rng.randrange(1, 48))
            if rng.random() < 0.28:
                product.ocop_stars = rng.choice([3, 3, 3, 4, 4, 5])
                issued = date(2021, 1, 15) + timedelta(days=rng.randrange(0, 5 * 365 + 150))
                product.ocop_issued_on = issued
                product.ocop_expires_on = add_months(issued, 36)
                product.ocop_certificate_number = f"{rng.randrange(100, 9999)}/QĐ-UBND"
                product.ocop_issuer = ("Bộ Nông nghiệp và Môi trường" if product.ocop_stars == 5
                                       else "UBND thành phố Hà Nội")
            ip = ip_by_village.get(village.id)
            if ip is not None and rng.random() < 0.7:
                product.ip_protection_id = ip.id
            for position, (variant_name, multiplier) in enumerate(variants):
                sku_counter += 1
                stock = 0 if rng.random() < 0.07 else rng.randrange(1, 40)
                product.variants.append(Variant(
                    name=variant_name, sku=f"{village.slug[:6].upper()}-{shop.id:03d}-{sku_counter:05d}",
                    price=_round_price(base_price * multiplier * rng.uniform(0.85, 1.25)), stock=stock,
                    position=position,
                ))
            if with_images:
                n_images = 1 + (tpl_index + shop_index) % 3
                for position in range(n_images):
                    variant_no = (tpl_index * 3 + shop_index + position * 5) % 8
                    cached = image_cache.get((kind, variant_no))
                    if cached is None:
                        cached = _draw_and_store(kind, variant_no)
                        image_cache[(kind, variant_no)] = cached
                    key, width, height = cached
                    product.images.append(ProductImage(
                        storage_key=key, width=width, height=height, position=position,
                        alt_text=f"{product.title_vi} – ảnh {position + 1}",
                    ))
                    report.images += 1
            db.session.add(product)
            report.products += 1
        db.session.flush()


def verify_seed_claims(official_email: str) -> None:
    """The demo's OCOP certificates and IP records are claims the demo official has checked (the seed is the
    evidence); claims someone declares later through the app stay "declared" until an official reviews them."""
    official = db.session.scalar(sa.select(User).where(User.email == official_email))
    reviewed = {"reviewed_by_id": official.id if official else None, "reviewed_at": ANCHOR,
                "review_note": "Dữ liệu minh họa, đối chiếu với bản gốc khi tạo dữ liệu mẫu."}
    for product in db.session.scalars(sa.select(Product).where(
            Product.ocop_stars.is_not(None), Product.ocop_status == ClaimStatus.DECLARED,
            Product.ocop_reviewed_at.is_(None))):
        product.ocop_status = ClaimStatus.VERIFIED
        product.ocop_reviewed_by_id = reviewed["reviewed_by_id"]
        product.ocop_reviewed_at = reviewed["reviewed_at"]
        product.ocop_review_note = reviewed["review_note"]
    for ip in db.session.scalars(sa.select(IpProtection).where(
            IpProtection.status == ClaimStatus.DECLARED, IpProtection.reviewed_at.is_(None))):
        ip.status = ClaimStatus.VERIFIED
        for key, value in reviewed.items():
            setattr(ip, key, value)
    db.session.flush()


def _draw_and_store(kind: str, variant_no: int) -> tuple[str, int, int]:
    image = draw_product_image(kind, variant_no, size=800)
    return store_derivatives(image, prefix="demo")


def reset_data() -> None:
    """Delete every row (keeps the schema and Alembic's version table)."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name == LedgerLine.__tablename__:  # append-only: its triggers refuse a DELETE
            wipe_lines(db.session)
        else:
            db.session.execute(table.delete())
    db.session.flush()


def seed_demo(*, reset: bool = False, with_images: bool = True, password_hash: str | None = None) -> SeedReport:
    """Load the demo catalog, then the officials' history. Idempotent: a second run adds nothing."""
    if reset:
        reset_data()
    report = SeedReport()
    villages = seed_villages(report)
    shops = seed_users_and_shops(villages, report, password_hash or hash_password(DEMO_PASSWORD))
    seed_products(shops, report, with_images)
    seed_makers(shops)
    verify_seed_claims(f"official@{DEMO_DOMAIN}")
    report.notes.append(seed_english())  # English for tourists (demo/english.py)
    report.notes.append(seed_officials_demo(anchor=ANCHOR, seed=SEED, official_email=f"official@{DEMO_DOMAIN}"))
    report.notes.append(seed_ledger_demo(admin_email=f"admin@{DEMO_DOMAIN}"))
    return report


def _demo_shipping(index: int, fee: int) -> dict:
    """Hà Nội fee, delivery estimates and (one shop in three) weight surcharges, as its shipping policy says."""
    return {"shipping_fee_hanoi": max(fee - 10_000, 0), "delivery_days_hanoi": "2–4", "delivery_days_other": "4–7",
            "shipping_weight_bands": "2000=15000; 5000=30000" if index % 3 == 0 else None}
