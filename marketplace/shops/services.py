"""Shop services: create and edit a shop, verify / suspend / reinstate it (admin), assisted shops
(created by an official or admin with the artisan's recorded consent) and their hand-over.

Request-free: they take the acting user and plain values (strings from a form or typed values) and read
only the fields in ``SHOP_FIELDS``. Validation problems raise ``InvalidInput`` whose
``details["errors"]`` maps each bad field to its message. Changes are audited. ``flush()``, never
``commit()``. Who may manage a shop is ``marketplace.shops.access``.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from marketplace.accounts.models import Role, User
from marketplace.accounts.phone import normalize_vn_mobile
from marketplace.catalog.models import CraftVillage
from marketplace.core.audit import record
from marketplace.core.money import parse_vnd
from marketplace.core.text import nfc, slugify
from marketplace.core.time import utcnow
from marketplace.errors import Conflict, InvalidInput, NotAllowed, NotFound
from marketplace.extensions import db
from marketplace.payments.gateway import external_url
from marketplace.shops import alerts, shipping
from marketplace.shops.access import ASSISTING_ROLES, can_manage_shop
from marketplace.shops.models import AlertKind, ConsentMethod, Shop, ShopConsent, ShopStatus

MAX_SHIPPING_FEE = 2_000_000
MAX_FREE_ABOVE = 99_999_999
TEXT_LIMITS = {
    "name": 120,
    "story": 10_000,
    "maker_name": 120,
    "maker_title": 160,
    "shipping_policy": 2_000,
    "returns_policy": 2_000,
}
SHOP_FIELDS = ("village_id", "name", "story", "maker_name", "maker_title", "phone", "shipping_policy",
               "returns_policy", "shipping_fee", "free_shipping_over", "shipping_fee_hanoi", "delivery_days_hanoi",
               "delivery_days_other", "shipping_weight_bands")

# Contact the shop and English content (h16seo): whether pages show the phone / a Zalo link, and the
# English name and story (empty = the Vietnamese is shown).
CONTACT_FIELDS = ("show_phone", "show_zalo")
ENGLISH_LIMITS = {"name_en": 120, "story_en": 10_000}
SHOP_FIELDS = SHOP_FIELDS + CONTACT_FIELDS + tuple(ENGLISH_LIMITS)

AUDITED_FIELDS = SHOP_FIELDS


def _text(value: Any) -> str:
    return nfc(str(value)).strip() if value is not None else ""


def _money(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    parsed = parse_vnd(str(value))
    if parsed is None:
        raise ValueError
    return parsed


def clean_shop_values(values: Mapping[str, Any], *, partial: bool = False) -> dict:
    """Validate ``values`` (only ``SHOP_FIELDS``); return typed values or raise InvalidInput with every error."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def given(name):
        return not partial or name in values

    if given("name"):
        name = _text(values.get("name"))
        if not name:
            errors["name"] = _("Vui lòng nhập tên cửa hàng.")
        elif len(name) > TEXT_LIMITS["name"]:
            errors["name"] = _("Tên cửa hàng tối đa %(n)s ký tự.", n=TEXT_LIMITS["name"])
        out["name"] = name
    if given("village_id"):
        raw = values.get("village_id")
        try:
            vid = int(raw) if raw not in (None, "") else 0
            village = db.session.get(CraftVillage, vid) if 0 < vid < 2**31 else None
        except (TypeError, ValueError):
            village = None
        if village is None:
            errors["village_id"] = _("Vui lòng chọn làng nghề trong danh sách.")
        else:
            out["village_id"] = village.id
    for field in ("story", "maker_name", "maker_title", "shipping_policy", "returns_policy"):
        if given(field):
            text = _text(values.get(field))
            if len(text) > TEXT_LIMITS[field]:
                errors[field] = _("Tối đa %(n)s ký tự.", n=TEXT_LIMITS[field])
            out[field] = text or None
    if given("phone"):
        raw = _text(values.get("phone"))
        if not raw:
            errors["phone"] = _("Vui lòng nhập số điện thoại liên hệ.")
        else:
            phone = normalize_vn_mobile(raw)
            if phone is None:
                errors["phone"] = _("Số điện thoại di động Việt Nam gồm 10 chữ số, bắt đầu bằng 03, 05, 07, 08 "
                                    "hoặc 09 (ví dụ 0912 345 678).")
            out["phone"] = phone
    if given("shipping_fee"):
        try:
            fee = _money(values.get("shipping_fee"))
            if fee is None:
                errors["shipping_fee"] = _("Vui lòng nhập phí vận chuyển (0 nếu miễn phí).")
            elif not 0 <= fee <= MAX_SHIPPING_FEE:
                errors["shipping_fee"] = _("Phí vận chuyển từ 0 ₫ đến 2.000.000 ₫.")
            out["shipping_fee"] = fee
        except ValueError:
            errors["shipping_fee"] = _("Nhập một số đồng, ví dụ 30.000.")
    if given("free_shipping_over"):
        try:
            above = _money(values.get("free_shipping_over"))
            if above is not None and not 0 < above <= MAX_FREE_ABOVE:
                errors["free_shipping_over"] = _("Ngưỡng miễn phí vận chuyển từ 1 ₫ đến 99.999.999 ₫.")
            out["free_shipping_over"] = above
        except ValueError:
            errors["free_shipping_over"] = _("Nhập một số đồng, ví dụ 500.000, hoặc để trống.")
    for field in CONTACT_FIELDS:  # absent = unchanged (a new shop shows both)
        if field in values:
            out[field] = _flag(values.get(field))
    for field, limit in ENGLISH_LIMITS.items():
        if given(field):
            text = _text(values.get(field))
            if len(text) > limit:
                errors[field] = _("Tối đa %(n)s ký tự.", n=limit)
            out[field] = text or None
    if given("shipping_fee_hanoi"):
        try:
            fee = _money(values.get("shipping_fee_hanoi"))
            if fee is not None and not 0 <= fee <= MAX_SHIPPING_FEE:
                errors["shipping_fee_hanoi"] = _("Phí vận chuyển từ 0 ₫ đến 2.000.000 ₫.")
            out["shipping_fee_hanoi"] = fee
        except ValueError:
            errors["shipping_fee_hanoi"] = _("Nhập một số đồng, ví dụ 20.000, hoặc để trống.")
    for field in ("delivery_days_hanoi", "delivery_days_other"):
        if given(field):
            try:
                out[field] = shipping.parse_days(_text(values.get(field)))
            except ValueError:
                errors[field] = _("Nhập số ngày, ví dụ 2 hoặc 2–4 (tối đa %(n)s ngày).", n=shipping.MAX_DAYS)
    if given("shipping_weight_bands"):
        try:
            out["shipping_weight_bands"] = shipping.format_bands(
                shipping.parse_bands(_text(values.get("shipping_weight_bands"))))
        except ValueError:
            errors["shipping_weight_bands"] = _("Ghi theo dạng gam=phụ phí, ví dụ 2000=15000; 5000=30000 "
                                                "(tối đa %(n)s mức).", n=shipping.MAX_BANDS)
    if errors:
        raise InvalidInput(_("Vui lòng sửa các lỗi được đánh dấu."), details={"errors": errors})
    return out


def _flag(value: Any) -> bool:
    """A yes/no setting from a form (checkbox: "y"/"on"/absent) or JSON (true/false)."""
    if isinstance(value, bool):
        return value
    return _text(value).lower() in {"y", "on", "1", "true", "yes"}


def _unique_slug(name: str, shop_id: int | None = None) -> str:
    base = slugify(name, max_length=100)
    slug, n = base, 1
    while True:
        stmt = sa.select(Shop.id).where(Shop.slug == slug)
        if shop_id is not None:
            stmt = stmt.where(Shop.id != shop_id)
        if db.session.scalar(stmt) is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def snapshot(shop: Shop) -> dict:
    data = {f: getattr(shop, f) for f in AUDITED_FIELDS}
    data.update(status=shop.status, verified=bool(shop.verified), owner_id=shop.owner_id)
    return data


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def owned_shops(user) -> list[Shop]:
    """The shops a user owns, oldest first (an artisan opens one; older data may hold more)."""
    if user is None or getattr(user, "id", None) is None:
        return []
    return list(db.session.scalars(sa.select(Shop).where(Shop.owner_id == user.id).order_by(Shop.id)))


def shop_of(user) -> Shop | None:
    """The shop a user owns (one per artisan)."""
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalars(sa.select(Shop).where(Shop.owner_id == user.id).order_by(Shop.id).limit(1)).first()


def create_shop(actor: User, **values) -> Shop:
    """An artisan opens their own shop (one per account). New shops are active and not yet verified."""
    if actor is None or actor.role not in (Role.ARTISAN, Role.ADMIN):
        raise NotAllowed(_("Chỉ tài khoản nghệ nhân mới mở được cửa hàng."))
    if shop_of(actor) is not None:
        raise Conflict(_("Bạn đã có một cửa hàng."))
    clean = clean_shop_values(values)
    shop = Shop(owner_id=actor.id, slug=_unique_slug(clean["name"]), status=ShopStatus.ACTIVE, verified=False, **clean)
    db.session.add(shop)
    db.session.flush()
    record(actor, "shop.create", "shop", shop.id, after=snapshot(shop))
    return shop


def update_shop(actor: User, shop: Shop, **values) -> Shop:
    """Change a shop's details (only ``SHOP_FIELDS`` given). Its owner, or an official/admin while assisted."""
    if not can_manage_shop(actor, shop):
        raise NotFound(_("Không tìm thấy."))
    clean = clean_shop_values({k: v for k, v in values.items() if k in SHOP_FIELDS}, partial=True)
    before = snapshot(shop)
    for key, value in clean.items():
        setattr(shop, key, value)
    db.session.flush()
    b, a = _diff(before, snapshot(shop))
    if a:
        record(actor, "shop.update", "shop", shop.id, before=b, after=a)
    return shop


# --- administration ----------------------------------------------------------------------------------

def _require_admin(actor: User) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise NotAllowed(_("Chỉ quản trị viên được làm việc này."))


MAX_LOW_STOCK_THRESHOLD = 1000


def update_alert_settings(actor, shop: Shop, threshold: Any, digest: bool) -> Shop:
    """How the shop hears of its alerts: its own low-stock threshold (blank: the site's) and the daily digest."""
    if not can_manage_shop(actor, shop):
        raise NotAllowed(_("Bạn không quản lý cửa hàng này."))
    raw = str(threshold or "").strip()
    if raw and (not raw.isdigit() or int(raw) > MAX_LOW_STOCK_THRESHOLD):
        raise InvalidInput(_("Ngưỡng sắp hết hàng là số từ 0 đến %(n)s.", n=MAX_LOW_STOCK_THRESHOLD),
                           field="low_stock_threshold")
    before = {"low_stock_threshold": shop.low_stock_threshold, "alert_digest": shop.alert_digest}
    shop.low_stock_threshold = int(raw) if raw else None
    shop.alert_digest = bool(digest)
    db.session.flush()
    record(actor, "shop.alerts", "shop", shop.id, before=before,
           after={"low_stock_threshold": shop.low_stock_threshold, "alert_digest": shop.alert_digest})
    return shop


def verify_shop(admin: User, shop: Shop) -> Shop:
    _require_admin(admin)
    if not shop.verified:
        shop.verified = True
        db.session.flush()
        record(admin, "shop.verify", "shop", shop.id, before={"verified": False}, after={"verified": True})
        alerts.alert_shop(shop, AlertKind.VERIFICATION, verified=True, link=external_url("seller.dashboard"))
    return shop


def unverify_shop(admin: User, shop: Shop) -> Shop:
    _require_admin(admin)
    if shop.verified:
        shop.verified = False
        db.session.flush()
        record(admin, "shop.unverify", "shop", shop.id, before={"verified": True}, after={"verified": False})
        alerts.alert_shop(shop, AlertKind.VERIFICATION, verified=False, link=external_url("seller.dashboard"))
    return shop


def suspend_shop(admin: User, shop: Shop, reason: str) -> Shop:
    """Hide the shop and all its products from the catalog and search at once (they filter on status)."""
    _require_admin(admin)
    reason = _text(reason)
    if not reason:
        raise InvalidInput(_("Vui lòng ghi lý do tạm khóa."), field="reason",
                           details={"errors": {"reason": _("Vui lòng ghi lý do tạm khóa.")}})
    if len(reason) > 1000:
        reason = reason[:1000]
    if shop.status != ShopStatus.SUSPENDED:
        shop.status = ShopStatus.SUSPENDED
        db.session.flush()
        record(admin, "shop.suspend", "shop", shop.id, before={"status": ShopStatus.ACTIVE},
               after={"status": ShopStatus.SUSPENDED}, note=reason)
    return shop


def reinstate_shop(admin: User, shop: Shop, note: str | None = None) -> Shop:
    _require_admin(admin)
    if shop.status != ShopStatus.ACTIVE:
        shop.status = ShopStatus.ACTIVE
        db.session.flush()
        record(admin, "shop.reinstate", "shop", shop.id, before={"status": ShopStatus.SUSPENDED},
               after={"status": ShopStatus.ACTIVE}, note=_text(note) or None)
    return shop


# --- assisted listing ----------------------------------------------------------------------------------

def clean_consent_values(values: Mapping[str, Any]) -> dict:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = _text(values.get("artisan_name"))
    if not name:
        errors["artisan_name"] = _("Vui lòng nhập họ tên nghệ nhân.")
    elif len(name) > 120:
        errors["artisan_name"] = _("Tối đa %(n)s ký tự.", n=120)
    out["artisan_name"] = name
    raw_phone = _text(values.get("artisan_phone"))
    if raw_phone:
        phone = normalize_vn_mobile(raw_phone)
        if phone is None:
            errors["artisan_phone"] = _("Số điện thoại di động không hợp lệ (ví dụ 0912 345 678).")
        out["artisan_phone"] = phone
    else:
        out["artisan_phone"] = None
    method = values.get("method")
    if method not in ConsentMethod.CHOICES:
        errors["method"] = _("Vui lòng chọn cách nghệ nhân đồng ý.")
    out["method"] = method
    given_at = values.get("given_at")
    if isinstance(given_at, str):
        try:
            given_at = datetime.fromisoformat(given_at.strip()) if given_at.strip() else None
        except ValueError:
            given_at = None
            errors["given_at"] = _("Ngày không hợp lệ.")
    if given_at is None:
        errors.setdefault("given_at", _("Vui lòng nhập ngày nghệ nhân đồng ý."))
    elif given_at > utcnow().replace(hour=23, minute=59) or given_at.year < 2000:
        errors["given_at"] = _("Ngày đồng ý không được ở tương lai.")
    out["given_at"] = given_at
    evidence = _text(values.get("evidence"))
    if not evidence:
        errors["evidence"] = _("Vui lòng ghi bằng chứng (ví dụ: số biên bản, người làm chứng, nơi lưu giấy tờ).")
    elif len(evidence) > 2000:
        errors["evidence"] = _("Tối đa %(n)s ký tự.", n=2000)
    out["evidence"] = evidence
    if values.get("confirmed") not in (True, "y", "on", "1", "true"):
        errors["confirmed"] = _("Vui lòng xác nhận nghệ nhân đã đồng ý.")
    if errors:
        raise InvalidInput(_("Vui lòng sửa các lỗi được đánh dấu."), details={"errors": errors})
    return out


def create_assisted_shop(actor: User, consent: Mapping[str, Any], **values) -> Shop:
    """An official or admin opens a shop for an artisan who is not online (no owner), with their consent."""
    if actor is None or actor.role not in ASSISTING_ROLES:
        raise NotAllowed(_("Chỉ cán bộ hoặc quản trị viên được mở cửa hàng hỗ trợ."))
    errors: dict[str, str] = {}
    clean = consent_clean = None
    try:
        clean = clean_shop_values(values)
    except InvalidInput as exc:
        errors.update(exc.details["errors"])
    try:
        consent_clean = clean_consent_values(consent)
    except InvalidInput as exc:
        errors.update(exc.details["errors"])
    if errors:
        raise InvalidInput(_("Vui lòng sửa các lỗi được đánh dấu."), details={"errors": errors})
    shop = Shop(owner_id=None, slug=_unique_slug(clean["name"]), status=ShopStatus.ACTIVE, verified=False, **clean)
    db.session.add(shop)
    db.session.flush()
    row = ShopConsent(shop_id=shop.id, recorded_by_id=actor.id, recorded_at=utcnow(), **consent_clean)
    db.session.add(row)
    db.session.flush()
    record(actor, "shop.assisted_create", "shop", shop.id, after=snapshot(shop))
    record(actor, "shop.consent_record", "shop", shop.id, after=_consent_snapshot(row))
    return shop


def _consent_snapshot(row: ShopConsent) -> dict:
    return {"artisan_name": row.artisan_name, "artisan_phone": row.artisan_phone, "method": row.method,
            "given_at": row.given_at.isoformat(timespec="minutes") if row.given_at else None,
            "evidence": row.evidence}


def consent_for(shop: Shop) -> ShopConsent | None:
    return db.session.scalar(sa.select(ShopConsent).where(ShopConsent.shop_id == shop.id))


def assisted_shops() -> list[tuple[Shop, ShopConsent]]:
    rows = db.session.execute(
        sa.select(Shop, ShopConsent).join(ShopConsent, ShopConsent.shop_id == Shop.id).order_by(
            ShopConsent.handed_over_at.is_not(None), Shop.name)
    )
    return [(shop, consent) for shop, consent in rows]


def hand_over_shop(actor: User, shop: Shop, email: str) -> Shop:
    """Give an assisted shop to the artisan's own account (found by email; it must be an artisan without a
    shop). Officials and admins stop managing it."""
    consent = consent_for(shop)
    if consent is None or not consent.is_active or not can_manage_shop(actor, shop):
        raise NotFound(_("Không tìm thấy."))
    email = _text(email).lower()
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email)) if email else None
    error = None
    if user is None:
        error = _("Không có tài khoản nào với email này. Nghệ nhân cần đăng ký tài khoản nghệ nhân trước.")
    elif user.role != Role.ARTISAN:
        error = _("Tài khoản này không phải tài khoản nghệ nhân.")
    elif not user.active:
        error = _("Tài khoản này đang bị khóa.")
    elif shop_of(user) is not None:
        error = _("Tài khoản này đã có cửa hàng.")
    if error:
        raise InvalidInput(error, field="email", details={"errors": {"email": error}})
    before = {"owner_id": shop.owner_id}
    shop.owner_id = user.id
    consent.handed_over_at = utcnow()
    consent.handed_over_to_id = user.id
    consent.handed_over_by_id = actor.id
    db.session.flush()
    record(actor, "shop.hand_over", "shop", shop.id, before=before,
           after={"owner_id": user.id, "owner_email": user.email})
    return shop
