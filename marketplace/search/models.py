"""Products whose index update could not be written (another process held the Whoosh lock).
The next writer, or ``flask search sync``, applies them; nothing is silently lost."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class SearchDirty(db.Model):
    __tablename__ = "search_dirty"

    # No foreign key: a deleted product must still be removed from the index.
    product_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    marked_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
