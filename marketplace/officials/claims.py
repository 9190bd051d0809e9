"""The officials' claims queue (``/officials/claims``): declared OCOP certificates and IP protections with their
evidence, verified or rejected with a reason (``catalog/claims.py``); and the evidence files themselves,
served only to the shop that made the claim and to officials."""
from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from marketplace.accounts.models import User
from marketplace.accounts.permissions import role_required
from marketplace.catalog import claims as claim_services
from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import ClaimStatus, IpProtection, Product
from marketplace.core import uow
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.media.evidence import content_type, get_store
from marketplace.officials import bp
from marketplace.shops.models import Shop

OFFICIALS = ("official", "admin")
QUEUE_LIMIT = 100
RECENT_LIMIT = 30


def _queue_url(**_kw) -> str:
    return url_for("officials.claims")


@bp.route("/officials/claims")
@role_required(*OFFICIALS)
def claims():
    declared_ocop = sa.and_(Product.ocop_stars.is_not(None), Product.ocop_status == ClaimStatus.DECLARED)
    ocop = list(db.session.scalars(
        sa.select(Product).where(declared_ocop)
        .options(joinedload(Product.shop).joinedload(Shop.village), selectinload(Product.images))
        .order_by(Product.ocop_evidence_key.is_(None), Product.updated_at, Product.id).limit(QUEUE_LIMIT)))
    ocop_total = db.session.scalar(sa.select(sa.func.count(Product.id)).where(declared_ocop))
    ips = list(db.session.scalars(
        sa.select(IpProtection).where(IpProtection.status == ClaimStatus.DECLARED)
        .options(joinedload(IpProtection.village))
        .order_by(IpProtection.evidence_key.is_(None), IpProtection.created_at, IpProtection.id).limit(QUEUE_LIMIT)))
    ip_total = db.session.scalar(sa.select(sa.func.count(IpProtection.id))
                                 .where(IpProtection.status == ClaimStatus.DECLARED))
    recent_ocop = list(db.session.scalars(
        sa.select(Product).where(Product.ocop_reviewed_at.is_not(None))
        .options(joinedload(Product.shop)).order_by(Product.ocop_reviewed_at.desc()).limit(RECENT_LIMIT)))
    recent_ip = list(db.session.scalars(
        sa.select(IpProtection).where(IpProtection.reviewed_at.is_not(None))
        .order_by(IpProtection.reviewed_at.desc()).limit(RECENT_LIMIT)))
    return render_template(
        "officials/claims/queue.html", ocop=ocop, ocop_total=ocop_total, ips=ips, ip_total=ip_total,
        recent_ocop=recent_ocop, recent_ip=recent_ip, ocop_fingerprint=claim_services.ocop_fingerprint,
        ip_fingerprint=claim_services.ip_fingerprint, reviewers=_reviewer_names(recent_ocop, recent_ip))


def _reviewer_names(products, ips) -> dict[int, str]:
    from_ids = {p.ocop_reviewed_by_id for p in products} | {ip.reviewed_by_id for ip in ips}
    from_ids.discard(None)
    if not from_ids:
        return {}
    return {u.id: u.name or u.email for u in db.session.scalars(sa.select(User).where(User.id.in_(from_ids)))}


@bp.post("/officials/claims/ocop/<int:product_id>")
@role_required(*OFFICIALS)
@uow.error_redirect(_queue_url)
def review_ocop(product_id: int):
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("Không tìm thấy sản phẩm."))
    verdict = request.form.get("verdict", "")
    claim_services.review_ocop_claim(current_user, product, verdict, request.form.get("reason"),
                             fingerprint=request.form.get("fingerprint") or None)
    message = (_("Đã xác minh chứng nhận OCOP của “%(t)s”.", t=product.title_vi) if verdict == ClaimStatus.VERIFIED
               else _("Đã từ chối chứng nhận OCOP của “%(t)s”.", t=product.title_vi))
    return uow.done(message, url_for("officials.claims"))


@bp.post("/officials/claims/ip/<int:ip_id>")
@role_required(*OFFICIALS)
@uow.error_redirect(_queue_url)
def review_ip(ip_id: int):
    ip = db.session.get(IpProtection, ip_id)
    if ip is None:
        raise NotFound(_("Không tìm thấy văn bằng."))
    verdict = request.form.get("verdict", "")
    claim_services.review_ip_claim(current_user, ip, verdict, request.form.get("reason"),
                           fingerprint=request.form.get("fingerprint") or None)
    message = (_("Đã xác minh văn bằng “%(t)s”.", t=ip.name) if verdict == ClaimStatus.VERIFIED
               else _("Đã từ chối văn bằng “%(t)s”.", t=ip.name))
    return uow.done(message, url_for("officials.claims"))


# --- evidence files ---------------------------------------------------------------------------------

def _send_evidence(key: str | None, name: str):
    store = get_store()
    if not key or not store.exists(key):
        abort(404)
    kind = content_type(key)
    extension = "pdf" if kind == "application/pdf" else "jpg"
    response = send_file(io.BytesIO(store.open(key)), mimetype=kind, as_attachment=kind == "application/pdf",
                         download_name=f"{name}.{extension}", max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/evidence/ocop/<int:product_id>")
@role_required("artisan", "official", "admin")
def ocop_evidence(product_id: int):
    """The certificate's evidence: to officials, and to whoever may manage the product's shop."""
    product = db.session.get(Product, product_id)
    if product is None or not (claim_services.is_reviewer(current_user)
                               or catalog_services.can_manage(current_user, product.shop)):
        abort(404)
    return _send_evidence(product.ocop_evidence_key, f"ocop-{product.id}")


@bp.get("/evidence/ip/<int:ip_id>")
@role_required("official", "admin")
def ip_evidence(ip_id: int):
    ip = db.session.get(IpProtection, ip_id)
    if ip is None:
        abort(404)
    return _send_evidence(ip.evidence_key, f"ip-{ip.id}")
