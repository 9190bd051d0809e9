"""Tests for the pure-Pillow demo product drawings."""
import pytest
from PIL import ImageStat

from marketplace.demo.drawing import KINDS, draw_product_image

EXPECTED_KINDS = {
    "vase", "bowl", "plate", "silk", "ao_dai", "conical_hat", "basket", "lacquer_box",
    "lacquer_painting", "wood_statue", "wood_furniture", "bronze", "knife", "jewelry",
    "embroidery", "incense", "toy", "food", "fan", "instrument", "stone", "shoes", "other",
}


def test_all_kinds_registered():
    assert EXPECTED_KINDS <= set(KINDS)


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_kind_returns_rgb_of_requested_size_and_is_not_uniform(kind):
    image = draw_product_image(kind, 0, size=160)
    assert image.mode == "RGB"
    assert image.size == (160, 160)
    stddev = ImageStat.Stat(image.convert("L")).stddev[0]
    assert stddev > 12, f"{kind} looks near-uniform (stddev {stddev:.1f})"


@pytest.mark.parametrize("kind", ["vase", "silk", "basket", "other"])
def test_deterministic(kind):
    assert draw_product_image(kind, 3, 160).tobytes() == draw_product_image(kind, 3, 160).tobytes()


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_variants_differ(kind):
    images = [draw_product_image(kind, v, 96).tobytes() for v in range(8)]
    assert len(set(images)) == 8


def test_unknown_kind_falls_back_to_other():
    fallback = draw_product_image("no-such-kind", 2, 120)
    assert fallback.tobytes() == draw_product_image("other", 2, 120).tobytes()


def test_other_sizes():
    assert draw_product_image("fan", 1, 333).size == (333, 333)
    assert draw_product_image("vase", 5, 800).size == (800, 800)
