"""Images built in memory for upload tests (the repository holds no binary fixtures)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg_bytes(size=(640, 480), color=(200, 80, 40), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def png_bytes(size=(300, 200), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 120, 200) if mode == "RGB" else (10, 120, 200, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(size=(300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, "WEBP")
    return buffer.getvalue()


def gps_rotated_jpeg(size=(400, 200)) -> bytes:
    """A landscape JPEG whose EXIF says Orientation=6 (rotate 90° clockwise to view), with a GPS block
    and a COM comment. The left half is red and the right half blue, so the rotation is checkable."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 55.0, 12.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"home of the artisan: 21.025N 105.92E", quality=95)
    return buffer.getvalue()


def png_bomb_header(width=20000, height=20000) -> bytes:
    """A tiny PNG whose header claims a huge image (the pixels never exist)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(size=(800, 600), color=(90, 90, 90), quality=95)
    # noise makes the entropy-coded data long, so cutting it leaves a valid header but missing scans
    image = Image.effect_noise((800, 600), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    return data[: int(len(data) * 0.6)]


def jpeg_with_html_tail() -> bytes:
    return jpeg_bytes() + b"<html><body><script>alert(document.cookie)</script></body></html>"


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><rect width="10" height="10"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
