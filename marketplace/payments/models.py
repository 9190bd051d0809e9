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


class BankTxnStatus:
    MATCHED = "matched"    # settled its checkout automatically (reference and exact amount)
    REVIEW = "review"      # a person must look at it (see ``reason``)
    SETTLED = "settled"    # an admin settled its checkout with it
    REFUNDED = "refunded"  # an admin recorded that the money was sent back
    ATTACHED = "attached"  # an admin attached it to a checkout whose payment it completes
    CHOICES = (MATCHED, REVIEW, SETTLED, REFUNDED, ATTACHED)


class BankTxnReason:
    UNMATCHED = "unmatched"    # no checkout's reference in the description
    UNDERPAID = "underpaid"    # less than the checkout's total: nothing is marked paid
    OVERPAID = "overpaid"      # more than the checkout's total
    LATE = "late"              # the checkout's stock hold had ended (expired or cancelled)
    DUPLICATE = "duplicate"    # the checkout was paid already
    NOT_PENDING = "not_pending"  # the checkout's method is not bank transfer, or it is in no payable state


class BankTransaction(db.Model):
    """One incoming transfer to the collecting account (VietQR), from the bank's notification webhook or an
    uploaded statement; the bank's transaction id once (unique: re-uploads and replays change nothing)."""

    __tablename__ = "bank_transactions"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(sa.String(100), unique=True)  # the bank's id
    source: Mapped[str] = mapped_column(sa.String(16))  # "webhook" or "statement"
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # int đồng
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    occurred_at: Mapped[datetime | None] = mapped_column(sa.DateTime)  # naive UTC, as the bank says
    reference: Mapped[str | None] = mapped_column(sa.String(32), index=True)  # the checkout reference found
    checkout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkouts.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
