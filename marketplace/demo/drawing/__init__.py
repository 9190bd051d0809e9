"""Pure-Pillow demo "product photos" for the seeded craft-village catalogue.

    draw_product_image(kind, variant=0, size=800) -> PIL.Image.Image (RGB)

Deterministic for (kind, variant, size): all randomness comes from a
``random.Random`` seeded with the kind and variant. No files, no network.
"""
from __future__ import annotations

import random
from functools import lru_cache

from PIL import Image

from . import ceramics, crafts, misc, play, textiles, woodwork
from .base import Canvas, background

PAINTERS = {
    "vase": ceramics.vase,
    "bowl": ceramics.bowl,
    "plate": ceramics.plate,
    "silk": textiles.silk,
    "ao_dai": textiles.ao_dai,
    "embroidery": textiles.embroidery,
    "shoes": textiles.shoes,
    "other": textiles.mat,
    "conical_hat": crafts.conical_hat,
    "basket": crafts.basket,
    "lacquer_box": crafts.lacquer_box,
    "lacquer_painting": woodwork.lacquer_painting,
    "wood_statue": woodwork.wood_statue,
    "wood_furniture": woodwork.wood_furniture,
    "fan": play.fan,
    "bronze": misc.bronze,
    "knife": misc.knife,
    "jewelry": misc.jewelry,
    "incense": misc.incense,
    "toy": play.toy,
    "food": play.food,
    "instrument": woodwork.instrument,
    "stone": misc.stone,
}

KINDS = tuple(PAINTERS)

__all__ = ["draw_product_image", "KINDS"]


def draw_product_image(kind: str, variant: int = 0, size: int = 800, view: int = 0) -> Image.Image:
    """Draw a square RGB demo photo of a `kind` of product.

    Unknown kinds fall back to "other" (a woven mat). Drawn at 2× and
    downscaled with a 2×2 box filter (``Image.reduce``) for anti-aliasing:
    visually the same as LANCZOS here and several times cheaper.

    ``view`` is the shot: 0 the whole object on its backdrop, 1 a close-up of its decoration (the middle of
    the same drawing, enlarged), 2 the object from the other side on another backdrop.
    """
    if kind not in PAINTERS:
        kind = "other"
    size = max(16, int(size))
    variant = int(variant)
    if view == 1:
        whole = _whole(kind, variant, size)
        box = (size * 0.2, size * 0.22, size * 0.8, size * 0.82)
        return whole.resize((size, size), Image.Resampling.BICUBIC, box=box)
    if view == 0:
        return _whole(kind, variant, size).copy()
    return _draw(kind, variant, size, view)


@lru_cache(maxsize=8)
def _whole(kind: str, variant: int, size: int) -> Image.Image:
    """The whole-object shot, kept for its close-up (the seed asks for both in a row)."""
    return _draw(kind, variant, size, 0)


def _draw(kind: str, variant: int, size: int, view: int) -> Image.Image:
    rng = random.Random(f"{kind}:{variant}")
    ss = 2
    canvas = Canvas.new(size * ss)
    background(canvas, variant + (3 if view == 2 else 0), rng)
    PAINTERS[kind](canvas, rng, variant)
    image = canvas.img.reduce(ss)
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if view == 2 else image
