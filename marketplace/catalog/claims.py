"""Claims: an OCOP certificate or an IP protection counts only once an official has checked its evidence.

A claim is ``declared`` when entered (by the shop for OCOP; by an official, or the register's import, for IP),
gets an evidence file (``media/evidence.py``: a PDF or a photo of the paper, stored privately), and an official
``verify``-s or ``reject``-s it with a reason. Every review is audited and the shop is told by mail. Changing a
certificate's fields or its evidence makes it a new claim (back to ``declared``, ``services.reset_ocop_claim``).

A review names the version of the claim the official looked at (``fingerprint``): if the shop changed the
certificate in between, the review is refused (409) instead of verifying something nobody saw; a second click
on an already reviewed claim changes nothing (409).
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _

from marketplace.accounts.models import Role, User
from marketplace.catalog import services
from marketplace.catalog.models import OCOP_FIELDS, ClaimStatus, IpKind, IpProtection, Product
from marketplace.core.audit import record
from marketplace.core.outbox import queue_mail
from marketplace.core.text import nfc
from marketplace.core.time import utcnow
from marketplace.errors import Conflict, InvalidInput, NotAllowed, NotFound
from marketplace.extensions import db
from marketplace.media.evidence import store_evidence
from marketplace.shops.models import Shop

REVIEWERS = (Role.OFFICIAL, Role.ADMIN)
VERDICTS = (ClaimStatus.VERIFIED, ClaimStatus.REJECTED)
REASON_MAX = 1000


def is_reviewer(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "role", None)
                in REVIEWERS)


def _require_reviewer(actor) -> None:
    if not is_reviewer(actor):
        raise NotAllowed(_("Chỉ cán bộ quản lý mới xác minh được."))


def ocop_fingerprint(product: Product) -> str:
    """What the reviewing official saw: the certificate's fields and its evidence."""
    parts = [str(getattr(product, key)) for key in OCOP_FIELDS] + [str(product.ocop_evidence_key)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def ip_fingerprint(ip: IpProtection) -> str:
    parts = [ip.kind, ip.name, ip.registration_number, ip.holder, ip.granted_on, ip.expires_on, ip.village_id,
             ip.evidence_key]
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _site_link(endpoint: str, **values) -> str | None:
    if not has_request_context():
        return None
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)


def _status_word(status: str) -> str:
    return {ClaimStatus.VERIFIED: _("đã xác minh"), ClaimStatus.REJECTED: _("đã từ chối")}.get(status, status)


def _reason(text) -> str:
    reason = nfc(str(text or "")).strip()
    if not reason:
        raise InvalidInput(_("Hãy ghi lý do (số hồ sơ đã đối chiếu, hoặc vì sao từ chối)."), field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("Tối đa %(n)s ký tự.", n=REASON_MAX), field="reason")
    return reason


# --- OCOP -------------------------------------------------------------------------------------------

def attach_ocop_evidence(actor, product: Product, data: bytes) -> str:
    """The shop attaches (or replaces) the certificate's evidence; the claim goes (back) to ``declared``."""
    if not services.can_manage(actor, product.shop):
        raise NotFound(_("Không tìm thấy sản phẩm."))
    if not product.ocop_stars:
        raise InvalidInput(_("Hãy khai báo chứng nhận OCOP (hạng sao, số, ngày cấp) trước khi gửi bằng chứng."),
                           field="evidence")
    key = store_evidence(data)
    before = {"status": product.ocop_status, "evidence": product.ocop_evidence_key}
    if key != product.ocop_evidence_key:
        product.ocop_evidence_key = key
        services.reset_ocop_claim(product)
        product.updated_at = utcnow()
    db.session.flush()
    record(actor, "claim.ocop_evidence", "product", product.id, before=before,
           after={"status": product.ocop_status, "evidence": product.ocop_evidence_key})
    return key


def review_ocop_claim(actor, product: Product, verdict: str, reason, fingerprint: str | None = None) -> Product:
    """An official verifies or rejects a declared OCOP claim, with a reason; audited, the shop is told."""
    _require_reviewer(actor)
    if verdict not in VERDICTS:
        raise InvalidInput(_("Chọn xác minh hoặc từ chối."), field="verdict")
    reason = _reason(reason)
    if not product.ocop_stars:
        raise NotFound(_("Sản phẩm này không khai báo chứng nhận OCOP."))
    if fingerprint is not None and fingerprint != ocop_fingerprint(product):
        raise Conflict(_("Cửa hàng vừa sửa chứng nhận này; hãy xem lại trước khi quyết định."))
    if product.ocop_status != ClaimStatus.DECLARED:
        raise Conflict(_("Chứng nhận này đã được xem xét (%(status)s).", status=_status_word(product.ocop_status)))
    if verdict == ClaimStatus.VERIFIED and not product.ocop_evidence_key:
        raise InvalidInput(_("Chưa có tệp bằng chứng: chỉ xác minh được khi đã đối chiếu giấy chứng nhận."),
                           field="verdict")
    before = {"status": product.ocop_status}
    product.ocop_status = verdict
    product.ocop_reviewed_by_id = actor.id
    product.ocop_reviewed_at = utcnow()
    product.ocop_review_note = reason
    db.session.flush()
    record(actor, f"claim.ocop_{'verify' if verdict == ClaimStatus.VERIFIED else 'reject'}", "product", product.id,
           before=before, after={"status": verdict, "certificate": product.ocop_certificate_number,
                                 "evidence": product.ocop_evidence_key}, note=reason)
    owner = db.session.get(User, product.shop.owner_id) if product.shop.owner_id else None
    if owner is not None:
        queue_mail(db.session, owner.email, "claim_reviewed", owner.locale, kind="ocop", verdict=verdict,
                   subject=product.title_vi, kind_vi=f"OCOP {product.ocop_stars} sao",
                   kind_en=f"{product.ocop_stars}-star OCOP", certificate=product.ocop_certificate_number or "",
                   reason=reason,
                   link=_site_link("seller.product_edit", product_id=product.id))
    return product


# --- IP protections ---------------------------------------------------------------------------------

def attach_ip_evidence(actor, ip: IpProtection, data: bytes) -> str:
    _require_reviewer(actor)
    key = store_evidence(data)
    before = {"status": ip.status, "evidence": ip.evidence_key}
    if key != ip.evidence_key:
        ip.evidence_key = key
        reset_ip_claim(ip)
    db.session.flush()
    record(actor, "claim.ip_evidence", "ip_protection", ip.id, before=before,
           after={"status": ip.status, "evidence": ip.evidence_key})
    return key


def reset_ip_claim(ip: IpProtection) -> None:
    ip.status = ClaimStatus.DECLARED
    ip.reviewed_by_id = None
    ip.reviewed_at = None
    ip.review_note = None


def _ip_shop_owners(ip: IpProtection) -> list[User]:
    """Who hears about a review of a village's protection: the owners of the shops whose listings cite it."""
    return list(db.session.scalars(
        sa.select(User).where(User.id.in_(
            sa.select(Shop.owner_id).join(Product, Product.shop_id == Shop.id)
            .where(Product.ip_protection_id == ip.id, Shop.owner_id.is_not(None)))).order_by(User.id)))


def review_ip_claim(actor, ip: IpProtection, verdict: str, reason, fingerprint: str | None = None) -> IpProtection:
    _require_reviewer(actor)
    if verdict not in VERDICTS:
        raise InvalidInput(_("Chọn xác minh hoặc từ chối."), field="verdict")
    reason = _reason(reason)
    if fingerprint is not None and fingerprint != ip_fingerprint(ip):
        raise Conflict(_("Văn bằng này vừa được sửa; hãy xem lại trước khi quyết định."))
    if ip.status != ClaimStatus.DECLARED:
        raise Conflict(_("Văn bằng này đã được xem xét (%(status)s).", status=_status_word(ip.status)))
    if verdict == ClaimStatus.VERIFIED:
        if not ip.evidence_key:
            raise InvalidInput(_("Chưa có tệp bằng chứng: chỉ xác minh được khi đã đối chiếu văn bằng."),
                               field="verdict")
        if not (ip.registration_number and ip.granted_on):
            raise InvalidInput(_("Văn bằng cần số đăng ký và ngày cấp trước khi xác minh."), field="verdict")
    before = {"status": ip.status}
    ip.status = verdict
    ip.reviewed_by_id = actor.id
    ip.reviewed_at = utcnow()
    ip.review_note = reason
    db.session.flush()
    record(actor, f"claim.ip_{'verify' if verdict == ClaimStatus.VERIFIED else 'reject'}", "ip_protection", ip.id,
           before=before, after={"status": verdict, "registration_number": ip.registration_number,
                                 "evidence": ip.evidence_key}, note=reason)
    kind_vi, kind_en = IpKind.LABELS.get(ip.kind, (ip.kind, ip.kind))
    for owner in _ip_shop_owners(ip):
        queue_mail(db.session, owner.email, "claim_reviewed", owner.locale, kind="ip", verdict=verdict,
                   subject=ip.name, kind_vi=kind_vi, kind_en=kind_en, certificate=ip.registration_number or "",
                   reason=reason, link=None)
    return ip
