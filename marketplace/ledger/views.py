"""Statements for the shop (page, CSV, XLSX, where payouts go) and the admin's ledger (balances, the
platform's monthly totals per method, payouts and batches, receipts, adjustments, household flag).

Each view runs in the unit of work: it commits when the view returns; a DomainError becomes a flash + 303
where the view says ``@uow.error_redirect``."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.ledger import bp, services
from marketplace.ledger.forms import (
    AdjustmentForm,
    HouseholdForm,
    PayoutAccountForm,
    PayoutForm,
    ReceiptForm,
    ReferenceForm,
)
from marketplace.ledger.models import Payout, PayoutAccount, PayoutBatch, PayoutStatus
from marketplace.ledger.services import KIND_LABELS
from marketplace.payments import registry
from marketplace.shops.models import Shop

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month():
    try:
        return services.parse_month(request.args.get("month"))
    except DomainError:
        abort(404)


def _method_label(identifier: str | None) -> str:
    if not identifier:
        return _("Không theo đơn")
    try:
        return str(registry.get(identifier).label)
    except DomainError:
        return identifier


def _context(shop: Shop, first) -> dict:
    return dict(shop=shop, statement=services.month_statement(shop, first), month=first,
                months=services.months_with_lines(shop.id), kind_labels=KIND_LABELS, method_label=_method_label,
                account=db.session.get(PayoutAccount, shop.id), Kind=services.Kind)


def _download(statement, fmt: str) -> Response:
    name = f"sao-ke-{statement.shop.id}-{statement.month:%Y-%m}.{fmt}"
    if fmt == "csv":
        body, content_type = services.statement_csv(statement), "text/csv; charset=utf-8"
    else:
        body, content_type = services.statement_xlsx(statement), XLSX
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- the shop's statement -------------------------------------------------------------------------------

def _seller_shop() -> tuple[Shop | None, list[Shop]]:
    shops = services.shops_for(current_user)
    wanted = parse_id(request.args.get("shop"))
    if wanted is not None:
        shop = next((s for s in shops if s.id == wanted), None)
        if shop is None:
            abort(404)
        return shop, shops
    return (shops[0] if shops else None), shops


@bp.route("/seller/statement")
@role_required("artisan", "admin")
def statement():
    shop, shops = _seller_shop()
    first = _month()
    if shop is None:
        return render_template("ledger/statement.html", shop=None, shops=shops, month=first)
    account = db.session.get(PayoutAccount, shop.id)
    form = PayoutAccountForm(obj=account) if account else PayoutAccountForm()
    return render_template("ledger/statement.html", shops=shops, account_form=form, admin_view=False,
                           **_context(shop, first))


@bp.route("/seller/statement.<fmt>")
@role_required("artisan", "admin")
def statement_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    shop, _shops = _seller_shop()
    if shop is None:
        abort(404)
    return _download(services.month_statement(shop, _month()), fmt)


@bp.route("/seller/statement/payout-account", methods=["POST"])
@role_required("artisan", "admin")
@uow.error_redirect("ledger.statement")
def payout_account():
    shop_id = parse_id(request.form.get("shop_id"))
    shop = next((s for s in services.shops_for(current_user) if s.id == shop_id), None) or abort(404)
    form = PayoutAccountForm()
    if not form.validate():
        return uow.done(_("Kiểm tra lại thông tin tài khoản ngân hàng."), url_for("ledger.statement", shop=shop.id),
                        "error")
    services.save_payout_account(current_user, shop, form.bank_name.data, form.account_number.data,
                                 form.account_name.data)
    return uow.done(_("Đã lưu tài khoản nhận tiền."), url_for("ledger.statement", shop=shop.id))


# --- the admin's ledger ---------------------------------------------------------------------------------

def _admin_page(form: PayoutForm, status: int = 200):
    first = _month()
    shops = db.session.scalars(sa.select(Shop).order_by(Shop.id)).all()
    balances = services.balances()
    pending = dict(db.session.execute(sa.select(Payout.shop_id, sa.func.sum(Payout.amount))
                                      .where(Payout.status == PayoutStatus.PENDING).group_by(Payout.shop_id)).all())
    rows = [dict(shop=s, position=services.Position(balances.get(s.id, 0)), pending=int(pending.get(s.id, 0)))
            for s in shops]
    totals = services.platform_totals(first)
    methods = sorted({t.method or "" for t in totals})
    batches = db.session.scalars(sa.select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(20)).all()
    return render_template("ledger/admin.html", rows=rows, totals=totals, methods=methods, month=first,
                           months=services.months_with_lines(), kind_labels=KIND_LABELS, method_label=_method_label,
                           batches=batches, form=form, reference_form=ReferenceForm(),
                           platform_sum=sum(r["position"].platform_owes for r in rows),
                           shops_sum=sum(r["position"].shop_owes for r in rows)), status


@bp.route("/admin/ledger", methods=["GET", "POST"])
@role_required("admin")
def ledger():
    form = PayoutForm()
    if request.method == "GET":
        return _admin_page(form)
    if form.validate():
        shop = db.session.get(Shop, form.shop_id.data) or abort(404)
        with uow.field_errors() as outcome:
            services.record_payout(current_user, shop, form.amount.data, form.reference.data)
        if outcome.error is None:
            return uow.done(_("Đã ghi nhận chi trả."), url_for("ledger.ledger"))
        target = form.reference if outcome.error.field == "reference" else form.amount
        target.errors = list(target.errors) + [outcome.error.message]
    return _admin_page(form, 400)


@bp.route("/admin/ledger/shops/<int:shop_id>")
@role_required("admin")
def shop_statement(shop_id: int):
    shop = db.session.get(Shop, shop_id) or abort(404)
    return render_template("ledger/statement.html", shops=[shop], admin_view=True,
                           adjust_form=AdjustmentForm(), receipt_form=ReceiptForm(),
                           household_form=HouseholdForm(household_seller=shop.household_seller),
                           **_context(shop, _month()))


@bp.route("/admin/ledger/shops/<int:shop_id>.<fmt>")
@role_required("admin")
def shop_statement_export(shop_id: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    shop = db.session.get(Shop, shop_id) or abort(404)
    return _download(services.month_statement(shop, _month()), fmt)


def _shop_url(shop_id: int) -> str:
    return url_for("ledger.shop_statement", shop_id=shop_id)


@bp.route("/admin/ledger/shops/<int:shop_id>/adjust", methods=["POST"])
@role_required("admin")
@uow.error_redirect(_shop_url)
def adjust(shop_id: int):
    shop = db.session.get(Shop, shop_id) or abort(404)
    form = AdjustmentForm()
    if not form.validate():
        return uow.done(_("Nhập số tiền và lý do điều chỉnh."), _shop_url(shop.id), "error")
    booked = services.adjust(current_user, shop, form.amount.data, form.reason.data, form.token.data)
    return uow.done(_("Đã ghi bút toán điều chỉnh.") if booked else _("Bút toán này đã được ghi."), _shop_url(shop.id))


@bp.route("/admin/ledger/shops/<int:shop_id>/receipt", methods=["POST"])
@role_required("admin")
@uow.error_redirect(_shop_url)
def receipt(shop_id: int):
    shop = db.session.get(Shop, shop_id) or abort(404)
    form = ReceiptForm()
    if not form.validate():
        return uow.done(_("Nhập số tiền và mã giao dịch."), _shop_url(shop.id), "error")
    booked = services.record_receipt(current_user, shop, form.amount.data, form.reference.data, form.token.data)
    return uow.done(_("Đã ghi nhận cửa hàng nộp tiền.") if booked else _("Bút toán này đã được ghi."),
                    _shop_url(shop.id))


@bp.route("/admin/ledger/shops/<int:shop_id>/household", methods=["POST"])
@role_required("admin")
@uow.error_redirect(_shop_url)
def household(shop_id: int):
    shop = db.session.get(Shop, shop_id) or abort(404)
    form = HouseholdForm()
    if not form.validate():
        abort(400)
    services.set_household_seller(current_user, shop, form.household_seller.data)
    return uow.done(_("Đã lưu."), _shop_url(shop.id))


@bp.route("/admin/ledger/batches", methods=["POST"])
@role_required("admin")
@uow.error_redirect("ledger.ledger")
def create_batch():
    batch = services.create_payout_batch(current_user)
    if batch is None:
        return uow.done(_("Không có cửa hàng nào cần chi trả (số dư dương và đã có tài khoản ngân hàng)."),
                        url_for("ledger.ledger"), "error")
    return uow.done(_("Đã tạo đợt chi trả #%(id)s.", id=batch.id), url_for("ledger.ledger") + f"#batch-{batch.id}")


@bp.route("/admin/ledger/batches/<int:batch_id>.csv")
@role_required("admin")
def batch_export(batch_id: int):
    batch = db.session.get(PayoutBatch, batch_id) or abort(404)
    return Response(services.batch_csv(batch), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="chi-tra-{batch.id}.csv"',
                             "Cache-Control": "no-store"})


@bp.route("/admin/ledger/batches/<int:batch_id>/paid", methods=["POST"])
@role_required("admin")
@uow.error_redirect("ledger.ledger")
def batch_paid(batch_id: int):
    batch = db.session.get(PayoutBatch, batch_id) or abort(404)
    form = ReferenceForm()
    if not form.validate():
        return uow.done(_("Nhập mã giao dịch của ngân hàng."), url_for("ledger.ledger"), "error")
    booked = services.mark_batch_paid(current_user, batch, form.reference.data)
    return uow.done(_("Đã ghi nhận %(n)s khoản chi trả.", n=booked), url_for("ledger.ledger"))


@bp.route("/admin/ledger/payouts/<int:payout_id>/cancel", methods=["POST"])
@role_required("admin")
@uow.error_redirect("ledger.ledger")
def cancel_payout(payout_id: int):
    payout = db.session.get(Payout, payout_id) or abort(404)
    cancelled = services.cancel_payout(current_user, payout)
    return uow.done(_("Đã hủy khoản chi trả.") if cancelled else _("Khoản chi trả này không còn chờ chuyển khoản."),
                    url_for("ledger.ledger") + f"#batch-{payout.batch_id}")
