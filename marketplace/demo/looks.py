"""What a demo product looks like, in words and in its drawing: the bridge between a title (and its variant
names) and the drawn photo, so that a "celadon tea set" is drawn as a celadon teapot with cups and a "blue
silk scarf" is blue.

Each drawing kind's painter (``drawing/``) picks glaze, colour, shape and motif from its ``variant`` number.
``tags(kind, v)`` says what variant ``v`` shows (``{"glaze": "celadon", "shape": "teapot", …}``);
``wanted(text)`` reads the same tags from Vietnamese words; ``choose`` returns the variants that show what
a text names. ``qualifier(kind, v)`` is the visible feature that tells two products of one template apart
in their titles ("dáng tỏi", "quai lụa đỏ"): a title never names what its picture does not show.
"""
from __future__ import annotations

from marketplace.demo.drawing.ceramics import GLAZES

# Vietnamese words → (dimension, value). Longer phrases first (checked in this order).
WORDS: list[tuple[str, str, str]] = [
    ("men ngọc", "glaze", "celadon"), ("hoa lam", "glaze", "blue_white"), ("men lam", "glaze", "blue_white"),
    ("men rạn", "glaze", "crackle"), ("hoa nâu", "glaze", "brown"), ("trồng cây", "glaze", "brown"),
    ("sơn mài", "glaze", "brown"),
    ("ấm chén", "shape", "teapot"), ("bát", "shape", "bowl"), ("cốc", "shape", "bowl"),
    ("hoa sen", "motif", "lotus"), ("chim trúc", "motif", "bamboo"), ("cá chép", "motif", "fish"),
    ("xanh chàm", "colour", "indigo"), ("màu chàm", "colour", "indigo"), ("đỏ son", "colour", "red"),
    ("đỏ đô", "colour", "red"), ("đỏ mận", "colour", "plum"), ("vàng nghệ", "colour", "yellow"),
    ("xanh rêu", "colour", "green"), ("xanh navy", "colour", "navy"), ("hồng đào", "colour", "pink"),
    ("trắng ngà", "colour", "ivory"), ("màu be", "colour", "ivory"), ("màu kem", "colour", "ivory"),
    ("đen viền đỏ", "colour", "black"),
    ("trống đồng", "form", "drum"), ("lư hương", "form", "burner"), ("dao thái", "form", "slicer"),
    ("dao chặt", "form", "cleaver"), ("kéo", "form", "slicer"), ("sư tử", "form", "lion"),
    ("đèn đá", "form", "lantern"), ("đàn bầu", "form", "dan_bau"), ("đàn nguyệt", "form", "dan_nguyet"),
    ("chuồn chuồn", "form", "dragonfly"), ("diều", "form", "kite"), ("bánh chưng", "form", "banh_chung"),
    ("cốm", "form", "sweets"), ("chè lam", "form", "sweets"), ("chè kho", "form", "sweets"),
    ("tò he", "form", "sweets"), ("tủ", "form", "cabinet"), ("hương trầm", "form", "bundle"),
    ("tăm hương", "form", "bundles"), ("tượng", "form", "statue"),
]

GLAZE_TONES = {0: ("màu ngọc nhạt", "pale jade"), 3: ("màu ngọc đậm", "deep jade"), 2: ("màu ngà", "ivory"),
               5: ("màu nâu nhạt", "light tan")}  # GLAZES index → the tone a title may name
SHAPES = [("dáng tỏi", "garlic-neck"), ("dáng bầu", "gourd-shaped"), ("dáng hũ", "jar-shaped")]
MOTIFS = ["lotus", "waves", "bamboo"]
PLATE_MOTIFS = [("vẽ sen", "lotus", "lotus"), ("vẽ cá", "fish", "fish"), ("vẽ hoa cúc", "chrysanthemum", "flower"),
                ("vẽ sơn thủy", "landscape", "landscape")]
SILK_COLOURS = ["red", "indigo", "yellow", "plum", "green", "pink", "navy", "orange", "ivory", "ivory"]
COLOUR_WORDS = {"red": ("đỏ son", "vermilion"), "indigo": ("xanh chàm", "indigo"), "yellow": ("vàng nghệ", "turmeric"),
                "plum": ("tím mận", "plum"), "green": ("xanh ngọc", "jade green"), "pink": ("hồng đào", "peach pink"),
                "navy": ("xanh tím than", "navy"), "orange": ("cam đất", "burnt orange"), "ivory": ("trắng ngà", "ivory"),
                "black": ("đen", "black"), "blue": ("xanh dương", "blue"), "magenta": ("hồng sen", "magenta"), "teal": ("xanh lam", "teal"), "gold": ("vàng", "golden")}
HAT_RIBBONS = ["red", "navy", "yellow", "green", "plum", "pink", "teal", "orange"]
LACQUER_BODIES = ["red", "black", "red", "black", "red", "black", "red", "black"]
GEMS = ["red", "navy", "green", "plum", "yellow", "black", "pink", "teal"]
WOOD_TONES = ["honey", "dark", "light", "dark", "honey", "dark", "light", "dark"]
BASKET_TRIMS = ["none", "red", "none", "green", "black", "none", "brown", "none"]
LEATHERS = ["brown", "black", "tan", "oxblood", "brown", "darkbrown", "tan", "grey"]
BRONZE_TONES = ["gold", "dark", "gold", "patina", "gold", "patina", "gold", "dark"]
STONE_TONES = ["grey", "blue", "white", "blue"]
SMALL_DOMAIN = {"fan", "basket", "conical_hat"}  # painters that index their palettes with the variant itself


def domain(kind: str) -> range:
    if kind == "silk":
        return range(len(SILK_COLOURS))
    return range(8) if kind in SMALL_DOMAIN else range(24)


def tags(kind: str, v: int) -> dict[str, str]:
    """What variant ``v`` of a drawing kind shows."""
    if kind == "vase":
        glaze = GLAZES[v % 8][0]
        out = {"glaze": glaze, "shape": f"shape{v % 3}"}
        if glaze == "blue_white":
            out["motif"] = MOTIFS[v % 3]
        return out
    if kind == "bowl":
        glaze = GLAZES[(v + 1) % 8][0]
        out = {"glaze": glaze, "shape": "bowl" if v % 2 == 0 else "teapot"}
        if glaze == "blue_white":
            out["motif"] = MOTIFS[v % 3]
        return out
    if kind == "plate":
        glaze = GLAZES[(v + 4) % 8][0]
        return {"glaze": "blue_white" if glaze == "crackle" else glaze, "motif": PLATE_MOTIFS[v % 4][2]}
    if kind == "silk":
        return {"colour": SILK_COLOURS[v], "weave": "pattern" if v % 2 else "plain"}
    if kind == "ao_dai":
        return {"colour": SILK_COLOURS[(v * 3) % 8]}
    if kind == "embroidery":
        return {"colour": ["ivory", "green", "indigo", "pink"][v % 4], "thread": SILK_COLOURS[(v * 5 + 1) % 8]}
    if kind == "conical_hat":
        return {"ribbon": HAT_RIBBONS[v], "painted": "yes" if v % 3 == 1 else "no"}
    if kind == "lacquer_box":
        return {"colour": LACQUER_BODIES[v % 8], "motif": ["lotus", "crane", "bamboo"][v % 3]}
    if kind == "bronze":
        return {"form": "drum" if v % 2 == 0 else "burner"}
    if kind == "knife":
        return {"form": ["slicer", "cleaver", "slicer"][v % 3]}
    if kind == "jewelry":
        return {"gem": GEMS[v % 8]}
    if kind == "toy":
        return {"form": "dragonfly" if v % 2 == 0 else "kite"}
    if kind == "food":
        return {"form": ["banh_chung", "package", "sweets"][v % 3]}
    if kind == "stone":
        return {"form": "lantern" if v % 2 == 0 else "lion"}
    if kind == "wood_furniture":
        return {"form": "cabinet" if v % 2 == 0 else "tray", "tone": WOOD_TONES[(v + 2) % 8]}
    if kind == "wood_statue":
        return {"finish": "lacquered" if v % 2 == 0 else "bare", "tone": WOOD_TONES[v % 8]}
    if kind == "basket":
        return {"trim": BASKET_TRIMS[v]}
    if kind == "shoes":
        return {"colour": LEATHERS[v % 8]}
    if kind == "incense":
        return {"form": "bundle" if v % 2 == 0 else "bundles", "colour": "pink" if v % 8 in (1, 5) else "red"}
    if kind == "instrument":
        return {"form": "dan_bau" if v % 2 == 0 else "dan_nguyet", "tone": WOOD_TONES[v % 8]}
    if kind == "other":
        return {"colour": SILK_COLOURS[(v * 3 + 1) % 8]}
    return {}


def qualifier(kind: str, v: int, base: str | None = None) -> tuple[str, str] | None:
    """The visible feature that names variant ``v`` in a title (vi, en), or None (``base``: the title so far)."""
    t = tags(kind, v)
    if kind == "vase":
        tone = GLAZE_TONES.get(v % 8)
        return SHAPES[v % 3] if tone is None else (f"{SHAPES[v % 3][0]}, {tone[0]}", f"{SHAPES[v % 3][1]}, {tone[1]}")
    if kind == "bowl" and (v + 1) % 8 in GLAZE_TONES:
        return GLAZE_TONES[(v + 1) % 8]
    if kind == "bowl" and t["glaze"] == "blue_white":
        return {"lotus": ("vẽ sen", "lotus painted"), "waves": ("vẽ sóng mây", "wave-and-cloud painted"),
                "bamboo": ("vẽ trúc", "bamboo painted")}[t["motif"]]
    if kind == "plate":
        vi, en, _ = PLATE_MOTIFS[v % 4]
        border = ("viền hoa", "flower border") if v % 2 else ("viền lá", "leaf border")
        if base is not None and "motif" in wanted(base):  # the title names the motif already
            return border
        return f"{vi}, {border[0]}", f"{en}, {border[1]}"
    if kind == "silk":
        return ("dệt hoa văn", "patterned weave") if t["weave"] == "pattern" else ("dệt trơn", "plain weave")
    if kind in ("ao_dai", "embroidery"):
        vi, en = COLOUR_WORDS[t["colour"]]
        return f"màu {vi}", en
    if kind == "conical_hat":
        vi, en = COLOUR_WORDS[t["ribbon"]]
        return (f"vẽ hoa, quai {vi}" if t["painted"] == "yes" else f"quai {vi}",
                f"{en} strap" + (", painted flowers" if t["painted"] == "yes" else ""))
    if kind == "lacquer_box":
        vi, en = COLOUR_WORDS[t["colour"]]
        motif = {"lotus": ("họa tiết sen", "lotus"), "crane": ("họa tiết hạc", "crane"),
                 "bamboo": ("họa tiết trúc", "bamboo")}[t["motif"]]
        return f"nền {vi} {motif[0]}", f"{en}, {motif[1]} motif"
    if kind == "jewelry":
        vi, en = COLOUR_WORDS[t["gem"]]
        return f"đính đá {vi}", f"{en} stone"
    if kind == "wood_statue":
        return ("sơn son thếp vàng", "red lacquer and gold") if t["finish"] == "lacquered" else \
            {"honey": ("để mộc màu mật ong", "bare, honey tone"), "dark": ("để mộc màu trầm", "bare, dark tone"),
             "light": ("để mộc màu sáng", "bare, light tone")}[t["tone"]]
    if kind == "wood_furniture":
        return {"honey": ("màu gỗ mật ong", "honey wood"), "dark": ("màu gỗ trầm", "dark wood"),
                "light": ("màu gỗ sáng", "light wood")}[t["tone"]]
    if kind == "basket":
        return {"none": ("đan mộc", "natural"), "red": ("viền đỏ", "red trim"), "green": ("viền xanh lá", "green trim"),
                "black": ("viền đen", "black trim"), "brown": ("viền nâu", "brown trim")}[t["trim"]]
    if kind == "shoes":
        return {"brown": ("màu nâu", "brown leather"), "black": ("màu đen", "black leather"),
                "tan": ("màu nâu sáp", "tan leather"), "oxblood": ("màu đỏ mận", "oxblood leather"),
                "darkbrown": ("màu nâu sẫm", "dark brown leather"), "grey": ("màu xám", "grey leather")}[t["colour"]]
    if kind == "bronze":
        return {"gold": ("màu đồng vàng", "golden bronze"), "dark": ("màu đồng hun", "dark bronze"),
                "patina": ("giả cổ", "antique patina")}[BRONZE_TONES[v % 8]]
    if kind == "stone":
        return {"grey": ("màu xám", "grey stone"), "blue": ("màu xanh đá", "blue stone"),
                "white": ("màu trắng ngà", "white stone")}[STONE_TONES[v % 4]]
    if kind == "incense":
        return ("chân hương hồng", "pink stems") if t["colour"] == "pink" else ("chân hương đỏ", "red stems")
    if kind == "instrument":
        return {"honey": ("gỗ màu mật ong", "honey wood"), "dark": ("gỗ màu trầm", "dark wood"),
                "light": ("gỗ màu sáng", "light wood")}[t["tone"]]
    if kind == "other":
        vi, en = COLOUR_WORDS[t["colour"]]
        return f"viền {vi}", f"{en} border"
    if kind == "toy":
        vi, en = COLOUR_WORDS[["red", "blue", "yellow", "green", "magenta", "orange", "teal", "plum"][v % 8]]
        return f"màu {vi}", en
    return None


def wanted(text: str) -> dict[str, str]:
    """The tags a text names (lower-cased Vietnamese)."""
    text = " " + text.lower() + " "
    out: dict[str, str] = {}
    for phrase, dim, value in WORDS:
        if f" {phrase}" in text and dim not in out:
            out[dim] = value
    return out


def choose(kind: str, text: str) -> list[int]:
    """The variants of ``kind`` showing every tag the text names that this kind can show."""
    want = wanted(text)
    found = []
    for v in domain(kind):
        t = tags(kind, v)
        if all(t.get(dim) == value for dim, value in want.items() if dim in t):
            found.append(v)
    return found or list(domain(kind))
