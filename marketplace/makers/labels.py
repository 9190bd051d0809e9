"""Provenance labels and village posters: the QR codes (segno) and the A4 sheets, as PDF (fpdf2) and as the
data of the print-ready HTML page (``templates/seller/labels_print.html``).

A sheet holds 24 labels (3 × 8, 70 × 37.1 mm, the common A4 label stock): product name, village, maker, OCOP
stars when the certificate counts (``Product.ocop_valid_on``: verified and in date), the price if asked, the
QR of ``/q/<code>`` and the code itself. The QR is drawn as vector squares (one rectangle per run of dark
modules), so it stays sharp at any printer resolution.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import segno
import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy.orm import joinedload

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.money import format_vnd
from marketplace.extensions import db
from marketplace.makers import codes
from marketplace.makers.models import HonourTitle
from marketplace.shops.models import Shop

FONT_DIR = Path(__file__).parent / "fonts"
PAGE_W, PAGE_H = 210.0, 297.0
COLUMNS, ROWS = 3, 8
PER_SHEET = COLUMNS * ROWS
LABEL_W, LABEL_H = PAGE_W / COLUMNS, PAGE_H / ROWS
QR_SIZE = 28.0  # mm, the printed QR (quiet zone included)
QR_BORDER = 2  # modules of quiet zone inside QR_SIZE (labels are cut apart; 2 modules scan reliably)
MAX_LABELS = 2000


@dataclass(frozen=True)
class Label:
    product_id: int
    title: str
    village: str
    maker: str | None
    ocop_stars: int | None
    price: str | None
    code: str
    url: str
    # made once per label (segno's mask choice is most of a label's cost), drawn as often as the sheet repeats it
    qr_code: segno.QRCode | None = field(default=None, compare=False, repr=False)

    def qr(self) -> segno.QRCode:
        return self.qr_code if self.qr_code is not None else segno.make_qr(self.url, error="m")

    def svg(self) -> str:
        """The QR as inline SVG for the HTML sheet (sized by the page's CSS)."""
        return self.qr().svg_inline(scale=1, border=QR_BORDER, omitsize=True, title=self.code)


def short_url(product_id: int) -> str:
    return url_for("makers.scan", code=codes.encode(product_id), _external=True)


def label_products(shop: Shop, product_ids: list[int] | None = None) -> list[Product]:
    """The shop's products to label (every one but archived ones, or the given ones), oldest first."""
    stmt = (sa.select(Product).where(Product.shop_id == shop.id)
            .options(joinedload(Product.maker), joinedload(Product.shop).joinedload(Shop.village))
            .order_by(Product.id).limit(MAX_LABELS))
    if product_ids is not None:
        stmt = stmt.where(Product.id.in_(product_ids))
    else:
        stmt = stmt.where(Product.status != ProductStatus.ARCHIVED)
    return list(db.session.scalars(stmt).unique())


def make_labels(products: list[Product], with_price: bool) -> list[Label]:
    labels = []
    for product in products:
        maker = product.maker
        maker_text = None
        if maker is not None:
            title = HonourTitle.LABELS.get(maker.honour_title, (None,))[0]
            maker_text = f"{title} {maker.name}" if title else maker.name
        labels.append(Label(
            product_id=product.id,
            title=product.title_vi,
            village=_("Làng %(name)s", name=product.shop.village.name_vi),
            maker=maker_text,
            ocop_stars=product.ocop_stars if product.ocop_valid_on() else None,
            price=format_vnd(product.min_price) if with_price and product.min_price else None,
            code=codes.encode(product.id),
            url=(url := short_url(product.id)),
            qr_code=segno.make_qr(url, error="m"),
        ))
    return labels


# --- PDF ------------------------------------------------------------------------------------------

def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_creator("Chợ Làng Nghề")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    return pdf


def draw_qr(pdf: FPDF, qr: segno.QRCode, x: float, y: float, size: float, border: int = QR_BORDER) -> None:
    """``qr`` as black squares on white, ``size`` mm wide including a ``border``-module quiet zone."""
    matrix = qr.matrix
    modules = len(matrix) + 2 * border
    unit = size / modules
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c, width = 0, len(row)
        while c < width:
            if row[c] & 1:
                start = c
                while c < width and row[c] & 1:
                    c += 1
                # a hair wider than the run, so that adjacent squares leave no white seam when rasterised
                pdf.rect(x + (border + start) * unit, y + (border + r) * unit, (c - start) * unit + 0.01,
                         unit + 0.01, style="F")
            else:
                c += 1


def _fit(pdf: FPDF, text: str, width: float, lines: int) -> list[str]:
    """``text`` broken into at most ``lines`` lines of ``width`` mm at the current font (… when cut)."""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if pdf.get_string_width(candidate) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = word
        if len(out) == lines:
            break
    if line and len(out) < lines:
        out.append(line)
    consumed = " ".join(out)
    if len(consumed) < len(" ".join(words)) and out:
        last = out[-1]
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return [o if pdf.get_string_width(o) <= width else _cut(pdf, o, width) for o in out]


def _cut(pdf: FPDF, text: str, width: float) -> str:
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _draw_label(pdf: FPDF, label: Label, x: float, y: float) -> None:
    qr_y = y + (LABEL_H - QR_SIZE) / 2
    draw_qr(pdf, label.qr(), x + 2, qr_y, QR_SIZE)
    tx, tw = x + QR_SIZE + 4, LABEL_W - QR_SIZE - 7
    ty = y + 5.5
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 8)
    for line in _fit(pdf, label.title, tw, 2):
        pdf.text(tx, ty, line)
        ty += 3.6
    pdf.set_font("DejaVu", "", 6.5)
    ty += 0.6
    for line in _fit(pdf, label.village, tw, 1):
        pdf.text(tx, ty, line)
        ty += 3.1
    if label.maker:
        for line in _fit(pdf, label.maker, tw, 2):
            pdf.text(tx, ty, line)
            ty += 3.1
    if label.ocop_stars:
        pdf.set_font("DejaVu", "B", 7)
        pdf.text(tx, ty, "OCOP " + "★" * label.ocop_stars)
        ty += 3.4
    if label.price:
        pdf.set_font("DejaVu", "B", 8)
        pdf.text(tx, ty, label.price)
    pdf.set_font("DejaVu", "B", 9)
    pdf.text(tx, y + LABEL_H - 4, label.code)
    pdf.set_font("DejaVu", "", 5)
    pdf.text(tx, y + LABEL_H - 1.8, _cut(pdf, label.url.split("//", 1)[-1], tw) if
             pdf.get_string_width(label.url.split("//", 1)[-1]) > tw else label.url.split("//", 1)[-1])


def labels_pdf(labels: list[Label], title: str) -> bytes:
    """The labels on as many A4 sheets as they need (24 a sheet), row by row."""
    pdf = _new_pdf(title)
    for index, label in enumerate(labels):
        slot = index % PER_SHEET
        if slot == 0:
            pdf.add_page()
        column, row = slot % COLUMNS, slot // COLUMNS
        _draw_label(pdf, label, column * LABEL_W, row * LABEL_H)
    if not labels:
        pdf.add_page()
    return bytes(pdf.output())


def poster_pdf(*, village_name: str, craft: str, url: str, heading: str, call: str) -> bytes:
    """An A4 poster for a village: its name, its craft, a large QR to its page and the address."""
    pdf = _new_pdf(village_name)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.set_text_color(120, 60, 20)
    pdf.set_xy(15, 20)
    pdf.cell(180, 10, heading, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 34)
    for n, line in enumerate(_fit(pdf, village_name, 180, 2)):
        pdf.set_xy(15, 36 + n * 15)
        pdf.cell(180, 14, line, align="C")
    pdf.set_font("DejaVu", "", 16)
    pdf.set_xy(15, 70)
    pdf.cell(180, 10, _fit(pdf, craft, 180, 1)[0] if craft else "", align="C")
    draw_qr(pdf, segno.make_qr(url, error="q"), 45, 88, 120, border=4)
    pdf.set_font("DejaVu", "B", 15)
    pdf.set_xy(15, 215)
    pdf.cell(180, 10, call, align="C")
    pdf.set_font("DejaVu", "", 12)
    pdf.set_xy(15, 228)
    pdf.cell(180, 8, _cut(pdf, url, 180) if pdf.get_string_width(url) > 180 else url, align="C")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(15, 275)
    pdf.cell(180, 6, "Chợ Làng Nghề", align="C")
    return bytes(pdf.output())
