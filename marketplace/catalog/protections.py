"""IP protection records kept by officials (UI ``/officials/ip``, CLI ``flask ip``): kind, registration number,
holder, grant date, expiry per kind, the village it belongs to and the products that carry it.

Expiry: a collective or certification mark runs 10 years from the grant and may be renewed (a later expiry is
typed at renewal); a geographical indication has none; "other" carries what is typed. An expired record
counts nowhere (``ip_valid_clause``). A new or changed record is a claim: ``declared`` until an official
verifies it against its evidence (``catalog/claims.py``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from marketplace.accounts.models import Role
from marketplace.catalog import claims
from marketplace.catalog.models import CraftVillage, IpKind, IpProtection, Product, ip_default_expiry
from marketplace.catalog.services import SYSTEM, _text, parse_date, parse_int, valid_id
from marketplace.core.audit import record
from marketplace.core.time import today_vn
from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.shops.models import Shop

CLAIM_FIELDS = ("kind", "name", "registration_number", "holder", "granted_on", "expires_on", "village_id")
MAX_LINKED_PRODUCTS = 500


def _require_official(actor) -> None:
    if actor is not SYSTEM and getattr(actor, "role", None) not in (Role.OFFICIAL, Role.ADMIN):
        raise NotAllowed(_("Chỉ cán bộ quản lý mới sửa được văn bằng bảo hộ."))


def find_village(value) -> CraftVillage | None:
    if isinstance(value, CraftVillage):
        return value
    text = _text(value)
    if not text:
        return None
    village_id = parse_int(text)
    if village_id is not None and valid_id(village_id):
        return db.session.get(CraftVillage, village_id)
    return db.session.scalars(sa.select(CraftVillage).where(
        sa.or_(CraftVillage.code == text, CraftVillage.slug == text))).first()


def _product_ids(value) -> list[int] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    ids = []
    for item in items:
        text = _text(item)
        if not text:
            continue
        number = parse_int(text)
        if number is None or not valid_id(number):
            raise InvalidInput(_("Mã sản phẩm không hợp lệ: %(v)s.", v=text[:20]), field="product_ids")
        ids.append(number)
    return sorted(set(ids))


def clean_ip_data(data: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    kind = _text(data.get("kind"))
    if kind not in IpKind.CHOICES:
        errors["kind"] = _("Chọn loại văn bằng trong danh sách.")
    clean["kind"] = kind
    for key, max_len, required in (("name", 200, True), ("registration_number", 80, True), ("holder", 200, False)):
        value = _text(data.get(key))
        if required and not value:
            errors[key] = _("Bắt buộc.")
        elif len(value) > max_len:
            errors[key] = _("Tối đa %(n)s ký tự.", n=max_len)
        clean[key] = value or None
    granted = expires = None
    try:
        granted = parse_date(data.get("granted_on"))
        if granted is None:
            errors["granted_on"] = _("Bắt buộc.")
        elif granted > today_vn():
            errors["granted_on"] = _("Ngày cấp không thể ở tương lai.")
        elif granted.year < 1950:
            errors["granted_on"] = _("Kiểm tra lại ngày cấp.")
    except ValueError:
        errors["granted_on"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    try:
        expires = parse_date(data.get("expires_on"))
    except ValueError:
        errors["expires_on"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    if kind == IpKind.GEOGRAPHICAL_INDICATION:
        if expires is not None:
            errors["expires_on"] = _("Chỉ dẫn địa lý được bảo hộ không thời hạn: để trống ngày hết hạn.")
        expires = None
    elif granted is not None and "expires_on" not in errors:
        if expires is None:
            expires = ip_default_expiry(kind, granted)
        elif expires <= granted:
            errors["expires_on"] = _("Ngày hết hạn phải sau ngày cấp.")
    clean["granted_on"] = granted
    clean["expires_on"] = expires
    village = find_village(data.get("village"))
    if _text(data.get("village")) and village is None:
        errors["village"] = _("Không tìm thấy làng nghề này.")
    clean["village_id"] = village.id if village else None
    try:
        clean["product_ids"] = _product_ids(data.get("product_ids"))
    except InvalidInput as exc:
        errors["product_ids"] = exc.message
        clean["product_ids"] = None
    if clean["product_ids"] and len(clean["product_ids"]) > MAX_LINKED_PRODUCTS:
        errors["product_ids"] = _("Tối đa %(n)s sản phẩm.", n=MAX_LINKED_PRODUCTS)
    if clean["product_ids"] and "product_ids" not in errors:
        found = dict(db.session.execute(
            sa.select(Product.id, Shop.village_id).join(Shop, Shop.id == Product.shop_id)
            .where(Product.id.in_(clean["product_ids"]))).all())
        missing = [pid for pid in clean["product_ids"] if pid not in found]
        foreign = [pid for pid, vid in found.items() if clean["village_id"] is None or vid != clean["village_id"]]
        if missing:
            errors["product_ids"] = _("Không có sản phẩm số %(ids)s.", ids=", ".join(map(str, missing[:10])))
        elif foreign:
            errors["product_ids"] = _("Sản phẩm %(ids)s không thuộc cửa hàng của làng này.",
                                      ids=", ".join(map(str, sorted(foreign)[:10])))
    return clean, errors


def _raise(errors: dict[str, str]) -> None:
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field, details={"errors": errors})


def _snapshot(ip: IpProtection) -> dict:
    return {key: (str(getattr(ip, key)) if getattr(ip, key) is not None else None) for key in CLAIM_FIELDS} | {
        "status": ip.status}


def _link_products(ip: IpProtection, product_ids: list[int] | None) -> None:
    if product_ids is None:
        return
    wanted = set(product_ids)
    for product in db.session.scalars(sa.select(Product).where(
            sa.or_(Product.ip_protection_id == ip.id, Product.id.in_(wanted or [0])))):
        product.ip_protection_id = ip.id if product.id in wanted else None


def linked_product_ids(ip: IpProtection) -> list[int]:
    return list(db.session.scalars(sa.select(Product.id).where(Product.ip_protection_id == ip.id).order_by(Product.id)))


def create_ip(actor, data: Mapping[str, Any]) -> IpProtection:
    _require_official(actor)
    clean, errors = clean_ip_data(data)
    _raise(errors)
    product_ids = clean.pop("product_ids")
    ip = IpProtection(**clean)
    db.session.add(ip)
    db.session.flush()
    _link_products(ip, product_ids)
    db.session.flush()
    record(None if actor is SYSTEM else actor, "ip.create", "ip_protection", ip.id, after=_snapshot(ip))
    return ip


def update_ip(actor, ip: IpProtection, data: Mapping[str, Any]) -> IpProtection:
    """Change a record; changing what was verified makes it a new claim (``declared``)."""
    _require_official(actor)
    clean, errors = clean_ip_data(data)
    _raise(errors)
    product_ids = clean.pop("product_ids")
    before = _snapshot(ip)
    for key, value in clean.items():
        setattr(ip, key, value)
    db.session.flush()
    after = _snapshot(ip)
    if {k: before[k] for k in CLAIM_FIELDS} != {k: after[k] for k in CLAIM_FIELDS}:
        claims.reset_ip_claim(ip)
        after["status"] = ip.status
    _link_products(ip, product_ids)
    db.session.flush()
    record(None if actor is SYSTEM else actor, "ip.update", "ip_protection", ip.id, before=before, after=after)
    return ip


def ip_records(village_id: int | None = None) -> list[IpProtection]:
    stmt = sa.select(IpProtection).order_by(IpProtection.village_id, IpProtection.kind, IpProtection.id)
    if village_id is not None:
        stmt = stmt.where(IpProtection.village_id == village_id)
    return list(db.session.scalars(stmt))
