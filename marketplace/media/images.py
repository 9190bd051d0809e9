"""Turning uploaded bytes into stored derivatives (fixed sizes, WebP + JPEG, no metadata).

The upload path: ``ingest_upload(data)`` → ``open_checked`` (decode allow-list JPEG/PNG/WebP, pixel cap
checked from the header before any decoding, decompression-bomb warnings as errors) → ``decode``
(JPEG decoded at reduced size with ``Image.draft``, truncated files refused, EXIF orientation applied,
pixels copied into a fresh image so no EXIF/GPS/comment survives) → ``store_derivatives`` (each size as
WebP and JPEG under a content-hash key). The original bytes are never stored or served.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import InvalidInput
from marketplace.media.storage import derivative_key, get_storage

WEBP_QUALITY = 80
JPEG_QUALITY = 82
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
ACCEPT_MIMETYPES = "image/jpeg,image/png,image/webp"


class ImageRejected(InvalidInput):
    """An upload that is not an acceptable photo; ``code`` says why (for tests and the JSON API)."""

    def __init__(self, message: str, code: str):
        super().__init__(message, field="photo")
        self.code = code


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int


def _limits() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg["MAX_CONTENT_LENGTH"]), int(cfg["MAX_IMAGE_PIXELS"])


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        _("Ảnh quá lớn: tối đa %(mp)s megapixel. Hãy chụp lại ở độ phân giải thấp hơn.", mp=max_pixels // 1_000_000),
        "too_many_pixels",
    )


def open_checked(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Open ``data`` as JPEG/PNG/WebP without decoding pixels; refuse bombs from the header alone."""
    max_bytes, default_pixels = _limits()
    max_pixels = max_pixels or default_pixels
    if len(data) > max_bytes:
        raise ImageRejected(_("Tệp quá lớn: tối đa %(mb)s MB.", mb=max_bytes // (1024 * 1024)), "too_large")
    if not data:
        raise ImageRejected(_("Tệp rỗng."), "empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            _("Tệp này không phải ảnh JPEG, PNG hoặc WebP (SVG, PDF, HTML… không được nhận)."), "not_an_image"
        ) from None
    except Exception:  # Pillow's parsers raise many kinds (OSError, ValueError, struct.error, EOFError…)
        raise ImageRejected(_("Không đọc được ảnh: tệp bị hỏng."), "corrupt") from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        image.close()
        raise _too_many_pixels(max_pixels)
    return image


def decode(image: Image.Image, long_side: int | None = None) -> Image.Image:
    """Decode (JPEG at reduced size when ``long_side`` allows), apply EXIF rotation, drop metadata."""
    if long_side and image.format == "JPEG":
        w, h = image.size
        scale = long_side / max(w, h)
        if scale < 1:
            # Ask for at least the target box; the decoder picks the smallest 1/2, 1/4, 1/8 scale above it.
            image.draft("RGB", (max(1, int(w * scale + 0.999)), max(1, int(h * scale + 0.999))))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except Exception:  # truncated data (OSError), bad tables (ValueError, struct.error, EOFError), bombs
        raise ImageRejected(_("Ảnh bị thiếu dữ liệu hoặc hỏng (tải lên chưa hết?). Hãy thử lại."), "truncated") from None
    try:
        oriented = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: keep the pixels as they are
        oriented = image
    return clean_copy(oriented)


def clean_copy(image: Image.Image) -> Image.Image:
    """A fresh RGB image with the same pixels and none of the source's metadata (EXIF, GPS, comments)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = image.convert("RGB")
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    return fresh


def check_image(data: bytes) -> None:
    """Raise ``ImageRejected`` unless ``data`` would be accepted (used to validate imports up front)."""
    image = open_checked(data)
    try:
        decode(image, long_side=320)
    finally:
        image.close()


def ingest_upload(data: bytes, prefix: str = "p") -> StoredImage:
    """Validate uploaded bytes and store their derivatives; raises ``ImageRejected`` with nothing stored."""
    sizes = current_app.config["MEDIA_SIZES"]
    image = open_checked(data)
    try:
        pixels = decode(image, long_side=max(sizes))
    finally:
        image.close()
    key, width, height = store_derivatives(pixels, prefix=prefix, clean=True)
    return StoredImage(key, width, height)


def _encode(image: Image.Image) -> dict[str, bytes]:
    out = {}
    for fmt, pil_format, options in (
        ("webp", "WEBP", {"quality": WEBP_QUALITY, "method": 4}),
        ("jpg", "JPEG", {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}),
    ):
        buffer = io.BytesIO()
        image.save(buffer, pil_format, **options)
        out[fmt] = buffer.getvalue()
    return out


def render_derivatives(image: Image.Image, sizes) -> dict[int, dict[str, bytes]]:
    """Encoded bytes per size, largest first, each size resized from the previous one (cheap cascade)."""
    long_side = max(image.size)
    chosen = sorted({s for s in sizes if s <= long_side} or {min(sizes)}, reverse=True)
    result: dict[int, dict[str, bytes]] = {}
    source = image
    for size in chosen:
        derived = source.copy()
        derived.thumbnail((size, size), Image.Resampling.LANCZOS)
        result[size] = _encode(derived)
        source = derived
    return result


def store_derivatives(image: Image.Image, prefix: str = "p", *, clean: bool = False) -> tuple[str, int, int]:
    """Store every configured size of ``image`` and return (base key, width, height).

    The key is a hash of the pixels, so the same picture is stored once. ``width``/``height`` are those
    of the largest stored size (the image as the site has it).
    """
    if not clean:
        image = clean_copy(image)
    sizes = current_app.config["MEDIA_SIZES"]
    largest = max(sizes)
    if max(image.size) > largest:
        image = image.copy()
        image.thumbnail((largest, largest), Image.Resampling.LANCZOS)
    digest = hashlib.sha256(image.tobytes()).hexdigest()[:24]
    base_key = f"{prefix}/{digest[:2]}/{digest}"
    storage = get_storage()
    if not all(storage.exists(derivative_key(base_key, s, f)) for s in _made_sizes(image, sizes) for f in ("jpg", "webp")):
        for size, encoded in render_derivatives(image, sizes).items():
            for fmt, payload in encoded.items():
                storage.save(derivative_key(base_key, size, fmt), payload)
    return base_key, image.width, image.height


def _made_sizes(image: Image.Image, sizes) -> list[int]:
    long_side = max(image.size)
    return [s for s in sizes if s <= long_side] or [min(sizes)]


def delete_derivatives(base_key: str) -> None:
    storage = get_storage()
    for size in current_app.config["MEDIA_SIZES"]:
        for fmt in ("jpg", "webp"):
            storage.delete(derivative_key(base_key, size, fmt))
