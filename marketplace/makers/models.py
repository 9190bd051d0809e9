"""Makers with a face (an artisan of a shop, named on its products) and the scans of the products' QR codes."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.shops.models import Shop


class HonourTitle:
    """The fixed list of honour titles a maker may carry (each with the decision that conferred it)."""

    PEOPLES_ARTISAN = "nghe_nhan_nhan_dan"
    MERITORIOUS_ARTISAN = "nghe_nhan_uu_tu"
    HANOI_ARTISAN = "nghe_nhan_ha_noi"
    SKILLED_CRAFTSMAN = "tho_gioi"
    CRAFT_BRINGER = "nguoi_co_cong"
    LABELS = {
        PEOPLES_ARTISAN: ("Nghệ nhân Nhân dân", "People's Artisan"),
        MERITORIOUS_ARTISAN: ("Nghệ nhân Ưu tú", "Meritorious Artisan"),
        HANOI_ARTISAN: ("Nghệ nhân Hà Nội", "Hanoi Artisan"),
        SKILLED_CRAFTSMAN: ("Thợ giỏi", "Skilled Craftsman"),
        CRAFT_BRINGER: ("Người có công đưa nghề về địa phương", "Bringer of the craft to the village"),
    }
    CHOICES = tuple(LABELS)


class Maker(db.Model):
    """An artisan of one shop: name, honour title and its decision, years in the craft, portrait, story."""

    __tablename__ = "makers"
    __table_args__ = (
        sa.CheckConstraint(
            "honour_title IS NULL OR honour_title IN "
            "('nghe_nhan_nhan_dan','nghe_nhan_uu_tu','nghe_nhan_ha_noi','tho_gioi','nguoi_co_cong')",
            name="honour_title_valid"),
        sa.CheckConstraint("years_in_craft IS NULL OR years_in_craft BETWEEN 0 AND 90", name="years_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    honour_title: Mapped[str | None] = mapped_column(sa.String(32))
    honour_decision: Mapped[str | None] = mapped_column(sa.String(200))
    years_in_craft: Mapped[int | None] = mapped_column(sa.SmallInteger)
    portrait_key: Mapped[str | None] = mapped_column(sa.String(200))
    portrait_width: Mapped[int | None] = mapped_column(sa.Integer)
    portrait_height: Mapped[int | None] = mapped_column(sa.Integer)
    story_vi: Mapped[str | None] = mapped_column(sa.Text)
    story_en: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship()

    @property
    def portrait(self):
        """The portrait as the media helpers want it (``storage_key``, ``width``, ``height``), or None."""
        if not self.portrait_key:
            return None
        return PortraitImage(self.portrait_key, self.portrait_width or 0, self.portrait_height or 0,
                             self.name)


class PortraitImage:
    """What ``picture``/``image_url`` read from a photo row."""

    def __init__(self, storage_key: str, width: int, height: int, alt_text: str):
        self.storage_key, self.width, self.height, self.alt_text = storage_key, width, height, alt_text
        self.processing = False


class QrScan(db.Model):
    """How often a product's QR code (``/q/<code>``) was followed: one row per product, counted by one
    conditional upsert per scan (``makers.services.count_scan``). Not a catalog table: a scan bumps no cache."""

    __tablename__ = "qr_scans"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    scans: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_scan_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
