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


class CraftRecognition(db.Model):
    """A decision recognizing a craft (nghề truyền thống) — its own decision, separate from villages'.

    ``village_id`` is the village where the craft is practised, when the decision names one."""

    __tablename__ = "official_craft_recognitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    craft_name: Mapped[str] = mapped_column(sa.String(200))
    number: Mapped[str] = mapped_column(sa.String(80))
    decided_on: Mapped[date] = mapped_column(sa.Date, index=True)
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    entered_by = relationship("User")
    village = relationship("CraftVillage")


class TourRoute(db.Model):
    """An experience tour route: an ordered list of villages (``stops``), entered by an official."""

    __tablename__ = "official_tour_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    opened_on: Mapped[date] = mapped_column(sa.Date)
    evidence: Mapped[str] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    entered_by = relationship("User")
    stops = relationship("TourRouteStop", order_by="TourRouteStop.position", cascade="all, delete-orphan",
                         back_populates="route")


class TourRouteStop(db.Model):
    """One village on a route, at its place in the order (1, 2, …)."""

    __tablename__ = "official_tour_route_stops"
    __table_args__ = (sa.UniqueConstraint("route_id", "position", name="uq_route_stop_position"),
                      sa.CheckConstraint("position >= 1", name="position_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(sa.ForeignKey("official_tour_routes.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)

    route = relationship("TourRoute", back_populates="stops")
    village = relationship("CraftVillage")


class IndicatorBaseline(db.Model):
    """An indicator's value at the plan's start (15/01/2025), with its provenance; the on-track line starts
    here. A correction is a new row (the latest row of an indicator is the one in force)."""

    __tablename__ = "official_indicator_baselines"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    value: Mapped[float] = mapped_column(sa.Float)
    numerator: Mapped[float | None] = mapped_column(sa.Float)
    denominator: Mapped[float | None] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    entered_by = relationship("User")


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


class _SalesAggregate:
    """Delivered order-line value per shop and line village over one Hà Nội day or month (derived data:
    maintained by ``officials/aggregates.py`` inside the transaction that moves it, checked by
    ``flask stats verify``, rebuilt by ``flask stats rebuild``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.Integer)
    village_id: Mapped[int | None] = mapped_column(sa.Integer)  # the order line's village
    gross: Mapped[int] = mapped_column(sa.BigInteger)  # đồng: Σ unit_price × quantity
    orders: Mapped[int] = mapped_column(sa.Integer)  # distinct orders


class SalesDay(_SalesAggregate, db.Model):
    """One row per (Hà Nội delivery day, shop, line village) with produced (delivered) orders."""

    __tablename__ = "stats_sales_days"
    __table_args__ = (sa.Index("ix_stats_sales_days_shop_day", "shop_id", "day"),
                      sa.Index("ix_stats_sales_days_day", "day"))

    day: Mapped[date] = mapped_column(sa.Date)


class SalesMonth(_SalesAggregate, db.Model):
    """The days of one month summed: ``month`` is its first day."""

    __tablename__ = "stats_sales_months"
    __table_args__ = (sa.Index("ix_stats_sales_months_shop_month", "shop_id", "month"),
                      sa.Index("ix_stats_sales_months_month", "month"))

    month: Mapped[date] = mapped_column(sa.Date)
