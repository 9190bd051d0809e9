"""Assisted listing: the artisan's consent for a shop run on their behalf by an official or admin."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


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
    admins may manage it (see ``marketplace.accounts.permissions.can_manage_shop``)."""

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
