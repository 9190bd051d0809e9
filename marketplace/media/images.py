"""Turning a Pillow image into stored derivatives (fixed sizes, WebP + JPEG, no metadata)."""
from __future__ import annotations

import hashlib
import io

from flask import current_app
from PIL import Image

from marketplace.media.storage import derivative_key, get_storage

WEBP_QUALITY = 80
JPEG_QUALITY = 82


def clean_copy(image: Image.Image) -> Image.Image:
    """A fresh RGB image with the same pixels and none of the source's metadata (EXIF, GPS, comments)."""
    rgb = image.convert("RGB")
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    return fresh


def store_derivatives(image: Image.Image, prefix: str = "p") -> tuple[str, int, int]:
    """Store every configured size of ``image`` and return (base key, width, height).

    The key is a hash of the pixels, so the same picture is stored once.
    """
    image = clean_copy(image)
    digest = hashlib.sha256(image.tobytes()).hexdigest()[:24]
    base_key = f"{prefix}/{digest[:2]}/{digest}"
    storage = get_storage()
    long_side = max(image.size)
    sizes = [s for s in current_app.config["MEDIA_SIZES"] if s <= long_side] or [current_app.config["MEDIA_SIZES"][0]]
    for size in sizes:
        if storage.exists(derivative_key(base_key, size, "jpg")) and storage.exists(
            derivative_key(base_key, size, "webp")
        ):
            continue
        derived = image.copy()
        derived.thumbnail((size, size), Image.Resampling.LANCZOS)
        for fmt, pil_format, options in (
            ("webp", "WEBP", {"quality": WEBP_QUALITY, "method": 4}),
            ("jpg", "JPEG", {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}),
        ):
            buffer = io.BytesIO()
            derived.save(buffer, pil_format, **options)
            storage.save(derivative_key(base_key, size, fmt), buffer.getvalue())
    return base_key, image.width, image.height
