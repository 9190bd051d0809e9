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
from marketplace.demo import looks
from marketplace.demo.drawing import draw_product_image
from marketplace.demo.english import seed_english
from marketplace.demo.ledger import seed_ledger_demo
from marketplace.demo.makers import seed_makers
from marketplace.extensions import db
from marketplace.ledger.models import LedgerLine, wipe_lines
from marketplace.media.images import store_derivatives
from marketplace.officials.demo import seed_officials_demo
from marketplace.orders import reviews as order_reviews
from marketplace.orders.models import Order, OrderLine, OrderStatus, Review
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


def village_short(village: CraftVillage) -> str:
    """How a title names the village: "Làng Chuông (Phương Trung)" → "làng Chuông", "Thạch Xá (chè lam)" → "Thạch Xá"."""
    name = village.name_vi.split(" (")[0].strip()
    for word in ("Làng ", "Thôn "):
        if name.startswith(word):
            return word.lower() + name[len(word):]
    return name


def village_phrase(village: CraftVillage) -> str:
    """"làng Bát Tràng", "làng Chuông", "thôn Thần": never "làng Làng Chuông"."""
    short = village_short(village)
    return short if short.startswith(("làng ", "thôn ")) else f"làng {short}"


def _bare(village: CraftVillage) -> str:
    short = village_short(village)
    return short.split(" ", 1)[1] if short.startswith(("làng ", "thôn ")) else short


def craft_word(village: CraftVillage) -> str:
    templates = data.VILLAGE_TEMPLATES.get(village.slug)
    if templates is not None:
        names = {id(getattr(data, n)): n for n in data.TEMPLATE_CRAFT_WORDS}
        word = data.TEMPLATE_CRAFT_WORDS.get(names.get(id(templates[1])))
        if word:
            return word
    return data.CRAFT_WORDS.get(village.category, "thủ công")


def shop_name(index: int, maker: str, village: CraftVillage, used: set[str]) -> str:
    """A workshop's sign as Hanoi villages write them: "Gốm Minh Quý Bát Tràng", "Xưởng sơn mài Đặng Văn Hải",
    "Cơ sở lụa Mai Vạn Phúc" — the maker's own name, the craft, the village; never a number."""
    words = maker.split()
    given, pair = words[-1], " ".join(words[-2:]) if words[1] not in ("Văn", "Thị") else words[-1]
    craft = craft_word(village)
    place = _bare(village)
    patterns = [f"{craft.capitalize()} {pair} {place}", f"Xưởng {craft} {maker}", f"Cơ sở {craft} {given} {place}",
                f"Nhà {craft} {maker}", f"{craft.capitalize()} {maker} {place}"]
    for k in range(len(patterns)):
        name = patterns[(index + k) % len(patterns)]
        if name not in used:
            used.add(name)
            return name
    raise ValueError(f"no free shop name for {maker}")  # pragma: no cover - forty distinct makers


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
    used_names: set[str] = set()
    for index, slug in enumerate(plan):
        village = villages[slug]
        maker, title = data.MAKERS[index % len(data.MAKERS)]
        name = shop_name(index, maker, village, used_names)
        slug_shop = slugify(name)
        shop = db.session.scalar(sa.select(Shop).where(Shop.slug == slug_shop))
        if shop is None:
            owner = _user(f"artisan{index + 1:02d}@{DEMO_DOMAIN}", maker, Role.ARTISAN, password_hash)
            db.session.flush()
            fee = rng.choice([20_000, 25_000, 30_000, 35_000])
            shop = Shop(
                owner_id=owner.id, village_id=village.id, name=name, slug=slug_shop,
                story=(f"{maker} làm nghề {village.craft_vi} ở {village_phrase(village)} từ nhỏ, theo nghề của gia đình. "
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


def _titles(base_vi: str, base_en: str, kind: str, village: CraftVillage, allowed: list[int], rotate: int):
    """The titles a template may take in a village, plainest first: (title_vi, title_en, look variant).
    A qualifier is a feature the picture shows (looks.qualifier); the village is named once."""
    short = village_short(village)
    place_vi = "" if _bare(village).lower() in base_vi.lower() else f" {short}"
    place_en = f" from {village.name_en or village.name_vi}" if village.name_en else f" from {_bare(village)}"
    yield f"{base_vi}{place_vi}", f"{base_en}{place_en}", allowed[rotate % min(4, len(allowed))]
    seen = set()
    for v in allowed:  # a fixed order: one drawing per look, shared by the villages (the seed's speed)
        q = looks.qualifier(kind, v, base_vi)
        if q is None or q[0] in seen:
            continue
        seen.add(q[0])
        first, _, rest = q[0].partition(" ")
        words = base_vi.lower().split()
        if first == words[-1]:  # "Sư tử đá" + "đá xanh" → "Sư tử đá xanh"
            yield f"{base_vi} {rest}{place_vi}", f"{base_en}, {q[1]}{place_en}", v
        elif first not in words:  # never "vẽ cá chép vẽ sen"
            yield f"{base_vi} {q[0]}{place_vi}", f"{base_en}, {q[1]}{place_en}", v


def _views(kind: str, title: str, look: int, variant_names: list[str]) -> list[tuple[int, int, str]]:
    """The product's photos: (drawing variant, view, alt suffix). One shot per variant that names a colour,
    glaze or motif (each drawn as named), then a close-up of the decoration and the other side."""
    shots: list[tuple[int, int, str]] = []
    for name in variant_names:
        want = looks.wanted(name)
        if not any(dim in looks.tags(kind, look) for dim in want):
            continue
        chosen = [v for v in looks.choose(kind, f"{title} {name}")
                  if all(looks.tags(kind, v).get(d) == looks.tags(kind, look).get(d)
                         for d in looks.tags(kind, look) if d not in want)] or looks.choose(kind, f"{title} {name}")
        v = look if look in chosen else chosen[0]
        if all(v != s[0] for s in shots):
            shots.append((v, 0, name))
    if not shots:
        shots.append((look, 0, "toàn cảnh"))
    shots = shots[:3]
    shots.append((shots[0][0], 1, "cận cảnh hoa văn"))
    return shots


def seed_products(shops: list[Shop], report: SeedReport, with_images: bool) -> None:
    rng = random.Random(SEED * 7)
    image_cache: dict[tuple[str, int, int], tuple[str, int, int]] = {}
    ip_by_village = {ip.village_id: ip for ip in db.session.scalars(sa.select(IpProtection))}
    shops_with_products = set(db.session.scalars(sa.select(Product.shop_id).distinct()))
    used: dict[int, set[str]] = {}  # village → titles taken (all titles distinct within a village)
    sku_counter = 0
    for shop_index, shop in enumerate(shops):
        village = shop.village
        taken = used.setdefault(village.id, set())
        if shop.id in shops_with_products:
            taken.update(db.session.scalars(sa.select(Product.title_vi).where(Product.shop_id == shop.id)))
            continue
        category, templates = data.VILLAGE_TEMPLATES.get(
            village.slug, (village.category, data.CATEGORY_TEMPLATES.get(village.category, data.GENERIC))
        )
        count = 9 if len(templates) >= 5 else 8
        start = rng.randrange(len(templates))
        made = 0
        for k in range(len(templates) * 12):
            if made == count:
                break
            tpl_index = (start + k) % len(templates)
            (base_vi, base_en, desc_vi, desc_en, materials, technique, dims, weight, base_price, variants,
             kind) = templates[tpl_index]
            allowed = looks.choose(kind, base_vi)
            pick = next(((t_vi, t_en, v) for t_vi, t_en, v in _titles(base_vi, base_en, kind, village, allowed,
                                                                       shop_index + k) if t_vi not in taken), None)
            if pick is None:
                continue  # every honest title of this template is taken in the village
            title_vi, title_en, look = pick
            taken.add(title_vi)
            made += 1
            product = Product(
                shop_id=shop.id, title_vi=title_vi, title_en=title_en,
                description_vi=f"{desc_vi}\n\nLàm tay tại {village_phrase(village)} bởi {shop.maker_name}.",
                description_en=f"{desc_en}\n\nHand-made in {_bare(village)} by {shop.maker_name}.",
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
                for position, (v, view, what) in enumerate(_views(kind, title_vi, look, [n for n, _ in variants])):
                    cached = image_cache.get((kind, v, view))
                    if cached is None:
                        cached = image_cache[(kind, v, view)] = _draw_and_store(kind, v, view)
                    key, width, height = cached
                    product.images.append(ProductImage(
                        storage_key=key, width=width, height=height, position=position,
                        alt_text=f"{title_vi} – {what}",
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


def _draw_and_store(kind: str, variant_no: int, view: int = 0) -> tuple[str, int, int]:
    image = draw_product_image(kind, variant_no, size=800, view=view)
    return store_derivatives(image, prefix="demo")


REVIEWERS = ["Lan N.", "Hùng T.", "Mai P.", "Tuấn L.", "Hương Đ.", "Minh V.", "Thảo B.", "Quang H.", "Ngọc A.",
             "Dũng Đ.", "Trang N.", "Phong L.", "Hà V.", "Sơn T.", "Linh P.", "Khoa N.", "Yến T.", "Bảo C."]
REVIEW_TEXTS = {
    5: ["Hàng đẹp hơn ảnh, đóng gói rất cẩn thận.", "Đúng như mô tả, làm tay rất tỉ mỉ. Sẽ ủng hộ tiếp.",
        "Mua làm quà cho bạn nước ngoài, bạn rất thích.", "Giao nhanh, chủ xưởng nhiệt tình tư vấn.",
        "Chất lượng tốt, giá hợp lý so với hàng ngoài phố.", "Màu sắc đẹp, đường nét sắc sảo. Rất hài lòng."],
    4: ["Sản phẩm đẹp, giao hơi chậm một chút.", "Hàng tốt, hộp đựng có thể chắc chắn hơn.",
        "Đẹp, đúng mẫu, màu thực tế đậm hơn ảnh một chút.", "Ổn trong tầm giá, sẽ mua thêm."],
    3: ["Tạm được, có vài chỗ chưa đều tay.", "Hàng ổn nhưng giao lâu hơn hẹn hai ngày."],
    2: ["Hàng bị sứt nhẹ ở cạnh khi nhận, đã báo shop.", "Màu khác ảnh khá nhiều."],
    1: ["Hàng vỡ khi nhận, chờ shop đổi."],
}
REPLIES = {
    "good": ["Cảm ơn anh/chị đã tin tưởng xưởng! Hẹn gặp lại ạ.", "Xưởng cảm ơn lời khen, chúc anh/chị vui ạ.",
             "Cảm ơn anh/chị, có dịp về làng ghé xưởng chơi nhé!"],
    "bad": ["Xưởng xin lỗi anh/chị, bên em đã gửi hàng đổi mới trong tuần này ạ.",
            "Cảm ơn anh/chị đã góp ý, xưởng sẽ đóng gói kỹ hơn ạ.",
            "Xưởng rất tiếc, bên em đã liên hệ để đổi hàng cho anh/chị ạ."],
}


def seed_reviews(anchor: datetime = ANCHOR) -> int:
    """Reviews with star ratings (and some shop replies) on delivered demo orders, then every product's
    counters (rating, "đã bán"). Deterministic; a second run adds nothing."""
    if db.session.scalar(sa.select(Review.id).limit(1)) is not None:
        return 0
    rng = random.Random(SEED * 11)
    rows = db.session.execute(
        sa.select(Order.id, Order.shop_id, Order.delivered_at, OrderLine.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.in_(OrderStatus.DELIVERED_STATES), OrderLine.product_id.is_not(None))
        .order_by(Order.id, OrderLine.id)).all()
    values, seen = [], set()
    for order_id, shop_id, delivered_at, product_id in rows:
        if (order_id, product_id) in seen or rng.random() >= 0.35:
            continue
        seen.add((order_id, product_id))
        rating = rng.choices((5, 4, 3, 2, 1), weights=(58, 27, 9, 4, 2))[0]
        created = min((delivered_at or anchor) + timedelta(days=rng.randrange(1, 9), hours=rng.randrange(12)),
                      anchor - timedelta(hours=1))
        reply = None
        if rng.random() < (0.9 if rating <= 3 else 0.45):
            reply = rng.choice(REPLIES["bad" if rating <= 3 else "good"])
        values.append({"product_id": product_id, "order_id": order_id, "buyer_id": None, "shop_id": shop_id,
                       "author_name": rng.choice(REVIEWERS), "rating": rating,
                       "body": rng.choice(REVIEW_TEXTS[rating]) if rng.random() < 0.85 else None,
                       "reply": reply, "replied_at": created + timedelta(hours=rng.randrange(2, 30)) if reply else None,
                       "created_at": created})
    if values:
        db.session.execute(sa.insert(Review), values)
    order_reviews.recount_products()
    return len(values)


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
    report.notes.append(f"Reviews: {seed_reviews()} on delivered orders")
    report.notes.append(seed_ledger_demo(admin_email=f"admin@{DEMO_DOMAIN}"))
    return report


def _demo_shipping(index: int, fee: int) -> dict:
    """Hà Nội fee, delivery estimates and (one shop in three) weight surcharges, as its shipping policy says."""
    return {"shipping_fee_hanoi": max(fee - 10_000, 0), "delivery_days_hanoi": "2–4", "delivery_days_other": "4–7",
            "shipping_weight_bands": "2000=15000; 5000=30000" if index % 3 == 0 else None}
