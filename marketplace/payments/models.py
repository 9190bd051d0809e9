"""Payment records: the provider events already applied, and refunds (with the provider's refund id).

Moved here from ``orders/models.py`` (same tables, no migration). Orders import these; nothing here
imports orders (the foreign keys name the tables)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class ProcessedEvent(db.Model):
    """Each provider event id once (the primary key makes duplicate deliveries harmless)."""

    __tablename__ = "processed_events"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)


class RefundStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.Integer)
    method: Mapped[str] = mapped_column(sa.String(16))  # the payment method's identifier (stripe, cod, …)
    status: Mapped[str] = mapped_column(sa.String(16), default=RefundStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    idempotency_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)  # the provider's refund id
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
