"""Shop forms. Fields are collected as text; ``marketplace.shops.services`` validates them and its
errors are shown next to the fields."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TextAreaField

from marketplace.shops.models import ConsentMethod
from marketplace.shops.services import SHOP_FIELDS


class ShopForm(FlaskForm):
    name = StringField(_l("Tên cửa hàng"))
    village_id = SelectField(_l("Làng nghề"), validate_choice=False, coerce=str)
    maker_name = StringField(_l("Tên người làm (nghệ nhân, chủ cơ sở)"))
    maker_title = StringField(_l("Danh hiệu (ví dụ: Nghệ nhân ưu tú)"))
    story = TextAreaField(_l("Câu chuyện của cửa hàng"))
    phone = StringField(_l("Số điện thoại liên hệ (di động)"))
    shipping_policy = TextAreaField(_l("Thời gian giao hàng"))
    returns_policy = TextAreaField(_l("Chính sách đổi trả"))
    shipping_fee = StringField(_l("Phí vận chuyển (₫, đi tỉnh khác và cả Hà Nội nếu không ghi riêng)"), default="30.000")
    free_shipping_over = StringField(_l("Miễn phí vận chuyển cho đơn từ (₫, không bắt buộc)"))
    # Contact the shop and English content (shops.services.CONTACT_FIELDS, ENGLISH_LIMITS)
    show_phone = BooleanField(_l("Hiện số điện thoại trên trang sản phẩm, cửa hàng và đơn hàng"), default=True)
    show_zalo = BooleanField(_l("Hiện nút nhắn Zalo (zalo.me/số điện thoại của bạn)"), default=True)
    name_en = StringField(_l("Tên cửa hàng (tiếng Anh, không bắt buộc)"))
    story_en = TextAreaField(_l("Câu chuyện của cửa hàng (tiếng Anh, không bắt buộc)"))
    shipping_fee_hanoi = StringField(_l("Phí vận chuyển trong Hà Nội (₫, để trống nếu như trên)"))
    delivery_days_hanoi = StringField(_l("Thời gian giao trong Hà Nội (ngày, ví dụ 1–2)"))
    delivery_days_other = StringField(_l("Thời gian giao đi tỉnh khác (ngày, ví dụ 3–5)"))
    shipping_weight_bands = StringField(_l("Phụ phí theo khối lượng (gam=phụ phí, ví dụ 2000=15000; 5000=30000)"))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in SHOP_FIELDS}


class AssistedShopForm(ShopForm):
    artisan_name = StringField(_l("Họ tên nghệ nhân"))
    artisan_phone = StringField(_l("Số điện thoại của nghệ nhân (nếu có)"))
    method = SelectField(_l("Nghệ nhân đồng ý bằng cách nào"), validate_choice=False,
                         choices=[SelectChoice("", "—")] + [SelectChoice(k, k) for k in ConsentMethod.CHOICES])
    given_at = StringField(_l("Ngày nghệ nhân đồng ý"))
    evidence = TextAreaField(_l("Bằng chứng đồng ý (số biên bản, người làm chứng, nơi lưu giấy tờ)"))
    confirmed = BooleanField(_l("Tôi xác nhận nghệ nhân đã đồng ý để chúng tôi mở và quản lý cửa hàng này thay họ"),
                             default=False)

    def consent_values(self) -> dict:
        return {
            "artisan_name": self.artisan_name.data, "artisan_phone": self.artisan_phone.data,
            "method": self.method.data, "evidence": self.evidence.data, "confirmed": bool(self.confirmed.data),
            "given_at": (self.given_at.data or "").strip() or None,
        }


class HandOverForm(FlaskForm):
    email = EmailField(_l("Email tài khoản nghệ nhân của người nhận"))
