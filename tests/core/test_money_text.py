import pytest

from marketplace.core.money import format_vnd, parse_vnd, to_minor_unit
from marketplace.core.pagination import page_arg
from marketplace.core.text import fold, nfc, slugify


@pytest.mark.parametrize("amount, text", [
    (350_000, "350.000 ₫"), (1_000, "1.000 ₫"), (999, "999 ₫"), (0, "0 ₫"), (12_500_000, "12.500.000 ₫"),
    (-45_000, "-45.000 ₫"),
])
def test_format_vnd(amount, text):
    assert format_vnd(amount) == text


@pytest.mark.parametrize("text, amount", [
    ("350.000", 350_000), ("350,000", 350_000), ("350000 ₫", 350_000), (" 1.250.000đ ", 1_250_000),
    ("350.5", None), ("abc", None), ("", None), ("3.50.000", None), ("-5", None),
])
def test_parse_vnd(text, amount):
    assert parse_vnd(text) == amount


def test_minor_unit_is_whole_dong_and_refuses_floats():
    assert to_minor_unit(150_000) == 150_000
    with pytest.raises(TypeError):
        to_minor_unit(150_000.5)
    with pytest.raises(TypeError):
        to_minor_unit(True)


def test_fold_removes_vietnamese_diacritics_including_d():
    assert fold("Gốm Bát Tràng") == "gom bat trang"
    assert fold("Đồ ĐỒNG đúc") == "do dong duc"
    decomposed = "Lụa Vạn Phúc".encode().decode()
    import unicodedata

    assert fold(unicodedata.normalize("NFD", decomposed)) == "lua van phuc"


def test_nfc_and_slugify():
    import unicodedata

    assert nfc(unicodedata.normalize("NFD", "nón lá")) == "nón lá"
    assert slugify("Xưởng Quý — Bát Tràng!") == "xuong-quy-bat-trang"
    assert slugify("!!!") == "item"


@pytest.mark.parametrize("raw, page", [("2", 2), ("-1", 1), ("0", 1), ("abc", 1), (None, 1), ("1e9", 1),
                                       ("99999999", 10_001)])
def test_page_arg(raw, page):
    assert page_arg(raw) == page
