"""Admin pages. Every action is a POST with a CSRF token and leaves an audit entry."""
from __future__ import annotations

import re

import redis
import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts import services as account_services
from marketplace.accounts.models import Role, User
from marketplace.accounts.permissions import role_required
from marketplace.admin import bp
from marketplace.catalog.models import CraftVillage
from marketplace.core import jobs, uow
from marketplace.core.audit import AuditEntry, record
from marketplace.core.pagination import choice_arg, page_arg
from marketplace.core.urls import next_or
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.services import UNMATCHED_REFUND
from marketplace.shops import services as shop_services
from marketplace.shops.models import Shop, ShopConsent, ShopStatus

PER_PAGE = 50


def _back(default: str) -> str:
    return next_or(request.form.get("back"), default)


def _back_to_shops(**_view_args) -> str:
    return _back(url_for("admin.shops"))


def _back_to_users(**_view_args) -> str:
    return _back(url_for("admin.users"))


def _get_or_404(model, obj_id: int):
    obj = db.session.get(model, obj_id) if 0 < obj_id < 2**31 else None
    if obj is None:
        abort(404)
    return obj


@bp.get("")
@role_required("admin")
def index():
    users_by_role = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    shops_by_status = dict(db.session.execute(sa.select(Shop.status, sa.func.count()).group_by(Shop.status)).all())
    unverified = db.session.scalar(
        sa.select(sa.func.count()).select_from(Shop).where(Shop.verified.is_(False), Shop.status == ShopStatus.ACTIVE)
    )
    recent = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10)).all()
    review_orders, unmatched = _payment_review_counts()
    return render_template("admin/index.html", users_by_role=users_by_role, shops_by_status=shops_by_status,
                           unverified=unverified, recent=recent, roles=Role.CHOICES,
                           review_orders=review_orders, unmatched_refunds=unmatched)


# --- payments needing a person -------------------------------------------------------------------------

def _unmatched_refunds_stmt():
    """Newest entry per Stripe refund we could not match (several events may report the same refund)."""
    newest = (sa.select(sa.func.max(AuditEntry.id)).where(AuditEntry.action == UNMATCHED_REFUND)
              .group_by(AuditEntry.target_id))
    return sa.select(AuditEntry).where(AuditEntry.id.in_(newest)).order_by(AuditEntry.id.desc())


def _payment_review_counts() -> tuple[int, int]:
    orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                               .where(Order.status == OrderStatus.NEEDS_REVIEW)) or 0
    unmatched = db.session.scalar(sa.select(sa.func.count()).select_from(_unmatched_refunds_stmt().subquery())) or 0
    return orders, unmatched


@bp.get("/payments")
@role_required("admin")
def payments():
    """Card payments a person must look at: orders under review (amount mismatch, paid after the hold
    expired) and refunds made outside the site."""
    orders = db.session.scalars(sa.select(Order).where(Order.status == OrderStatus.NEEDS_REVIEW)
                                .order_by(Order.id.desc()).limit(200)).all()
    refunds = db.session.scalars(_unmatched_refunds_stmt().limit(200)).all()
    return render_template("admin/payments.html", orders=orders, refunds=refunds)


# --- shops ------------------------------------------------------------------------------------------

@bp.get("/shops")
@role_required("admin")
def shops():
    status = choice_arg(request.args.get("status"), ShopStatus.CHOICES + ("unverified",))
    q = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(Shop).join(CraftVillage, CraftVillage.id == Shop.village_id).order_by(Shop.created_at.desc(), Shop.id.desc())
    if status == "unverified":
        stmt = stmt.where(Shop.verified.is_(False), Shop.status == ShopStatus.ACTIVE)
    elif status:
        stmt = stmt.where(Shop.status == status)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Shop.name).like(like), sa.func.lower(CraftVillage.name_vi).like(like)))
    page = db.paginate(stmt, page=page_arg(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    assisted_ids = set(db.session.scalars(
        sa.select(ShopConsent.shop_id).where(ShopConsent.shop_id.in_([s.id for s in page.items] or [0]),
                                             ShopConsent.handed_over_at.is_(None))))
    return render_template("admin/shops.html", page=page, status=status, q=q, assisted_ids=assisted_ids)


@bp.post("/shops/<int:shop_id>/verify")
@role_required("admin")
@uow.error_redirect(_back_to_shops)
def verify_shop(shop_id: int):
    shop_services.verify_shop(current_user._get_current_object(), _get_or_404(Shop, shop_id))
    return uow.done(_("Đã xác minh cửa hàng."), _back_to_shops())


@bp.post("/shops/<int:shop_id>/unverify")
@role_required("admin")
@uow.error_redirect(_back_to_shops)
def unverify_shop(shop_id: int):
    shop_services.unverify_shop(current_user._get_current_object(), _get_or_404(Shop, shop_id))
    return uow.done(_("Đã bỏ xác minh cửa hàng."), _back_to_shops())


@bp.post("/shops/<int:shop_id>/suspend")
@role_required("admin")
@uow.error_redirect(_back_to_shops)
def suspend_shop(shop_id: int):
    shop_services.suspend_shop(current_user._get_current_object(), _get_or_404(Shop, shop_id),
                               request.form.get("reason", ""))
    return uow.done(_("Đã tạm khóa cửa hàng. Sản phẩm của cửa hàng không còn hiển thị."), _back_to_shops())


@bp.post("/shops/<int:shop_id>/reinstate")
@role_required("admin")
@uow.error_redirect(_back_to_shops)
def reinstate_shop(shop_id: int):
    shop_services.reinstate_shop(current_user._get_current_object(), _get_or_404(Shop, shop_id),
                                 request.form.get("note", ""))
    return uow.done(_("Đã mở lại cửa hàng."), _back_to_shops())


# --- users ------------------------------------------------------------------------------------------

@bp.get("/users")
@role_required("admin")
def users():
    role = choice_arg(request.args.get("role"), Role.CHOICES)
    q = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if role:
        stmt = stmt.where(User.role == role)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.email).like(like), sa.func.lower(User.name).like(like)))
    page = db.paginate(stmt, page=page_arg(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, role=role, q=q, roles=Role.CHOICES)


@bp.post("/users/<int:user_id>/role")
@role_required("admin")
def change_role(user_id: int):
    user = _get_or_404(User, user_id)
    role = request.form.get("role")
    with uow.field_errors() as outcome:
        account_services.change_role(current_user._get_current_object(), user, role)
    if outcome.error is not None:
        return uow.done(_("Không đổi được vai trò (vai trò không hợp lệ, hoặc bạn đang tự hạ quyền của mình)."),
                        _back_to_users(), "error")
    return uow.done(_("Đã đổi vai trò của %(email)s.", email=user.email), _back_to_users())


@bp.post("/users/<int:user_id>/active")
@role_required("admin")
def set_active(user_id: int):
    user = _get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    with uow.field_errors() as outcome:
        account_services.set_active(current_user._get_current_object(), user, active)
    if outcome.error is not None:
        return uow.done(_("Bạn không thể tự khóa tài khoản của mình."), _back_to_users(), "error")
    return uow.done(_("Đã mở khóa tài khoản.") if active else _("Đã khóa tài khoản."), _back_to_users())


# --- audit log --------------------------------------------------------------------------------------

@bp.get("/audit")
@role_required("admin")
def audit():
    action = (request.args.get("action") or "").strip()[:80]
    target_type = (request.args.get("target_type") or "").strip()[:40]
    target_id = (request.args.get("target_id") or "").strip()[:40]
    stmt = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    page = db.paginate(stmt, page=page_arg(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    actor_ids = {e.actor_id for e in page.items if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids or {0})))}
    actions = db.session.scalars(sa.select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    return render_template("admin/audit.html", page=page, actors=actors, actions=actions,
                           filters={"action": action, "target_type": target_type, "target_id": target_id})


# --- background jobs --------------------------------------------------------------------------------

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,120}$")  # rq's job ids


def _job_id_or_404(job_id: str) -> str:
    if not JOB_ID_RE.match(job_id):
        abort(404)
    return job_id


@bp.get("/jobs")
@role_required("admin")
def jobs_page():
    failed, counts, unavailable = [], {}, False
    if jobs.is_async():
        try:
            failed, counts = jobs.failed_jobs(), jobs.queue_counts()
        except redis.RedisError:
            unavailable = True
    return render_template("admin/jobs.html", failed=failed, counts=counts, unavailable=unavailable,
                           background=jobs.is_async())


@bp.post("/jobs/<job_id>/retry")
@role_required("admin")
def retry_job(job_id: str):
    job_id = _job_id_or_404(job_id)
    if not jobs.is_async() or not jobs.retry_failed(job_id):
        abort(404)
    record(current_user, "job.retry", "job", job_id)
    return uow.done(_("Đã đưa việc trở lại hàng đợi."), url_for("admin.jobs_page"))


@bp.post("/jobs/<job_id>/delete")
@role_required("admin")
def delete_job(job_id: str):
    job_id = _job_id_or_404(job_id)
    if not jobs.is_async() or not jobs.delete_failed(job_id):
        abort(404)
    record(current_user, "job.delete", "job", job_id)
    return uow.done(_("Đã xoá việc lỗi."), url_for("admin.jobs_page"))
