"""What officials record: values the platform cannot see, presence on other e-commerce platforms,
recognition decisions, and the monthly snapshots that the trend charts read.

Corrections never overwrite: a correction is a new row whose ``supersedes_id`` points at the row it
replaces; the "current" entries are the rows that no other row supersedes (see ``current_clause``).

Recognition: a ``RecognitionDecision`` is the source of truth for a village's title. Recording one
(``services.record_recognition``) also updates the denormalized ``CraftVillage.recognition``,
``recognition_decision`` and ``recognition_year`` columns (the catalog and every indicator read
those), with an audit entry. Villages seeded from public sources without a decision on file keep
the title from the data file.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class RecordedValue(db.Model):
    """A value an official entered for a recorded indicator, city-wide or for one village."""

    __tablename__ = "official_recorded_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    value: Mapped[float] = mapped_column(sa.Float)
    numerator: Mapped[float | None] = mapped_column(sa.Float)
    denominator: Mapped[float | None] = mapped_column(sa.Float)
    evidence: Mapped[str] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("official_recorded_values.id"), index=True)
    correction_note: Mapped[str | None] = mapped_column(sa.Text)

    entered_by = relationship("User")
    village = relationship("CraftVillage")


class ExternalPresence(db.Model):
    """A village's presence on another e-commerce platform, with the date the evidence was seen."""

    __tablename__ = "official_external_presences"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    platform: Mapped[str] = mapped_column(sa.String(40))
    url: Mapped[str | None] = mapped_column(sa.String(500))
    evidence: Mapped[str] = mapped_column(sa.Text)
    evidence_date: Mapped[date] = mapped_column(sa.Date)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("official_external_presences.id"), index=True)
    correction_note: Mapped[str | None] = mapped_column(sa.Text)

    entered_by = relationship("User")
    village = relationship("CraftVillage")


class RecognitionDecision(db.Model):
    """A recognition decision: number, date and the title granted to a village."""

    __tablename__ = "official_recognition_decisions"
    __table_args__ = (
        sa.CheckConstraint("title IN ('lang_nghe','lang_nghe_truyen_thong')", name="title_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(80))
    decided_on: Mapped[date] = mapped_column(sa.Date, index=True)
    title: Mapped[str] = mapped_column(sa.String(32))
    previous_title: Mapped[str] = mapped_column(sa.String(32), default="none")
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    entered_by = relationship("User")
    village = relationship("CraftVillage")


class StatSnapshot(db.Model):
    """One indicator's value for one month (``flask stats snapshot``; one row per month and indicator)."""

    __tablename__ = "official_stat_snapshots"
    __table_args__ = (sa.UniqueConstraint("month", "indicator_id", name="uq_snapshot_month_indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date)
    indicator_id: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[float | None] = mapped_column(sa.Float)
    numerator: Mapped[float | None] = mapped_column(sa.Float)
    denominator: Mapped[float | None] = mapped_column(sa.Float)
    taken_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)


def current_clause(model):
    """Rows that no later correction supersedes."""
    newer = aliased(model)
    return ~sa.exists(sa.select(newer.id).where(newer.supersedes_id == model.id))
