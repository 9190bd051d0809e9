"""Uploads waiting for their derivatives (background jobs): the original bytes, private, until a worker
has rendered the sizes (``media/pending.py``)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class PendingImage(db.Model):
    """The uploaded bytes of one ``ProductImage`` still being processed; deleted with its derivatives' commit
    (or with the image). Never served."""

    __tablename__ = "pending_images"

    image_id: Mapped[int] = mapped_column(sa.ForeignKey("product_images.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    sweeps: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")  # re-queued by media.sweep
