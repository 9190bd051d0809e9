"""Demo makers: every demo shop gets its maker (from the shop's maker name and title), every fourth shop a
second, younger one; the shop's products name them in turn. Idempotent: shops that have makers are left
alone. The honour decisions are illustrative (the demo data says so), not real decisions."""
from __future__ import annotations

import random

import sqlalchemy as sa

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.makers.models import HonourTitle, Maker
from marketplace.shops.models import Shop

SEED = 18
TITLE_OF = {
    "nghệ nhân nhân dân": HonourTitle.PEOPLES_ARTISAN,
    "nghệ nhân ưu tú": HonourTitle.MERITORIOUS_ARTISAN,
    "nghệ nhân hà nội": HonourTitle.HANOI_ARTISAN,
    "thợ giỏi": HonourTitle.SKILLED_CRAFTSMAN,
}
ISSUER = {
    HonourTitle.PEOPLES_ARTISAN: "Chủ tịch nước",
    HonourTitle.MERITORIOUS_ARTISAN: "Chủ tịch nước",
    HonourTitle.HANOI_ARTISAN: "UBND Thành phố Hà Nội",
    HonourTitle.SKILLED_CRAFTSMAN: "UBND Thành phố Hà Nội",
}
APPRENTICES = ["Nguyễn Thị Thảo", "Trần Văn Khánh", "Phạm Minh Đức", "Lê Thị Hương", "Vũ Văn Long"]


def seed_makers(shops: list[Shop]) -> int:
    """Create the demo makers; returns how many were added."""
    rng = random.Random(SEED)
    have = set(db.session.scalars(sa.select(Maker.shop_id).distinct()))
    added = 0
    for index, shop in enumerate(shops):
        if shop.id in have or not shop.maker_name:
            continue
        title = TITLE_OF.get((shop.maker_title or "").strip().lower())
        year = rng.randrange(2010, 2024)
        village = shop.village
        first = Maker(
            shop_id=shop.id, name=shop.maker_name, honour_title=title,
            honour_decision=(f"Quyết định số {rng.randrange(100, 4000)}/QĐ-{'CTN' if ISSUER[title] == 'Chủ tịch nước' else 'UBND'} "
                             f"năm {year} của {ISSUER[title]} (dữ liệu minh hoạ)") if title else None,
            years_in_craft=rng.randrange(15, 50) if title else rng.randrange(5, 30),
            story_vi=(f"{shop.maker_name} sinh ra ở làng {village.name_vi}, theo nghề {village.craft_vi} của gia đình "
                      f"từ năm mười hai tuổi. Mỗi sản phẩm đều qua tay người làm từ khâu đầu đến khâu cuối."),
            story_en=(f"{shop.maker_name} was born in {village.name_en or village.name_vi} and learned the family craft "
                      f"({village.craft_en or village.craft_vi}) at twelve. Every piece passes through the maker's own "
                      f"hands from the first step to the last."),
        )
        makers = [first]
        if index % 4 == 0:
            makers.append(Maker(
                shop_id=shop.id, name=APPRENTICES[index % len(APPRENTICES)], years_in_craft=rng.randrange(2, 10),
                story_vi=f"Học nghề tại xưởng {shop.name}, theo {shop.maker_name}.",
                story_en=f"Learning the craft at {shop.name}, with {shop.maker_name}."))
        db.session.add_all(makers)
        db.session.flush()
        products = db.session.scalars(sa.select(Product).where(Product.shop_id == shop.id, Product.maker_id.is_(None))
                                      .order_by(Product.id))
        for n, product in enumerate(products):
            product.maker_id = makers[n % len(makers)].id
        added += len(makers)
    db.session.flush()
    return added
