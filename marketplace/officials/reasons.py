"""Why a village does or does not count toward each indicator (one village-table row at a time)."""
from __future__ import annotations

from flask_babel import gettext as _

from marketplace.core.templating import format_date


def ecommerce_reason(row) -> str:
    if not row["recognized"]:
        return _("chưa được công nhận (không tính vào mẫu số)")
    if row["ecommerce"]:
        parts = []
        if row["listings_verified"]:
            parts.append(_("có tin đang bán của cửa hàng đã xác minh"))
        if row["presence_fresh"]:
            parts.append(_("có mặt trên sàn khác (minh chứng ngày %(d)s)", d=format_date(row["presence_latest"])))
        return "; ".join(parts)
    return "; ".join(_listing_problems(row, verified_needed=True))


def showcase_reason(row) -> str:
    if not row["recognized"]:
        return _("chưa được công nhận (không tính vào mẫu số)")
    if row["showcase"]:
        return _("%(n)d tin đang bán", n=row["listings_visible"])
    return "; ".join(_listing_problems(row, verified_needed=False))


def _listing_problems(row, verified_needed: bool) -> list[str]:
    out = []
    if not row["shops_total"]:
        out.append(_("chưa có cửa hàng"))
    elif not row["shops_active"]:
        out.append(_("cửa hàng bị tạm ngưng"))
    elif row["listings_visible"] and verified_needed and not row["listings_verified"]:
        out.append(_("cửa hàng chưa xác minh"))
    elif not row["listings_visible"]:
        if row["listings_suspended"]:
            out.append(_("tin đang bán chỉ thuộc cửa hàng bị tạm ngưng"))
        elif row["listings_draft"] and row["listings_archived"]:
            out.append(_("chỉ có tin nháp hoặc đã lưu trữ"))
        elif row["listings_draft"]:
            out.append(_("chỉ có tin nháp"))
        elif row["listings_archived"]:
            out.append(_("chỉ có tin đã lưu trữ"))
        else:
            out.append(_("chưa có tin đăng"))
    if verified_needed and row["presence_latest"] and not row["presence_fresh"]:
        out.append(_("minh chứng trên sàn khác đã quá 12 tháng (%(d)s)", d=format_date(row["presence_latest"])))
    return out or [_("không đạt")]


def ocop_reason(row) -> str:
    if not row["recognized"]:
        return _("chưa được công nhận (không tính vào mẫu số)")
    if row["ocop"]:
        return _("%(n)d sản phẩm OCOP còn hiệu lực", n=row["ocop_valid"])
    if not row["listings_visible"]:
        return _("không có sản phẩm đang bán")
    parts = []
    if row["ocop_awaiting"]:
        parts.append(_("%(n)d chứng nhận OCOP đang chờ xác minh", n=row["ocop_awaiting"]))
    if row["ocop_expired_on"]:
        parts.append(_("OCOP hết hạn %(d)s", d=format_date(row["ocop_expired_on"])))
    if row["ocop_future_on"]:
        parts.append(_("OCOP chỉ có hiệu lực từ %(d)s", d=format_date(row["ocop_future_on"])))
    return "; ".join(parts) or _("chưa có chứng nhận OCOP")


def ip_reason(row) -> str:
    if not row["recognized"]:
        return _("chưa được công nhận (không tính vào mẫu số)")
    if row["ip"]:
        return _("%(n)d sản phẩm được bảo hộ", n=row["ip_listings"])
    if not row["listings_visible"]:
        return _("không có sản phẩm đang bán")
    if row["ip_awaiting"]:
        return _("%(n)d sản phẩm có văn bằng bảo hộ đang chờ xác minh", n=row["ip_awaiting"])
    return _("chưa có sản phẩm gắn nhãn hiệu tập thể/chứng nhận hoặc chỉ dẫn địa lý có số đăng ký, đã xác minh, "
             "còn hiệu lực")


REASONS = {"ecommerce": ecommerce_reason, "showcase": showcase_reason, "ocop": ocop_reason, "ip": ip_reason}


def reasons_for(row) -> dict[str, str]:
    return {key: fn(row) for key, fn in REASONS.items()}
