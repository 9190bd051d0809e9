"""Bulk import page: CSV (+ optional ZIP of photos), row-level errors, all-valid-rows or all-or-nothing.

With background jobs (``REDIS_URL``) the import is queued (``importer.queue_import``) and the artisan follows
its progress at ``/seller/import/<id>`` (refreshed every few seconds, no JavaScript); a failed run can be
resumed from the last committed chunk."""
from __future__ import annotations

import json

from flask import Response, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.catalog import services
from marketplace.catalog.importer import COLUMNS, MAX_ROWS, queue_import, run_import, template_csv
from marketplace.catalog.models import ImportRun
from marketplace.core import jobs, uow
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.seller import bp
from marketplace.seller.context import SELLER_ROLES, current_shop, invalid_input, require_shop, shop_args


@bp.get("/import/template.csv")
@role_required(*SELLER_ROLES)
def import_template():
    current_shop()  # a ?shop= the user may not manage is 404, like every seller page
    return Response(
        template_csv().encode("utf-8"), mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=mau-nhap-san-pham.csv"},
    )


@bp.route("/import", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def import_products():
    shop = require_shop()
    context = {"shop": shop, "args": shop_args(shop), "columns": COLUMNS, "max_rows": MAX_ROWS,
               "result": None, "file_error": None}
    if request.method == "GET":
        return render_template("seller/import.html", **context)
    csv_file = request.files.get("csv")
    zip_file = request.files.get("zip")
    all_or_nothing = bool(request.form.get("all_or_nothing"))
    context["all_or_nothing"] = all_or_nothing
    if csv_file is None or not csv_file.filename:
        context["file_error"] = _("Hãy chọn tệp CSV.")
        return render_template("seller/import.html", **context), 400
    if jobs.is_async():
        with uow.field_errors() as outcome:
            run = queue_import(current_user, shop, csv_file.read(),
                               zip_file.read() if zip_file and zip_file.filename else None,
                               all_or_nothing=all_or_nothing)
        if (exc := invalid_input(outcome)) is not None:  # nothing queued
            context["file_error"] = exc.message
            return render_template("seller/import.html", **context), outcome.status
        return uow.done(_("Đã nhận tệp. Đang nhập sản phẩm…"), url_for("seller.import_run", run_id=run.id))
    with uow.field_errors() as outcome:
        result = run_import(current_user, shop, csv_file.read(),
                            zip_file.read() if zip_file and zip_file.filename else None,
                            all_or_nothing=all_or_nothing)
    if (exc := invalid_input(outcome)) is not None:  # nothing stored: rows rolled back, no file written
        context["file_error"] = exc.message
        return render_template("seller/import.html", **context), outcome.status
    context["result"] = result
    # One transaction: the valid rows (or, all-or-nothing, every row or none) are stored when the view returns;
    # an import that was not applied wrote nothing.
    if result.applied:
        message = _("Đã nhập %(n)s sản phẩm.", n=result.created)
        if not result.plan.errors:
            return uow.done(message, url_for("seller.products", **shop_args(shop)))
        flash(message, "success")
    status = 200 if result.applied or not result.plan.errors else 400
    return render_template("seller/import.html", **context), status


def _load_run(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None or not services.can_manage(current_user, run.shop):
        raise NotFound(_("Không tìm thấy lần nhập này."))
    return run


@bp.get("/import/<int:run_id>")
@role_required(*SELLER_ROLES)
def import_run(run_id: int):
    run = _load_run(run_id)
    errors = {int(k): v for k, v in json.loads(run.errors or "{}").items()}
    return render_template("seller/import_run.html", run=run, shop=run.shop, args=shop_args(run.shop),
                           errors=sorted(errors.items()), ImportRun=ImportRun,
                           working=run.status in (ImportRun.QUEUED, ImportRun.RUNNING))


@bp.post("/import/<int:run_id>/resume")
@role_required(*SELLER_ROLES)
def import_resume(run_id: int):
    run = _load_run(run_id)
    if run.status == ImportRun.FAILED:
        run.status = ImportRun.QUEUED
        jobs.enqueue("catalog.import", run.id, key=run.id)
    return uow.done(None, url_for("seller.import_run", run_id=run.id))
