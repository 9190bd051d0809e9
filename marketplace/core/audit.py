"""Audit log: who did what, when, with the values before and after."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(40))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)

    __table_args__ = (sa.Index("ix_audit_log_target", "target_type", "target_id"),)


def record(actor, action: str, target_type: str, target_id=None, *, before: dict | None = None,
           after: dict | None = None, note: str | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits)."""

    entry = AuditEntry(
        actor_id=getattr(actor, "id", None), actor_role=getattr(actor, "role", None), action=action,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        before=before, after=after, note=note,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
