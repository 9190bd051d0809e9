"""English content for the demo: shop names and stories, variant names, materials and technique, OCOP issuers.

Runs after the catalog is seeded and works on the rows, whatever their Vietnamese wording: a text is
translated phrase by phrase from the glossary below, and left empty (the page then shows the Vietnamese) when a
phrase is unknown. Every fifth shop keeps Vietnamese only, so the fallback is visible in the demo too.
Idempotent: only empty English fields are filled."""
from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.catalog.models import Product, Variant
from marketplace.extensions import db
from marketplace.shops.models import Shop

GLOSSARY = {
    # materials
    "100% tơ tằm": "100% mulberry silk", "tơ tằm": "silk", "lụa tơ tằm": "mulberry silk", "lụa": "silk",
    "lụa đũi": "raw silk", "vải bông": "cotton", "vải lanh": "linen", "vải lụa": "silk fabric",
    "sợi bông": "cotton yarn", "chỉ tơ": "silk thread", "chỉ bông": "cotton thread", "chỉ cước": "nylon thread",
    "chỉ kim tuyến": "gold thread", "gấm": "brocade", "nhung": "velvet", "bạc 92,5": "925 silver",
    "cói": "sedge", "da bò": "cowhide", "cao su": "rubber", "cước nylon": "nylon fibre", "giang": "giang bamboo",
    "tre": "bamboo", "mây": "rattan", "mây tự nhiên": "natural rattan", "lá cọ": "palm leaf", "giấy": "paper",
    "giấy dó": "dó paper", "gỗ": "wood", "gỗ gụ": "gụ wood", "gỗ hương": "rosewood", "gỗ mun": "ebony",
    "gỗ mít": "jackfruit wood", "gỗ xoan": "chinaberry wood", "gỗ trắc": "siamese rosewood",
    "gỗ ngô đồng": "paulownia wood", "gỗ nghiến": "ironwood", "quả bầu": "gourd", "sơn son": "red lacquer",
    "sơn ta": "natural lacquer", "vàng quỳ": "gold leaf", "vàng bạc quỳ": "gold and silver leaf",
    "vỏ trai": "mother-of-pearl", "vỏ trứng": "eggshell", "đá xanh": "bluestone", "thép": "steel",
    "thép nhíp": "spring steel", "đồng thau": "brass", "đồng vàng": "yellow bronze", "đồng": "bronze",
    "sứ trắng": "white porcelain", "đất sét": "clay", "đất sét đỏ": "red clay", "đất sét trắng": "white clay",
    "đất sét cao lanh": "kaolin clay", "men lam": "blue glaze", "men ngọc": "celadon glaze",
    "men rạn": "crackle glaze", "men hoa nâu": "brown-flower glaze", "men màu": "coloured glaze",
    "bột quế": "cinnamon powder", "bột trầm": "agarwood powder", "tăm tre": "bamboo sticks",
    "bột gạo nếp": "glutinous rice flour", "màu thực phẩm": "food colouring", "gạo nếp": "glutinous rice",
    "gạo tẻ": "rice", "mạch nha": "malt", "gừng": "ginger", "lạc": "peanuts", "đậu xanh": "mung beans",
    "thịt lợn": "pork", "lá dong": "dong leaves", "lá chuối": "banana leaves", "nước mắm": "fish sauce",
    "đường phèn": "rock sugar", "củ dong riềng": "arrowroot", "lúa nếp non": "young glutinous rice",
    "chè thái nguyên": "Thái Nguyên tea", "hoa sen": "lotus",
    # techniques
    "chạm khắc": "carving", "mộng ghép": "mortise and tenon joints", "chạm tay": "hand carving",
    "chạm đá": "stone carving", "chạm": "carving", "tiện": "turning", "tiện gỗ": "wood turning",
    "tiện tay": "hand turning", "chẻ": "splitting", "nhuộm": "dyeing", "phơi": "sun drying",
    "phơi nắng": "sun drying", "chế tác thủ công": "handcrafted", "làm thủ công": "handmade",
    "cắt may thủ công": "hand cut and sewn", "dệt chìm": "hidden-pattern weaving", "dệt gấm": "brocade weaving",
    "dệt khung cửi": "handloom weaving", "dệt tay": "hand weaving", "dệt the": "gauze weaving",
    "dệt vân": "figured weaving", "giã tay": "hand pounding", "luộc": "boiling", "luộc củi": "wood-fire boiling",
    "gò": "hammering", "dát vàng": "gilding", "gói tay": "hand wrapping", "in hoa văn": "pattern printing",
    "nung men": "glaze firing", "khâu tay": "hand stitching", "khâu tay 16 vành": "hand stitched, 16 rings",
    "lồng tranh": "inset pictures", "khảm trai": "mother-of-pearl inlay", "khắc chìm": "incising",
    "tô men nâu": "brown glaze painting", "may và thêu tay": "sewn and hand embroidered",
    "nấu thủ công": "cooked by hand", "nặn tay": "hand modelling", "rang": "roasting", "rèn tay": "hand forging",
    "tôi nước": "water quenching", "se tay": "hand rolling", "sơn mài": "lacquer",
    "sơn mài truyền thống": "traditional lacquer", "khảm vỏ trứng": "eggshell inlay", "thêu nổi": "raised embroidery",
    "thêu tay": "hand embroidery", "tráng men": "glazing", "chấm màu": "colour dotting", "tráng": "spreading",
    "tạc tay": "hand sculpting", "sơn son thếp vàng": "red lacquer and gilding",
    "vuốt tay trên bàn xoay": "thrown on the wheel", "vuốt tay": "hand thrown", "nung mộc": "unglazed firing",
    "vót nan": "splitting strips", "vẽ tay": "hand painting", "vót": "whittling", "dán": "gluing",
    "vẽ lam dưới men": "blue underglaze painting", "vẽ tay trên men": "overglaze hand painting",
    "ép sợi": "pressing fibres", "đan nong mốt": "plain weave", "đan tay": "hand woven",
    "đúc khuôn đất": "clay-mould casting", "đúc": "casting", "đậu bạc": "silver soldering",
    "đắp nổi": "relief moulding", "đổ khuôn": "slip casting", "tráng men ngọc": "celadon glazing",
    "đục": "chiselling", "ướp thủ công": "hand scenting",
    # variant words
    "tiêu chuẩn": "standard", "nhỏ": "small", "vừa": "medium", "lớn": "large", "một chiếc": "single piece",
    "một con": "single piece", "một hộp": "one box", "đôi": "pair", "tròn": "round", "vuông": "square",
    "chữ nhật": "rectangular", "màu be": "beige", "màu chàm": "indigo", "màu kem": "cream", "trắng ngà": "ivory",
    "tự nhiên": "natural", "vàng nghệ": "turmeric yellow", "xanh chàm": "indigo blue", "xanh navy": "navy blue",
    "xanh rêu": "moss green", "đỏ mận": "plum red", "đỏ son": "vermilion", "đỏ đô": "burgundy",
    "hồng đào": "peach pink", "đen viền đỏ": "black with red trim", "nón trơn": "plain hat",
    "nón vẽ hoa": "painted flowers", "dao chặt": "chopping knife", "dao thái": "slicing knife",
    "chim trúc": "bird and bamboo", "bộ 12 con giáp": "set of 12 zodiac animals", "bộ 3 cỡ": "set of 3 sizes",
    "mẫu mới": "new design", "bản đặc biệt": "special edition",
    # OCOP issuers
    "bộ nông nghiệp và môi trường": "Ministry of Agriculture and Environment",
    "ubnd thành phố hà nội": "Hanoi People's Committee",
    "ủy ban nhân dân thành phố hà nội": "Hanoi People's Committee",
}
# "bộ 6 chiếc", "hộp 500 nén", "10 chén": counted things.
COUNTED = {"bộ": "set of", "hộp": "box of", "bó": "bundle of", "cặp": "pair of"}
UNITS = {"chiếc": "pieces", "con": "pieces", "nén": "sticks", "chén": "cups", "đôi": "pairs", "bánh": "cakes",
         "mét": "metres", "mét (một áo)": "metres (one dress)"}
_MEASURE = re.compile(r"^(size |phi )?[\d.,× ]+(cm|m|g|kg|[SML])?$|^size [SMLX]+$")
_COUNT = re.compile(r"^(?:(bộ|hộp|bó|cặp) )?([\d,]+)(?: (.+))?$")
SHOP_PREFIXES = {"Xưởng": "{} Workshop", "Cơ sở": "{} Workshop", "Nhà": "{} House", "Hợp tác xã": "{} Cooperative",
                 "Gia đình": "The {} Family Workshop"}


def translate_phrase(text: str) -> str | None:
    """One phrase in English, or None when the glossary does not know it."""
    phrase = text.strip()
    key = phrase.lower()
    if key in GLOSSARY:
        return GLOSSARY[key]
    if _MEASURE.match(phrase):
        return phrase.replace(",", ".").replace("phi ", "⌀ ")
    match = _COUNT.match(phrase)
    if match:
        container, number, unit = match.groups()
        if unit is not None and unit not in UNITS and unit not in ("kg", "g", "m", "cm"):
            return None
        english_unit = UNITS.get(unit, unit) if unit else ""
        words = [COUNTED[container]] if container else []
        words += [number.replace(",", "."), english_unit]
        return " ".join(w for w in words if w)
    return None


def translate(text: str | None) -> str | None:
    """A comma-separated text phrase by phrase; None when any phrase is unknown."""
    if not text:
        return None
    whole = translate_phrase(text)
    if whole is not None:
        return whole
    parts = [translate_phrase(part) for part in text.split(",")]
    if any(p is None for p in parts):
        return None
    joined = ", ".join(parts)
    return joined[:1].upper() + joined[1:] if text[:1].isupper() else joined


def shop_name_en(shop: Shop) -> str | None:
    for prefix, pattern in SHOP_PREFIXES.items():
        if shop.name.startswith(prefix + " "):
            return pattern.format(shop.name[len(prefix) + 1:])
    return None


def shop_story_en(shop: Shop) -> str | None:
    village = shop.village
    if not shop.maker_name or village is None:
        return None
    craft = village.craft_en or "the village craft"
    place = village.name_en or village.name_vi
    return (f"{shop.maker_name} has practised {craft} in {place} since childhood, in the family trade. "
            f"Every piece is made by hand in the workshop in the village.")


def seed_english() -> str:
    """Fill empty English fields of the demo's shops, variants and products; returns a one-line report."""
    shops = list(db.session.scalars(sa.select(Shop).order_by(Shop.id)))
    english_shops = {s.id for n, s in enumerate(shops) if n % 5 != 4}
    counts = {"shops": 0, "variants": 0, "products": 0}
    for shop in shops:
        if shop.id not in english_shops:
            continue
        shop.name_en = shop.name_en or shop_name_en(shop)
        shop.story_en = shop.story_en or shop_story_en(shop)
        counts["shops"] += bool(shop.name_en or shop.story_en)
    for product in db.session.scalars(sa.select(Product).where(Product.shop_id.in_(english_shops))):
        product.materials_en = product.materials_en or translate(product.materials)
        product.technique_en = product.technique_en or translate(product.technique)
        product.ocop_issuer_en = product.ocop_issuer_en or translate(product.ocop_issuer)
        counts["products"] += bool(product.materials_en or product.technique_en)
    for variant in db.session.scalars(
            sa.select(Variant).join(Product).where(Product.shop_id.in_(english_shops))):
        variant.name_en = variant.name_en or translate(variant.name)
        counts["variants"] += variant.name_en is not None
    db.session.flush()
    return (f"English: {counts['shops']} shops, {counts['products']} products (materials/technique), "
            f"{counts['variants']} variant names")
