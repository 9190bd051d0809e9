"""Hà Nội's geography as the register needs it: the 126 commune-level units in force since 01/07/2025
(Resolution 1656/NQ-UBTVQH15 of the National Assembly Standing Committee: 51 wards, 75 communes; districts
abolished) and the city's bounding box for coordinate checks.

The list is written from that resolution as published (grouped here by the former district for reading); a
commune typed without its prefix ("Bát Tràng") is read as the unit of that name. If the city changes a unit,
this tuple is the one place to edit.
"""
from __future__ import annotations

from marketplace.core.text import fold, nfc

WARDS = (
    # former urban districts
    "Hoàn Kiếm", "Cửa Nam", "Ba Đình", "Ngọc Hà", "Giảng Võ", "Hai Bà Trưng", "Vĩnh Tuy", "Bạch Mai", "Đống Đa",
    "Kim Liên", "Văn Miếu - Quốc Tử Giám", "Láng", "Ô Chợ Dừa", "Hồng Hà", "Lĩnh Nam", "Hoàng Mai", "Vĩnh Hưng",
    "Tương Mai", "Định Công", "Hoàng Liệt", "Yên Sở", "Thanh Xuân", "Khương Đình", "Phương Liệt", "Cầu Giấy",
    "Nghĩa Đô", "Yên Hòa", "Tây Hồ", "Phú Thượng", "Tây Tựu", "Phú Diễn", "Xuân Đỉnh", "Đông Ngạc", "Thượng Cát",
    "Từ Liêm", "Xuân Phương", "Tây Mỗ", "Đại Mỗ", "Long Biên", "Bồ Đề", "Việt Hưng", "Phúc Lợi", "Hà Đông",
    "Dương Nội", "Yên Nghĩa", "Phú Lương", "Kiến Hưng", "Thanh Liệt", "Chương Mỹ", "Sơn Tây", "Tùng Thiện",
)
COMMUNES = (
    "Thanh Trì", "Đại Thanh", "Nam Phù", "Ngọc Hồi",                                  # former Thanh Trì
    "Gia Lâm", "Thuận An", "Bát Tràng", "Phù Đổng",                                   # former Gia Lâm
    "Đông Anh", "Phúc Thịnh", "Thiên Lộc", "Thư Lâm", "Vĩnh Thanh",                   # former Đông Anh
    "Sóc Sơn", "Kim Anh", "Trung Giã", "Đa Phúc", "Nội Bài",                          # former Sóc Sơn
    "Mê Linh", "Yên Lãng", "Tiến Thắng", "Quang Minh",                                # former Mê Linh
    "Phúc Thọ", "Phúc Lộc", "Hát Môn",                                                # former Phúc Thọ
    "Đan Phượng", "Ô Diên", "Liên Minh",                                              # former Đan Phượng
    "Hoài Đức", "Dương Hòa", "Sơn Đồng", "An Khánh",                                  # former Hoài Đức
    "Quốc Oai", "Kiều Phú", "Hưng Đạo", "Phú Cát",                                    # former Quốc Oai
    "Thạch Thất", "Hạ Bằng", "Tây Phương", "Hòa Lạc", "Yên Xuân",                     # former Thạch Thất
    "Ba Vì", "Cổ Đô", "Bất Bạt", "Minh Châu", "Quảng Oai", "Vật Lại", "Suối Hai", "Yên Bài",  # former Ba Vì
    "Đoài Phương",                                                                    # former Sơn Tây
    "Phú Nghĩa", "Xuân Mai", "Trần Phú", "Hòa Phú", "Quảng Bị",                       # former Chương Mỹ
    "Thanh Oai", "Bình Minh", "Tam Hưng", "Dân Hòa",                                  # former Thanh Oai
    "Thường Tín", "Hồng Vân", "Thượng Phúc", "Chương Dương",                          # former Thường Tín
    "Phú Xuyên", "Phượng Dực", "Chuyên Mỹ", "Đại Xuyên",                              # former Phú Xuyên
    "Vân Đình", "Ứng Thiên", "Hòa Xá", "Ứng Hòa",                                     # former Ứng Hòa
    "Mỹ Đức", "Hồng Sơn", "Phúc Sơn", "Hương Sơn",                                    # former Mỹ Đức
)
UNITS = tuple(f"phường {w}" for w in WARDS) + tuple(f"xã {c}" for c in COMMUNES)

# Latitude/longitude box of the city (with a small margin): a village of the register lies inside it.
LAT_MIN, LAT_MAX = 20.50, 21.45
LON_MIN, LON_MAX = 105.25, 106.05

_BY_KEY: dict[str, str] = {}
for _unit in UNITS:
    _BY_KEY[fold(_unit)] = _unit
    _bare = _unit.split(" ", 1)[1]
    _BY_KEY.setdefault(fold(_bare), _unit)  # a ward and a commune never share a name here


def canonical_unit(text: str | None) -> str | None:
    """The unit's official spelling ("xã Bát Tràng") for what was typed ("Bát Tràng", "XÃ BÁT TRÀNG",
    "Xa Bat Trang"); None when it is not one of the 126."""
    if not text:
        return None
    key = fold(nfc(text).strip())
    for prefix in ("thi tran ", "tt "):
        if key.startswith(prefix):
            return None  # towns were abolished in 2025
    return _BY_KEY.get(key)


def inside_hanoi(latitude: float, longitude: float) -> bool:
    return LAT_MIN <= latitude <= LAT_MAX and LON_MIN <= longitude <= LON_MAX
