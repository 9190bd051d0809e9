"""Officials' register of villages (``/officials/register``): list, create, edit (photos, recognition decisions),
import the city's list from CSV/XLSX (preview, per-row errors, all or nothing) and export it."""
from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from marketplace.accounts.permissions import role_required
from marketplace.catalog.hanoi import UNITS
from marketplace.catalog.models import Category, CraftVillage, Recognition
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.core.templating import label
from marketplace.core.text import fold
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.media.images import ACCEPT_MIMETYPES
from marketplace.officials import bp
from marketplace.officials import village_register as register_services
from marketplace.officials.models import RecognitionDecision

OFFICIALS = ("official", "admin")
FORM_FIELDS = ("code", "name_vi", "name_en", "commune_vi", "former_district_vi", "commune_note", "craft_vi",
               "craft_en", "category", "latitude", "longitude", "tourism", "notable_products", "story_vi", "story_en",
               "sources")
PER_PAGE = 100


def _load(village_id: int) -> CraftVillage:
    village = db.session.get(CraftVillage, village_id)
    if village is None:
        raise NotFound(_("Không tìm thấy làng nghề."))
    return village


def _values(village: CraftVillage | None) -> dict:
    if village is None:
        return {"category": "other"}
    values = {key: getattr(village, key) for key in FORM_FIELDS}
    values["tourism"] = "1" if village.tourism else ""
    return {k: "" if v is None else str(v) for k, v in values.items()}


@bp.route("/officials/register")
@role_required(*OFFICIALS)
def register():
    q = (request.args.get("q") or "").strip()[:80]
    page = max(1, min(parse_id(request.args.get("page")) or 1, 10_000))
    stmt = sa.select(CraftVillage)
    if q:
        like = f"%{fold(q)}%"
        stmt = stmt.where(sa.or_(sa.func.lower(CraftVillage.code).like(f"%{q.lower()}%"),
                                 CraftVillage.slug.like(like.replace(" ", "-")),
                                 CraftVillage.name_vi.ilike(f"%{q}%"), CraftVillage.commune_vi.ilike(f"%{q}%")))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    villages = list(db.session.scalars(
        stmt.options(selectinload(CraftVillage.images)).order_by(CraftVillage.name_vi, CraftVillage.id)
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return render_template("officials/register/list.html", villages=villages, q=q, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)))


def _form(village: CraftVillage | None):
    values = _values(village)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in FORM_FIELDS}
        with uow.field_errors() as outcome:
            if village is None:
                village = register_services.create_village(current_user, values)
            else:
                register_services.update_village(current_user, village, values)
        if outcome.error is None:
            return uow.done(_("Đã lưu làng nghề “%(n)s”.", n=village.name_vi),
                            url_for("officials.register_edit", village_id=village.id))
        if not isinstance(outcome.error, InvalidInput):
            raise outcome.error
        errors = outcome.error.details.get("errors") or {outcome.error.field or "form": outcome.error.message}
        status = outcome.status
        village = db.session.get(CraftVillage, village.id) if village is not None and village.id else None
    decisions = [] if village is None else list(db.session.scalars(
        sa.select(RecognitionDecision).where(RecognitionDecision.village_id == village.id)
        .order_by(RecognitionDecision.decided_on.desc(), RecognitionDecision.id.desc())))
    return render_template("officials/register/form.html", village=village, values=values, errors=errors,
                           categories=Category.CHOICES, units=UNITS, decisions=decisions,
                           titles=Recognition.RECOGNIZED, accept=ACCEPT_MIMETYPES), status


@bp.route("/officials/register/new", methods=["GET", "POST"])
@role_required(*OFFICIALS)
def register_new():
    return _form(None)


@bp.route("/officials/register/<int:village_id>", methods=["GET", "POST"])
@role_required(*OFFICIALS)
def register_edit(village_id: int):
    return _form(_load(village_id))


@bp.post("/officials/register/<int:village_id>/photos")
@role_required(*OFFICIALS)
@uow.error_redirect("officials.register_edit")
def register_photo_add(village_id: int):
    village = _load(village_id)
    upload = request.files.get("photo")
    if not upload or not upload.filename:
        raise InvalidInput(_("Hãy chọn ít nhất một ảnh."), field="photo")
    register_services.add_village_photo(current_user, village, upload.filename[:80], upload.read(),
                                        request.form.get("alt_text"))
    return uow.done(_("Đã thêm ảnh."), url_for("officials.register_edit", village_id=village.id) + "#photos")


@bp.post("/officials/register/<int:village_id>/photos/<int:image_id>/delete")
@role_required(*OFFICIALS)
@uow.error_redirect("officials.register_edit")
def register_photo_delete(village_id: int, image_id: int):
    village = _load(village_id)
    register_services.delete_village_photo(current_user, village, image_id)
    return uow.done(_("Đã xoá ảnh."), url_for("officials.register_edit", village_id=village.id) + "#photos")


@bp.post("/officials/register/<int:village_id>/decisions")
@role_required(*OFFICIALS)
@uow.error_redirect("officials.register_edit")
def register_decision(village_id: int):
    village = _load(village_id)
    before = village.recognition
    register_services.record_decision(current_user, village, request.form)
    return uow.done(_("Đã ghi quyết định công nhận (%(a)s → %(b)s).", a=_title(before), b=_title(village.recognition)),
                    url_for("officials.register_edit", village_id=village.id) + "#decisions")


def _title(key: str) -> str:
    return label(Recognition.LABELS, key)


# --- import -----------------------------------------------------------------------------------------

def _payload() -> tuple[bytes, str]:
    """The file: uploaded now, or carried from the preview page (base64 in a hidden field)."""
    upload = request.files.get("file")
    if upload and upload.filename:
        return upload.read(), upload.filename[:120]
    carried = request.form.get("payload", "")
    try:
        return base64.b64decode(carried.encode("ascii"), validate=True), request.form.get("filename", "")[:120]
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidInput(_("Hãy chọn lại tệp."), field="file") from None


@bp.route("/officials/register/import", methods=["GET", "POST"])
@role_required(*OFFICIALS)
def register_import():
    if request.method == "GET":
        return render_template("officials/register/import.html", plan=None, result=None, error=None)
    data, filename = _payload()
    apply = request.form.get("action") == "apply"
    with uow.field_errors() as outcome:
        result = register_services.run_register_import(current_user, data, filename, dry_run=not apply)
    if outcome.error is not None:
        if not isinstance(outcome.error, InvalidInput):
            raise outcome.error
        return render_template("officials/register/import.html", plan=None, result=None,
                               error=outcome.error.message), outcome.status
    if result.applied:
        return uow.done(_("Đã nhập sổ: %(c)s làng mới, %(u)s làng cập nhật, %(s)s không đổi, %(d)s quyết định công "
                          "nhận.", c=result.created, u=result.updated, s=result.unchanged, d=result.decisions),
                        url_for("officials.register"))
    payload = base64.b64encode(data).decode("ascii") if result.plan.ok else None
    status = 200 if result.plan.ok else 400
    return render_template("officials/register/import.html", plan=result.plan, result=result, error=None,
                           payload=payload, filename=filename), status


@bp.get("/officials/register/template.csv")
@role_required(*OFFICIALS)
def register_template():
    return Response(register_services.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=so-lang-nghe-mau.csv"})


@bp.get("/officials/register/export.<fmt>")
@role_required(*OFFICIALS)
def register_export(fmt: str):
    if fmt == "csv":
        return Response(register_services.export_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=so-lang-nghe.csv"})
    if fmt == "xlsx":
        return Response(register_services.export_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=so-lang-nghe.xlsx"})
    raise NotFound(_("Không có định dạng này."))
