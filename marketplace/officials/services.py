"""Officials' write operations (flush, never commit) and the monthly snapshot."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from marketplace.catalog.models import CraftVillage, Recognition
from marketplace.core.audit import record
from marketplace.core.time import today_vn, utcnow
from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.officials.indicators import BY_ID, PERCENT, PLATFORMS, RECORDED_IDS, compute_all, stats_today
from marketplace.officials.models import (
    CraftRecognition,
    ExternalPresence,
    IndicatorBaseline,
    RecognitionDecision,
    RecordedValue,
    StatSnapshot,
    TourRoute,
    TourRouteStop,
    current_clause,
)

# A percentage entered with its numerator and denominator must be their quotient to this many points
# (the card shows one decimal: 71.3 % for 231/324 = 71.296…).
PERCENT_TOLERANCE = 0.05
MAX_ROUTE_STOPS = 30


class StatsInputError(InvalidInput):
    pass


def _require(cond: bool, message: str, field: str | None = None) -> None:
    if not cond:
        raise StatsInputError(message, field=field)


def _text(value: str | None, max_len: int) -> str:
    return (value or "").strip()[:max_len]


def check_fraction(indicator_id: str, value: float, numerator: float | None, denominator: float | None) -> None:
    """A recorded value with a numerator and denominator must agree with them (field errors otherwise)."""
    ind = BY_ID[indicator_id]
    if numerator is None and denominator is None:
        return
    _require(numerator is not None, _("Nhập cả tử số và mẫu số, hoặc để trống cả hai."), "numerator")
    _require(denominator is not None, _("Nhập cả tử số và mẫu số, hoặc để trống cả hai."), "denominator")
    _require(denominator > 0, _("Mẫu số phải lớn hơn 0."), "denominator")
    _require(0 <= numerator <= denominator, _("Tử số phải nằm giữa 0 và mẫu số."), "numerator")
    if ind.unit == PERCENT:
        computed = numerator * 100 / denominator
        _require(abs(computed - value) <= PERCENT_TOLERANCE,
                 _("Tử số và mẫu số cho %(c)s %%, không khớp với giá trị %(v)s %%.",
                   c=f"{computed:.1f}", v=f"{value:g}"), "numerator")
    else:
        _require(numerator == value, _("Với chỉ tiêu đếm, tử số phải bằng giá trị."), "numerator")


def _check_period(start: date, end: date) -> None:
    _require(start <= end, "Kỳ báo cáo không hợp lệ: ngày bắt đầu sau ngày kết thúc.")


def record_value(actor, indicator_id: str, period_start: date, period_end: date, value: float, evidence: str,
                 numerator: float | None = None, denominator: float | None = None,
                 village_id: int | None = None) -> RecordedValue:
    _require(indicator_id in RECORDED_IDS, "Chỉ tiêu này không nhập tay được.", "indicator_id")
    _check_period(period_start, period_end)
    _require(bool(evidence and evidence.strip()), "Cần ghi minh chứng (văn bản, đường dẫn).", "evidence")
    _require(value >= 0, "Giá trị không được âm.", "value")
    _require(BY_ID[indicator_id].unit != PERCENT or value <= 100, _("Tỷ lệ không quá 100 %."), "value")
    check_fraction(indicator_id, value, numerator, denominator)
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
    _require(title in Recognition.RECOGNIZED, "Danh hiệu không hợp lệ.", "title")
    _require(bool(number and number.strip()), "Cần số quyết định.", "number")
    _require(decided_on <= today_vn(), "Ngày quyết định không được ở tương lai.", "decided_on")
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


def record_craft_recognition(actor, craft_name: str, number: str, decided_on: date,
                             village: CraftVillage | None = None, evidence: str | None = None) -> CraftRecognition:
    """A decision recognizing a craft (nghề truyền thống): the "10 nghề" of the plan."""
    _require(bool(_text(craft_name, 200)), _("Cần tên nghề."), "craft_name")
    _require(bool(_text(number, 80)), "Cần số quyết định.", "number")
    _require(decided_on <= today_vn(), "Ngày quyết định không được ở tương lai.", "decided_on")
    entry = CraftRecognition(craft_name=_text(craft_name, 200), number=_text(number, 80), decided_on=decided_on,
                             village_id=village.id if village else None, evidence=_text(evidence, 2000) or None,
                             entered_by_id=getattr(actor, "id", None), entered_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    record(actor, "stats.record_craft_recognition", "craft_recognition", entry.id,
           after={"craft": entry.craft_name, "number": entry.number, "decided_on": str(decided_on)})
    return entry


def create_tour_route(actor, name: str, opened_on: date, evidence: str, village_ids: list[int]) -> TourRoute:
    """A route = its villages in order (at least two, no village twice in a row)."""
    _require(bool(_text(name, 200)), _("Cần tên tuyến."), "name")
    _require(bool(_text(evidence, 2000)), "Cần ghi minh chứng.", "evidence")
    _require(opened_on <= today_vn(), _("Ngày mở tuyến không được ở tương lai."), "opened_on")
    _require(2 <= len(village_ids) <= MAX_ROUTE_STOPS, _("Một tuyến gồm từ 2 đến %(n)d làng, theo thứ tự.",
                                                         n=MAX_ROUTE_STOPS), "villages")
    known = set(db.session.scalars(sa.select(CraftVillage.id).where(CraftVillage.id.in_(village_ids))))
    _require(known == set(village_ids), _("Chọn làng trong danh sách."), "villages")
    _require(all(a != b for a, b in zip(village_ids, village_ids[1:])),
             _("Hai điểm liền nhau không được là cùng một làng."), "villages")
    route = TourRoute(name=_text(name, 200), opened_on=opened_on, evidence=_text(evidence, 2000),
                      entered_by_id=getattr(actor, "id", None), entered_at=utcnow())
    route.stops = [TourRouteStop(position=n, village_id=vid) for n, vid in enumerate(village_ids, start=1)]
    db.session.add(route)
    db.session.flush()
    record(actor, "stats.create_tour_route", "tour_route", route.id,
           after={"name": route.name, "villages": village_ids, "opened_on": str(opened_on)})
    return route


def record_baseline(actor, indicator_id: str, value: float, source: str, numerator: float | None = None,
                    denominator: float | None = None) -> IndicatorBaseline:
    """The indicator's value on the plan's start day (15/01/2025), with where it comes from. A later entry
    replaces it (the earlier one stays, as history, with its audit entry)."""
    _require(indicator_id in BY_ID, "Chỉ tiêu không hợp lệ.", "indicator_id")
    _require(bool(_text(source, 2000)), _("Cần ghi nguồn số liệu (văn bản, báo cáo, đường dẫn)."), "source")
    ind = BY_ID[indicator_id]
    _require(ind.unit == "growth" or value >= 0, "Giá trị không được âm.", "value")
    _require(ind.unit != PERCENT or value <= 100, _("Tỷ lệ không quá 100 %."), "value")
    check_fraction(indicator_id, value, numerator, denominator)
    entry = IndicatorBaseline(indicator_id=indicator_id, value=value, numerator=numerator, denominator=denominator,
                              source=_text(source, 2000), entered_by_id=getattr(actor, "id", None),
                              entered_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    record(actor, "stats.record_baseline", "indicator_baseline", entry.id,
           after={"indicator": indicator_id, "value": value, "numerator": numerator, "denominator": denominator})
    return entry


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
           "record_craft_recognition", "create_tour_route", "record_baseline", "check_fraction", "take_snapshot",
           "current_records"]
