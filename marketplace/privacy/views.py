"""/account/privacy: download my data (JSON), delete my account."""
from __future__ import annotations

import json

from flask import Response, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from marketplace.accounts.permissions import login_required_any, role_required
from marketplace.core import uow
from marketplace.privacy import bp, services


@bp.get("/account/privacy")
@login_required_any
def index():
    return render_template("privacy/index.html", can_delete=current_user.role in services.DELETABLE_ROLES)


@bp.get("/account/privacy/export")
@login_required_any
def export():
    data = services.export_user_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    filename = f"cholangnghe-du-lieu-{current_user.id}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.post("/account/privacy/delete")
@role_required("shopper")
def delete():
    if request.form.get("confirm") != "yes":
        flash(_("Hãy đánh dấu ô xác nhận để xoá tài khoản."), "error")
        return render_template("privacy/index.html", can_delete=True), 400
    with uow.field_errors() as outcome:
        services.delete_account(current_user._get_current_object(), request.form.get("password", ""))
    if outcome.error is not None:
        flash(_("Mật khẩu không đúng.") if outcome.error.field == "password" else outcome.error.message, "error")
        return render_template("privacy/index.html", can_delete=True), outcome.status
    logout_user()  # the erasure commits when this view returns (unit of work)
    return uow.done(_("Tài khoản của bạn đã được xoá. Các đơn hàng cũ được giữ lại cho kế toán, "
                      "không còn thông tin cá nhân."), url_for("catalog.home"))
