"""Shops: the shop itself (``Shop``, ``ShopStatus``) and, for assisted listing, the artisan's consent for a
shop run on their behalf by an official or admin (``ShopConsent``).

Catalog models refer to ``Shop`` and ``Shop`` refers back to them by string names (``"CraftVillage"``,
``"Product"``), so this module imports nothing from ``marketplace.catalog``: ``catalog.models`` imports it,
never the other way round. Who may manage a shop is written once, in ``marketplace.shops.access``."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class ShopStatus:
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CHOICES = (ACTIVE, SUSPENDED)


class Shop(db.Model):
    __tablename__ = "shops"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active','suspended')", name="status_valid"),
        sa.CheckConstraint("shipping_fee >= 0", name="shipping_fee_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    story: Mapped[str | None] = mapped_column(sa.Text)
    maker_name: Mapped[str | None] = mapped_column(sa.String(120))
    maker_title: Mapped[str | None] = mapped_column(sa.String(160))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    shipping_policy: Mapped[str | None] = mapped_column(sa.Text)
    returns_policy: Mapped[str | None] = mapped_column(sa.Text)
    shipping_fee: Mapped[int] = mapped_column(sa.Integer, default=30_000)
    free_shipping_over: Mapped[int | None] = mapped_column(sa.Integer)
    # Shipping up front (0012_h16shop_shipping_addresses; the one rule is ``marketplace.shops.shipping.quote``):
    # the fee inside Hà Nội (None = the flat ``shipping_fee`` everywhere), delivery estimates in days ("1–2"),
    # and surcharges by parcel weight ("2000=15000; 5000=30000": from 2 kg +15.000 ₫, from 5 kg +30.000 ₫).
    shipping_fee_hanoi: Mapped[int | None] = mapped_column(sa.Integer)
    delivery_days_hanoi: Mapped[str | None] = mapped_column(sa.String(16))
    delivery_days_other: Mapped[str | None] = mapped_column(sa.String(16))
    shipping_weight_bands: Mapped[str | None] = mapped_column(sa.String(200))
    verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default=ShopStatus.ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    # A household / individual seller (hộ kinh doanh, cá nhân): the platform withholds VAT and PIT on what it
    # collects for them (Decree 117/2025/NĐ-CP; marketplace.ledger). Added by 0010_h14ledger_ledger.
    household_seller: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # Contact and English (0012_h16seo_contact_english): whether pages show the phone and a Zalo link
    # (``zalo.me/<phone>``), and the English name and story for tourists (Vietnamese is the fallback).
    show_phone: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    show_zalo: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    story_en: Mapped[str | None] = mapped_column(sa.Text)
    # Alerts (added by 0012_h17ops_seller_ops): the shop's own low-stock threshold (None: LOW_STOCK_THRESHOLD)
    # and whether alerts come as one daily digest instead of one mail each (marketplace.shops.alerts).
    low_stock_threshold: Mapped[int | None] = mapped_column(sa.Integer)
    alert_digest: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())

    owner = relationship("User")
    village = relationship("CraftVillage", back_populates="shops")  # marketplace.catalog.models
    products = relationship("Product", back_populates="shop")
    # marketplace.makers.models (the village page loads them with its shops: one statement)
    makers = relationship("Maker", order_by="(Maker.name, Maker.id)", viewonly=True)

    @property
    def is_active(self) -> bool:
        return self.status == ShopStatus.ACTIVE

    @property
    def name_vi(self) -> str:  # ``localized(shop, "name")``: the Vietnamese name is the column ``name``
        return self.name

    @property
    def story_vi(self) -> str | None:
        return self.story

    @property
    def zalo_url(self) -> str | None:
        """The shop's Zalo chat link (Zalo accounts are looked up by phone number), if it has a phone."""
        digits = "".join(ch for ch in self.phone or "" if ch.isdigit())
        return f"https://zalo.me/{digits}" if digits else None

    @property
    def phone_display(self) -> str:
        """``0912345678`` → ``0912 345 678``."""
        p = self.phone or ""
        return f"{p[:4]} {p[4:7]} {p[7:]}" if len(p) == 10 else p

    @property
    def contact_phone(self) -> str | None:
        """The phone shown to shoppers, per the shop's choice."""
        return self.phone if self.show_phone and self.phone else None

    @property
    def contact_zalo(self) -> str | None:
        """The Zalo link shown to shoppers, per the shop's choice."""
        return self.zalo_url if self.show_zalo else None


class AlertKind:
    ORDER = "order"
    CANCEL = "cancel"
    MESSAGE = "message"
    LOW_STOCK = "low_stock"
    VERIFICATION = "verification"
    CHOICES = (ORDER, CANCEL, MESSAGE, LOW_STOCK, VERIFICATION)


class ShopAlert(db.Model):
    """One thing the shop must hear about. Mailed at once, or (``Shop.alert_digest``) gathered into the
    daily digest, which sets ``mailed_at``. ``context`` holds JSON values, never rendered text."""

    __tablename__ = "shop_alerts"
    __table_args__ = (sa.Index("ix_shop_alerts_pending", "shop_id", "mailed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    context: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)


class ConsentMethod:
    IN_PERSON_SIGNED = "in_person_signed"
    IN_PERSON_VERBAL = "in_person_verbal"
    PHONE = "phone"
    LETTER = "letter"
    LABELS = {
        IN_PERSON_SIGNED: ("Gặp trực tiếp, có chữ ký", "In person, signed"),
        IN_PERSON_VERBAL: ("Gặp trực tiếp, đồng ý bằng lời", "In person, verbal"),
        PHONE: ("Qua điện thoại", "By phone"),
        LETTER: ("Bằng văn bản gửi đến", "By letter"),
    }
    CHOICES = tuple(LABELS)


class ShopConsent(db.Model):
    """One per assisted shop. While ``handed_over_at`` is empty the shop is *assisted*: officials and
    admins may manage it (see ``marketplace.shops.access.can_manage_shop``)."""

    __tablename__ = "shop_consents"
    __table_args__ = (
        sa.CheckConstraint(
            "method IN ('in_person_signed','in_person_verbal','phone','letter')", name="method_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    artisan_name: Mapped[str] = mapped_column(sa.String(120))
    artisan_phone: Mapped[str | None] = mapped_column(sa.String(20))
    method: Mapped[str] = mapped_column(sa.String(32))
    given_at: Mapped[datetime] = mapped_column(sa.DateTime)
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    handed_over_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    handed_over_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    shop = relationship("Shop")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    handed_over_to = relationship("User", foreign_keys=[handed_over_to_id])

    @property
    def is_active(self) -> bool:
        return self.handed_over_at is None
