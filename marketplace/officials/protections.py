"""Officials' IP protection records: list, add, edit, attach evidence (``catalog/protections.py``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.catalog import claims as claim_services
from marketplace.catalog import protections
from marketplace.catalog.models import CraftVillage, IpKind, IpProtection
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.core.time import today_vn
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.officials import bp

OFFICIALS = ("official", "admin")
FORM_FIELDS = ("kind", "name", "registration_number", "holder", "granted_on", "expires_on", "village", "product_ids")


def _villages() -> list[CraftVillage]:
    return list(db.session.scalars(sa.select(CraftVillage).order_by(CraftVillage.name_vi, CraftVillage.id)))


def _load(ip_id: int) -> IpProtection:
    ip = db.session.get(IpProtection, ip_id)
    if ip is None:
        raise NotFound(_("Không tìm thấy văn bằng."))
    return ip


def _values(ip: IpProtection | None) -> dict:
    if ip is None:
        return {"kind": IpKind.COLLECTIVE_MARK}
    return {
        "kind": ip.kind, "name": ip.name or "", "registration_number": ip.registration_number or "",
        "holder": ip.holder or "", "granted_on": ip.granted_on.isoformat() if ip.granted_on else "",
        "expires_on": ip.expires_on.isoformat() if ip.expires_on else "", "village": str(ip.village_id or ""),
        "product_ids": ", ".join(map(str, protections.linked_product_ids(ip))),
    }


@bp.route("/officials/ip")
@role_required(*OFFICIALS)
def ip_list():
    village_id = parse_id(request.args.get("village"))
    records = protections.ip_records(village_id)
    return render_template("officials/register/ip_list.html", records=records, today=today_vn(),
                           villages=_villages(), village_id=village_id)


def _form(ip: IpProtection | None):
    values = _values(ip)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in FORM_FIELDS}
        with uow.field_errors() as outcome:
            if ip is None:
                ip = protections.create_ip(current_user, values)
            else:
                protections.update_ip(current_user, ip, values)
        if outcome.error is None:
            return uow.done(_("Đã lưu văn bằng “%(n)s”.", n=ip.name), url_for("officials.ip_edit", ip_id=ip.id))
        if not isinstance(outcome.error, InvalidInput):
            raise outcome.error
        errors = outcome.error.details.get("errors") or {outcome.error.field or "form": outcome.error.message}
        status = outcome.status
        if ip is not None:
            ip = db.session.get(IpProtection, ip.id)
    return render_template("officials/register/ip_form.html", ip=ip, values=values, errors=errors,
                           villages=_villages(), kinds=IpKind.CHOICES,
                           fingerprint=claim_services.ip_fingerprint(ip) if ip else None), status


@bp.route("/officials/ip/new", methods=["GET", "POST"])
@role_required(*OFFICIALS)
def ip_new():
    return _form(None)


@bp.route("/officials/ip/<int:ip_id>", methods=["GET", "POST"])
@role_required(*OFFICIALS)
def ip_edit(ip_id: int):
    return _form(_load(ip_id))


@bp.post("/officials/ip/<int:ip_id>/evidence")
@role_required(*OFFICIALS)
@uow.error_redirect("officials.ip_edit")
def ip_evidence_upload(ip_id: int):
    ip = _load(ip_id)
    upload = request.files.get("evidence")
    claim_services.attach_ip_evidence(current_user, ip, upload.read() if upload and upload.filename else b"")
    return uow.done(_("Đã lưu tệp bằng chứng; văn bằng chờ xác minh."), url_for("officials.ip_edit", ip_id=ip.id))
