"""Decoding what the pages render: QR codes in PNG/SVG-free images (zxing-cpp) and PDF pages (pypdfium2)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pypdfium2
import zxingcpp
from PIL import Image


def pdf_pages(data: bytes, scale: float = 300 / 72) -> list[Image.Image]:
    """Every page of a PDF rasterised at 300 dpi (what a printer would put on paper)."""
    pdf = pypdfium2.PdfDocument(data)
    try:
        return [pdf[i].render(scale=scale).to_pil().convert("L") for i in range(len(pdf))]
    finally:
        pdf.close()


def decode_all(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def crop_label(page: Image.Image, index: int, columns: int = 3, rows: int = 8) -> Image.Image:
    """The ``index``-th label (row by row) of an A4 sheet of ``columns`` × ``rows``."""
    w, h = page.size
    col, row = index % columns, index // columns
    return page.crop((int(col * w / columns), int(row * h / rows), int((col + 1) * w / columns),
                      int((row + 1) * h / rows)))


def path_of(url: str) -> str:
    return urlsplit(url).path
