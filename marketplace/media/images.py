"""Turning uploaded bytes into stored derivatives (fixed sizes, WebP + JPEG, no metadata).

The upload path: ``ingest_upload(data)`` → ``inspect`` (``open_checked``: decode allow-list JPEG/PNG/WebP,
pixel cap checked from the header before any decoding, decompression-bomb warnings as errors; the pixels
decoding will produce counted against the request's budget, ``media/staging.py``) → ``prepare`` (``decode``:
JPEG decoded at reduced size with ``Image.draft``, truncated files refused, EXIF orientation applied, pixels
copied into a fresh image so no EXIF/GPS/comment survives; each size rendered as WebP and JPEG in memory under
a content-hash key) → ``staging.stage`` (the files are written when the request's transaction commits, and
removed again if it fails). The original bytes are never stored or served.

A request with several images checks every header first (``check_uploads``): over the request's budget
(``MAX_IMAGES_PER_REQUEST`` files, ``MAX_IMAGE_PIXELS_PER_REQUEST`` decoded pixels) it is refused as a whole
before anything is decoded.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask import current_app, has_app_context
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import InvalidInput
from marketplace.media import staging
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


@dataclass(frozen=True)
class ImageHeader:
    """What the header says, before any decoding: the pixels the decoder will produce for our sizes."""

    digest: str
    format: str
    width: int
    height: int
    decoded_pixels: int
    orientation: int = 1  # EXIF orientation (5–8: width and height swap when applied)


@dataclass(frozen=True)
class PreparedImage:
    """A decoded, re-encoded upload held in memory: its derivatives by storage key, not yet stored."""

    stored: StoredImage
    files: dict[str, bytes]


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


def _draft(image: Image.Image, long_side: int | None) -> None:
    """JPEG: set the decoder to the smallest 1/2, 1/4, 1/8 scale covering ``long_side`` (no decoding;
    ``image.size`` becomes the size that will be decoded)."""
    if long_side and image.format == "JPEG":
        w, h = image.size
        scale = long_side / max(w, h)
        if scale < 1:
            # Ask for at least the target box; the decoder picks the smallest 1/2, 1/4, 1/8 scale above it.
            image.draft("RGB", (max(1, int(w * scale + 0.999)), max(1, int(h * scale + 0.999))))


def _long_side() -> int:
    return max(current_app.config["MEDIA_SIZES"])


def inspect(data: bytes) -> ImageHeader:
    """The header facts of ``data`` (``open_checked``'s refusals apply); no pixel is decoded. Read once per
    request for the same bytes object (the photo form checks every header, then adds each photo)."""
    seen = staging.current().headers if has_app_context() else {}
    hit = seen.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    image = open_checked(data)
    try:
        width, height = image.size
        orientation = 1
        if image.format == "JPEG":  # its EXIF is in the header (a PNG's getexif() may decode the whole image)
            try:
                orientation = int(image.getexif().get(0x0112) or 1)
            except Exception:  # a malformed EXIF block: decoding keeps the pixels as they are too
                orientation = 1
        _draft(image, _long_side())
        decoded = image.size[0] * image.size[1]
        fmt = image.format or ""
    finally:
        image.close()
    header = ImageHeader(hashlib.sha256(data).hexdigest(), fmt, width, height, decoded, orientation)
    if has_app_context():
        seen[id(data)] = (data, header)  # the bytes are kept with it: the id cannot be reused meanwhile
    return header


def check_uploads(items: list[tuple[str, bytes]], field: str | None = "photos") -> tuple[list[ImageHeader], list[str]]:
    """The header pass over one request's files, before anything is decoded.

    Raises ``ImageBudgetExceeded`` when the files together are over the request's budget (file count first,
    then decoded pixels). Returns the headers of the acceptable files and one "name: reason" line per refused
    file; when there is none, the files are counted in the request's budget.
    """
    budget = staging.current()
    budget.check_totals(len(items), 0, field)  # every file counts, before any header is read
    headers: list[ImageHeader] = []
    errors: list[str] = []
    for name, data in items:
        try:
            headers.append(inspect(data))
        except ImageRejected as exc:
            errors.append(f"{name}: {exc.message}")
    budget.check_totals(len(headers), sum(h.decoded_pixels for h in headers), field)
    if not errors:
        for header in headers:
            budget.reserve(header.digest, header.decoded_pixels, field)
    return headers, errors


def decode(image: Image.Image, long_side: int | None = None) -> Image.Image:
    """Decode (JPEG at reduced size when ``long_side`` allows), apply EXIF rotation, drop metadata."""
    _draft(image, long_side)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except Exception:  # truncated data (OSError), bad tables (ValueError, struct.error, EOFError), bombs
        raise ImageRejected(_("Ảnh bị thiếu dữ liệu hoặc hỏng (tải lên chưa hết?). Hãy thử lại."), "truncated") from None
    if long_side and image.format == "JPEG" and image.mode in ("RGB", "L") and max(image.size) > long_side:
        # Fit to the largest size first (in place; the EXIF stays in .info), so that the rotation and the
        # clean copy below touch the pixels of the largest derivative, not those of the decoded draft.
        image.thumbnail((long_side, long_side), Image.Resampling.BILINEAR)  # antialiased (support scaled)
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
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    return fresh


def prepare(data: bytes, prefix: str = "p") -> PreparedImage:
    """Check (header and budget), decode and render ``data``'s derivatives in memory; nothing is stored.
    The same bytes are prepared once per request (the bulk import checks them while planning, then stores)."""
    header = inspect(data)
    budget = staging.current()
    cache_key = f"{prefix}:{header.digest}"
    prepared = budget.prepared.get(cache_key)
    if prepared is not None:
        return prepared
    budget.reserve(header.digest, header.decoded_pixels)
    image = open_checked(data)
    try:
        pixels = decode(image, long_side=_long_side())
    finally:
        image.close()
    key, width, height, files = render_files(pixels, prefix=prefix, clean=True)
    prepared = budget.prepared[cache_key] = PreparedImage(StoredImage(key, width, height), files)
    return prepared


def ingest_upload(data: bytes, prefix: str = "p") -> StoredImage:
    """Validate uploaded bytes and stage their derivatives with the current transaction (written when it
    commits, removed if it fails); raises ``ImageRejected`` with nothing stored."""
    prepared = prepare(data, prefix=prefix)
    staging.stage(prepared.files)
    return prepared.stored


# Encoder effort (bench/uploads.py, bench/images.py): WebP method 0 instead of 4 and baseline (not
# progressive) JPEG with optimized Huffman tables cost about a third of the time, for files of about the
# same size (WebP method 0 was even 5 % smaller on the bench's photo); WebP is what browsers load
# (<picture>), the JPEG is the fallback.
WEBP_METHOD = 0
JPEG_PROGRESSIVE = False


def _encode(image: Image.Image) -> dict[str, bytes]:
    out = {}
    for fmt, pil_format, options in (
        ("webp", "WEBP", {"quality": WEBP_QUALITY, "method": WEBP_METHOD}),
        ("jpg", "JPEG", {"quality": JPEG_QUALITY, "optimize": True, "progressive": JPEG_PROGRESSIVE}),
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
        derived = _shrink(source, size)
        result[size] = _encode(derived)
        source = derived
    return result


def _shrink(image: Image.Image, size: int) -> Image.Image:
    """``image`` fitted into ``size``×``size``: an exact whole factor (1600 → 800) averages pixel blocks
    (``reduce``, a box filter, ~15× cheaper), anything else is resampled with Lanczos."""
    width, height = image.size
    factor = max(width, height) // size
    if factor >= 2 and max(width, height) == size * factor and width % factor == 0 and height % factor == 0:
        return image.reduce(factor)
    derived = image.copy()
    derived.thumbnail((size, size), Image.Resampling.LANCZOS)
    return derived


def _fit(image: Image.Image, clean: bool) -> Image.Image:
    if not clean:
        image = clean_copy(image)
    largest = max(current_app.config["MEDIA_SIZES"])
    if max(image.size) > largest:
        image = image.copy()
        image.thumbnail((largest, largest), Image.Resampling.LANCZOS)
    return image


def _base_key(image: Image.Image, prefix: str) -> str:
    digest = hashlib.sha256(image.tobytes()).hexdigest()[:24]
    return f"{prefix}/{digest[:2]}/{digest}"


def render_files(image: Image.Image, prefix: str = "p", *, clean: bool = False) -> tuple[str, int, int, dict[str, bytes]]:
    """(base key, width, height, {storage key: bytes}) of every configured size of ``image``, in memory.
    Sizes already stored or staged under the same content key are not rendered again."""
    image = _fit(image, clean)
    base_key = _base_key(image, prefix)
    sizes = current_app.config["MEDIA_SIZES"]
    files: dict[str, bytes] = {}
    if not all(staging.is_staged_or_stored(derivative_key(base_key, s, f))
               for s in _made_sizes(image, sizes) for f in ("jpg", "webp")):
        for size, encoded in render_derivatives(image, sizes).items():
            for fmt, payload in encoded.items():
                files[derivative_key(base_key, size, fmt)] = payload
    return base_key, image.width, image.height, files


def store_derivatives(image: Image.Image, prefix: str = "p", *, clean: bool = False) -> tuple[str, int, int]:
    """Store every configured size of ``image`` now and return (base key, width, height) (the demo seed).

    The key is a hash of the pixels, so the same picture is stored once. ``width``/``height`` are those
    of the largest stored size (the image as the site has it).
    """
    base_key, width, height, files = render_files(image, prefix, clean=clean)
    storage = get_storage()
    for key, payload in files.items():
        storage.save(key, payload)
    return base_key, width, height


def _made_sizes(image: Image.Image, sizes) -> list[int]:
    long_side = max(image.size)
    return [s for s in sizes if s <= long_side] or [min(sizes)]


def delete_derivatives(base_key: str) -> None:
    if ":" in base_key:  # a photo still processing ("pending:…"): nothing stored yet
        return
    storage = get_storage()
    for size in current_app.config["MEDIA_SIZES"]:
        for fmt in ("jpg", "webp"):
            storage.delete(derivative_key(base_key, size, fmt))
