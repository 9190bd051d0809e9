"""Officials' write operations (flush, never commit) and the monthly snapshot."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from marketplace.catalog.models import CraftVillage, Recognition
from marketplace.core.audit import record
from marketplace.core.time import today_vn, utcnow
from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.officials.indicators import BY_ID, PLATFORMS, RECORDED_IDS, compute_all, stats_today
from marketplace.officials.models import (
    ExternalPresence,
    RecognitionDecision,
    RecordedValue,
    StatSnapshot,
    current_clause,
)


class StatsInputError(InvalidInput):
    pass


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise StatsInputError(message)


def _check_period(start: date, end: date) -> None:
    _require(start <= end, "Kỳ báo cáo không hợp lệ: ngày bắt đầu sau ngày kết thúc.")


def record_value(actor, indicator_id: str, period_start: date, period_end: date, value: float, evidence: str,
                 numerator: float | None = None, denominator: float | None = None,
                 village_id: int | None = None) -> RecordedValue:
    _require(indicator_id in RECORDED_IDS, "Chỉ tiêu này không nhập tay được.")
    _check_period(period_start, period_end)
    _require(bool(evidence and evidence.strip()), "Cần ghi minh chứng (văn bản, đường dẫn).")
    _require(value >= 0, "Giá trị không được âm.")
    if numerator is not None and denominator:
        _require(0 <= numerator <= denominator, "Tử số phải nằm giữa 0 và mẫu số.")
    entry = RecordedValue(indicator_id=indicator_id, period_start=period_start, period_end=period_end,
                          value=value, numerator=numerator, denominator=denominator, evidence=evidence.strip(),
                          village_id=village_id, entered_by_id=getattr(actor, "id", None), entered_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    record(actor, "stats.record_value", "recorded_value", entry.id,
           after={"indicator": indicator_id, "value": value, "period": [str(period_start), str(period_end)]})
    return entry


def correct_value(actor, original: RecordedValue, value: float, evidence: str, note: str,
                  numerator: float | None = None, denominator: float | None = None) -> RecordedValue:
    """A new entry that supersedes ``original`` (which stays, as history)."""
    _require(bool(note and note.strip()), "Cần ghi lý do điều chỉnh.")
    already = db.session.scalar(sa.select(RecordedValue.id).where(RecordedValue.supersedes_id == original.id))
    _require(already is None, "Bản ghi này đã được điều chỉnh; hãy điều chỉnh bản mới nhất.")
    entry = record_value(actor, original.indicator_id, original.period_start, original.period_end, value,
                         evidence, numerator, denominator, original.village_id)
    entry.supersedes_id = original.id
    entry.correction_note = note.strip()
    db.session.flush()
    record(actor, "stats.correct_value", "recorded_value", entry.id,
           before={"id": original.id, "value": original.value}, after={"id": entry.id, "value": value},
           note=note)
    return entry


def record_presence(actor, village: CraftVillage, platform: str, evidence: str, evidence_date: date,
                    url: str | None = None, supersedes: ExternalPresence | None = None,
                    note: str | None = None) -> ExternalPresence:
    _require(platform in PLATFORMS, "Sàn không hợp lệ.")
    _require(bool(evidence and evidence.strip()), "Cần ghi minh chứng.")
    _require(evidence_date <= today_vn(), "Ngày minh chứng không được ở tương lai.")
    _require(not url or url.startswith(("http://", "https://")), "Đường dẫn phải bắt đầu bằng http:// hoặc https://.")
    if supersedes is not None:
        _require(bool(note and note.strip()), "Cần ghi lý do điều chỉnh.")
        already = db.session.scalar(sa.select(ExternalPresence.id)
                                    .where(ExternalPresence.supersedes_id == supersedes.id))
        _require(already is None, "Bản ghi này đã được điều chỉnh.")
    entry = ExternalPresence(village_id=village.id, platform=platform, url=url or None, evidence=evidence.strip(),
                             evidence_date=evidence_date, entered_by_id=getattr(actor, "id", None),
                             entered_at=utcnow(), supersedes_id=supersedes.id if supersedes else None,
                             correction_note=(note or "").strip() or None)
    db.session.add(entry)
    db.session.flush()
    record(actor, "stats.record_presence", "external_presence", entry.id,
           after={"village": village.slug, "platform": platform, "evidence_date": str(evidence_date)},
           before={"id": supersedes.id} if supersedes else None)
    return entry


def record_recognition(actor, village: CraftVillage, number: str, decided_on: date, title: str,
                       evidence: str | None = None) -> RecognitionDecision:
    """Record a decision and bring ``CraftVillage.recognition`` in line with the latest decision."""
    _require(title in Recognition.RECOGNIZED, "Danh hiệu không hợp lệ.")
    _require(bool(number and number.strip()), "Cần số quyết định.")
    _require(decided_on <= today_vn(), "Ngày quyết định không được ở tương lai.")
    decision = RecognitionDecision(village_id=village.id, number=number.strip(), decided_on=decided_on, title=title,
                                   previous_title=village.recognition, evidence=(evidence or "").strip() or None,
                                   entered_by_id=getattr(actor, "id", None), entered_at=utcnow())
    db.session.add(decision)
    db.session.flush()
    latest = db.session.scalars(
        sa.select(RecognitionDecision).where(RecognitionDecision.village_id == village.id)
        .order_by(RecognitionDecision.decided_on.desc(), RecognitionDecision.id.desc()).limit(1)
    ).first()
    before = {"recognition": village.recognition, "decision": village.recognition_decision,
              "year": village.recognition_year}
    village.recognition = latest.title
    village.recognition_decision = latest.number
    village.recognition_year = latest.decided_on.year
    db.session.flush()
    record(actor, "stats.record_recognition", "craft_village", village.id, before=before,
           after={"recognition": village.recognition, "decision": village.recognition_decision,
                  "year": village.recognition_year})
    return decision


def current_records(model):
    return sa.select(model).where(current_clause(model))


def take_snapshot(as_of: date | None = None) -> tuple[date, int]:
    """Store this month's value of every indicator. Idempotent per month: a second run in the same month
    updates that month's rows (no duplicates); earlier months are never touched."""
    as_of = as_of or stats_today()
    month = as_of.replace(day=1)
    existing = {s.indicator_id: s for s in db.session.scalars(sa.select(StatSnapshot).where(StatSnapshot.month == month))}
    n = 0
    for result in compute_all(as_of):
        snap = existing.get(result.indicator.id)
        if snap is None:
            snap = StatSnapshot(month=month, indicator_id=result.indicator.id)
            db.session.add(snap)
        snap.value = result.value
        snap.numerator = result.numerator
        snap.denominator = result.denominator
        snap.taken_at = utcnow()
        n += 1
    db.session.flush()
    return month, n


__all__ = ["BY_ID", "StatsInputError", "record_value", "correct_value", "record_presence", "record_recognition",
           "take_snapshot", "current_records"]
