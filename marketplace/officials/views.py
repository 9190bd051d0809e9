"""Officials' pages, exports, records, the public transparency page and the stats JSON."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import Response, abort, jsonify, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from marketplace.accounts.permissions import public, role_required
from marketplace.catalog.models import Category, CraftVillage, Recognition
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.core.replica import reads_replica
from marketplace.core.templating import current_lang
from marketplace.extensions import db
from marketplace.officials import bp, exports, queries, services
from marketplace.officials import indicators as ind
from marketplace.officials.cache import cached
from marketplace.officials.charts import trend_svg
from marketplace.officials.indicators import stats_today
from marketplace.officials.models import (
    CraftRecognition,
    ExternalPresence,
    IndicatorBaseline,
    RecognitionDecision,
    RecordedValue,
    TourRoute,
)
from marketplace.officials.present import fmt_number, fmt_value, unit_suffix
from marketplace.officials.reasons import reasons_for

OFFICIALS = ("official", "admin")
ONLY_CHOICES = ("recognized", "ecommerce", "not_ecommerce", "showcase", "not_showcase", "ocop", "not_ocop",
                "ip", "not_ip")
SORTS = ("name", "commune", "category", "recognition", "listings", "sales")


def _filters() -> dict:
    commune = request.args.get("commune", "").strip() or None
    category = request.args.get("category", "").strip() or None
    if category and category not in Category.LABELS:
        category = None
    if commune and len(commune) > 120:
        commune = None
    return {"commune": commune, "category": category}


def _helpers() -> dict:
    fargs = {k: v for k, v in _filters().items() if v}
    return {"fargs": fargs, "fmt_value": fmt_value, "fmt_number": fmt_number, "trend_svg": trend_svg, "unit_suffix": unit_suffix,
            "INDICATORS": ind.INDICATORS, "BY_ID": ind.BY_ID}


def _page(page: str, body_template: str, build_context) -> str:
    """Render ``page`` around a body cached per language, query string and data generation (the body
    holds no form token and nothing about the viewer, so officials share it)."""
    args = tuple(sorted((k, v) for k, v in request.args.items(multi=True) if k != "lang"))
    key = ("html", body_template, current_lang(), args)
    body = cached(key, lambda: Markup(render_template(body_template, **build_context())))
    return render_template(page, body=body)


@bp.route("/officials")
@role_required(*OFFICIALS)
@reads_replica
def dashboard():
    def context():
        filters = _filters()
        by = request.args.get("by") if request.args.get("by") in ("commune", "category") else "commune"
        return dict(cards=queries.cards(**filters), filters=filters, by=by, breakdown=queries.breakdown(by),
                    communes=queries.communes(), today=stats_today(), **_helpers())

    return _page("officials/dashboard.html", "officials/_dashboard_body.html", context)


@bp.route("/officials/villages")
@role_required(*OFFICIALS)
@reads_replica
def villages():
    def context():
        filters = _filters()
        only = request.args.get("only") if request.args.get("only") in ONLY_CHOICES else None
        sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
        descending = request.args.get("dir") == "desc"
        rows = queries.villages(only=only, sort=sort, descending=descending, **filters)
        return dict(rows=rows, reasons_for=reasons_for, filters=filters, only=only, sort=sort,
                    descending=descending, communes=queries.communes(), only_choices=ONLY_CHOICES, **_helpers())

    return _page("officials/villages.html", "officials/_villages_body.html", context)


@bp.route("/officials/export/<table>.<fmt>")
@role_required(*OFFICIALS)
@reads_replica
def export(table: str, fmt: str):
    if table not in ("indicators", "villages") or fmt not in ("csv", "xlsx", "zip"):
        abort(404)
    filters = _filters()
    data = exports.indicator_table(**filters) if table == "indicators" else exports.village_table(**filters)
    stamp = stats_today().isoformat()
    base = f"{'chi-tieu' if table == 'indicators' else 'lang-nghe'}-{stamp}"
    name = f"{base}.{fmt}"
    if fmt == "csv":  # streamed: the rows are made here, the text written 200 rows at a time as it is read
        body, content_type = exports.csv_lines(data), "text/csv; charset=utf-8"
    elif fmt == "zip":
        body, content_type = exports.to_zip(data, f"{base}.csv"), "application/zip"
    else:
        body = exports.to_xlsx(data)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # content_type as given (``mimetype=`` would append a second "; charset=utf-8" to a text type)
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/officials/export/products.csv")
@role_required(*OFFICIALS)
def export_products():
    """Every product (100k rows and more) streamed from a server-side cursor: constant memory."""
    data = exports.product_table(**_filters())
    name = f"san-pham-{stats_today().isoformat()}.csv"
    return Response(stream_with_context(exports.csv_lines(data)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- recorded values, external presences, recognition decisions -------------------------------------

def _parse_date(name: str, required: bool = True) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise services.StatsInputError(_("Ngày không hợp lệ (định dạng YYYY-MM-DD)."), field=name) from None


def _parse_float(name: str, required: bool = True) -> float | None:
    raw = (request.form.get(name) or "").strip().replace(" ", "")
    if not raw and not required:
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise services.StatsInputError(_("Số không hợp lệ."), field=name) from None


def _village_or_error(field: str = "village_id") -> CraftVillage:
    vid = parse_id(request.form.get(field))
    village = db.session.get(CraftVillage, vid) if vid is not None else None
    if village is None:
        raise services.StatsInputError(_("Chọn một làng nghề."), field=field)
    return village


def _records_url(**_view_kwargs) -> str:
    return url_for("officials.records")


def _saved() -> Response:
    return uow.done(_("Đã lưu."), _records_url())


ROUTE_STOP_FIELDS = 8  # stop selects on the route form (no JavaScript); a longer route is entered in two steps


def _records_page(status: int = 200, error=None, form_name: str | None = None):
    """The records page; after a refused entry, its form shows the error beside the field and keeps what
    was typed (``status`` 400)."""
    values = db.session.scalars(sa.select(RecordedValue).order_by(RecordedValue.indicator_id,
                                                                  RecordedValue.period_end.desc(),
                                                                  RecordedValue.id.desc())).all()
    superseded = {v.supersedes_id for v in values if v.supersedes_id}
    presences = db.session.scalars(sa.select(ExternalPresence).order_by(ExternalPresence.evidence_date.desc(),
                                                                        ExternalPresence.id.desc())).all()
    superseded_p = {p.supersedes_id for p in presences if p.supersedes_id}
    decisions = db.session.scalars(sa.select(RecognitionDecision).order_by(RecognitionDecision.decided_on.desc(),
                                                                           RecognitionDecision.id.desc())).all()
    crafts = db.session.scalars(sa.select(CraftRecognition).order_by(CraftRecognition.decided_on.desc(),
                                                                     CraftRecognition.id.desc())).all()
    routes = db.session.scalars(sa.select(TourRoute).order_by(TourRoute.opened_on.desc(), TourRoute.id.desc())).all()
    baselines = db.session.scalars(sa.select(IndicatorBaseline).order_by(IndicatorBaseline.indicator_id,
                                                                         IndicatorBaseline.id.desc())).all()
    in_force = {b["id"] for b in ind.baselines().values()}
    all_villages = db.session.execute(sa.select(CraftVillage.id, CraftVillage.name_vi, CraftVillage.commune_vi)
                                      .order_by(CraftVillage.name_vi)).all()
    errors = {}
    if error is not None:
        errors = {error.field or "_form": error.message}
    body = render_template(
        "officials/records.html", values=values, superseded=superseded, presences=presences,
        superseded_p=superseded_p, decisions=decisions, crafts=crafts, routes=routes, baselines=baselines,
        baselines_in_force=in_force, villages=all_villages, recorded_ids=ind.RECORDED_IDS, platforms=ind.PLATFORMS,
        today=stats_today(), fresh_cutoff=ind.add_months(stats_today(), -ind.PRESENCE_MAX_AGE_MONTHS),
        titles=Recognition.RECOGNIZED, errors=errors, error_form=form_name,
        typed=request.form if error is not None else {}, route_stop_fields=range(1, ROUTE_STOP_FIELDS + 1),
        plan_start=ind.PLAN_START, **_helpers())
    return body, status


def _entry(form_name: str, call):
    """Run one records form's service call: saved → 303 to the page; refused → the page again, 400, with
    the error beside its field."""
    with uow.field_errors() as outcome:
        call()
    if outcome.error is not None:
        return _records_page(400, outcome.error, form_name)
    return _saved()


@bp.route("/officials/records")
@role_required(*OFFICIALS)
def records():
    return _records_page()


@bp.route("/officials/records/values", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def record_value():
    return _entry("value", lambda: services.record_value(
        current_user, request.form.get("indicator_id", ""), _parse_date("period_start"), _parse_date("period_end"),
        _parse_float("value"), request.form.get("evidence", ""), _parse_float("numerator", False),
        _parse_float("denominator", False)))


@bp.route("/officials/records/values/<int:record_id>/correct", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def correct_value(record_id: int):
    original = db.get_or_404(RecordedValue, record_id)
    return _entry(f"correct-{record_id}", lambda: services.correct_value(
        current_user, original, _parse_float("value"), request.form.get("evidence", ""),
        request.form.get("note", ""), _parse_float("numerator", False), _parse_float("denominator", False)))


@bp.route("/officials/records/presences", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def record_presence():
    supersedes = None
    if (request.form.get("supersedes_id") or "").isdigit():
        supersedes = db.get_or_404(ExternalPresence, int(request.form["supersedes_id"]))
    services.record_presence(
        current_user, supersedes.village if supersedes else _village_or_error(),
        request.form.get("platform", ""), request.form.get("evidence", ""), _parse_date("evidence_date"),
        (request.form.get("url") or "").strip() or None, supersedes, request.form.get("note"))
    return _saved()


@bp.route("/officials/records/recognitions", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def record_recognition():
    return _entry("recognition", lambda: services.record_recognition(
        current_user, _village_or_error(), request.form.get("number", ""), _parse_date("decided_on"),
        request.form.get("title", ""), request.form.get("evidence")))


def _optional_village(field: str = "village_id") -> CraftVillage | None:
    raw = (request.form.get(field) or "").strip()
    return _village_or_error(field) if raw else None


@bp.route("/officials/records/crafts", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def record_craft_recognition():
    return _entry("craft", lambda: services.record_craft_recognition(
        current_user, request.form.get("craft_name", ""), request.form.get("number", ""),
        _parse_date("decided_on"), _optional_village(), request.form.get("evidence")))


def _route_stops() -> list[int]:
    ids = []
    for n in range(1, ROUTE_STOP_FIELDS + 1):
        raw = (request.form.get(f"stop_{n}") or "").strip()
        if not raw:
            continue
        vid = parse_id(raw)
        if vid is None:
            raise services.StatsInputError(_("Chọn làng trong danh sách."), field="villages")
        ids.append(vid)
    return ids


@bp.route("/officials/records/routes", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def create_tour_route():
    return _entry("route", lambda: services.create_tour_route(
        current_user, request.form.get("name", ""), _parse_date("opened_on"), request.form.get("evidence", ""),
        _route_stops()))


@bp.route("/officials/records/baselines", methods=["POST"])
@role_required(*OFFICIALS)
@uow.error_redirect(_records_url)
def record_baseline():
    return _entry("baseline", lambda: services.record_baseline(
        current_user, request.form.get("indicator_id", ""), _parse_float("value"), request.form.get("source", ""),
        _parse_float("numerator", False), _parse_float("denominator", False)))


# --- public ---------------------------------------------------------------------------------------

@bp.route("/minh-bach")
@bp.route("/transparency", endpoint="transparency_en")
@public
@reads_replica
def transparency():
    def context():
        cards = [c for c in queries.cards() if c.result.indicator.kind == "platform"
                 or c.result.indicator.id in ("new_recognitions", "tourism_villages")]
        return dict(cards=cards, today=stats_today(), **_helpers())

    return _page("officials/transparency.html", "officials/_transparency_body.html", context)


# --- JSON (documented by the API area; keep the shapes stable) --------------------------------------

def _num(v):
    return None if v is None else (int(v) if float(v).is_integer() else round(float(v), 4))


def _json_facts(facts: dict) -> dict:
    out = {}
    for key, value in facts.items():
        if isinstance(value, datetime):
            value = value.isoformat() + "Z"  # stored naive UTC
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float):
            value = _num(value)
        out[key] = value
    return out


@bp.route("/api/v1/stats/indicators")
@public
@reads_replica
def api_indicators():
    filters = _filters()
    items = []
    for card in queries.cards(**filters):
        r = card.result
        i = r.indicator
        items.append({
            "id": i.id, "label": {"vi": i.label_vi, "en": i.label_en}, "unit": i.unit, "kind": i.kind,
            "value": _num(r.value), "numerator": _num(r.numerator), "denominator": _num(r.denominator),
            "target_2030": _num(i.target_2030), "target_2030_text": i.target_text_vi,
            "orientation_2050": i.orientation_2050_vi, "on_track": card.on_track,
            "expected_today": _num(round(card.expected, 2)) if card.expected is not None else None,
            "definition": {"vi": i.definition_vi, "en": i.definition_en},
            **_json_facts(exports.card_facts(card)),
        })
    return jsonify({"as_of": stats_today().isoformat(), "filters": filters, "indicators": items})


@bp.route("/api/v1/stats/villages")
@role_required(*OFFICIALS)
@reads_replica
def api_villages():
    filters = _filters()
    rows = queries.villages(**filters)
    items = [exports.village_dict(row) for row in rows]
    return jsonify({"as_of": stats_today().isoformat(), "filters": filters, "count": len(items), "villages": items})
