"""Checkout, shipping, refund, review and payout forms (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from marketplace.orders import addresses
from marketplace.payments import registry


class CheckoutForm(FlaskForm):
    token = HiddenField()
    recipient_name = StringField(_l("Họ tên người nhận"), validators=[InputRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)])
    phone = StringField(_l("Số điện thoại di động"), validators=[InputRequired(_l("Vui lòng nhập số điện thoại.")), Length(max=20)])
    email = StringField(_l("Email (không bắt buộc, để nhận xác nhận đơn hàng)"), validators=[Length(max=254)])
    province = SelectField(_l("Tỉnh / thành phố"), validators=[InputRequired(_l("Vui lòng chọn tỉnh/thành phố."))])
    ward = StringField(_l("Xã / phường"), validators=[InputRequired(_l("Vui lòng nhập xã/phường.")), Length(max=120)])
    street = StringField(_l("Số nhà, đường / thôn, xóm"), validators=[InputRequired(_l("Vui lòng nhập địa chỉ.")), Length(max=255)])
    note = TextAreaField(_l("Ghi chú cho người bán"), validators=[Optional(), Length(max=1000)])
    payment_method = RadioField(_l("Thanh toán"), default=registry.DEFAULT)
    # Signed-in buyers: one of their saved addresses (fills the fields above), and "save this address".
    saved_address = SelectField(_l("Địa chỉ đã lưu"), choices=[], validate_choice=False)
    save_address = BooleanField(_l("Lưu địa chỉ này cho lần sau"), default=True)

    def __init__(self, *args, require_email: bool = False, methods=(), **kwargs):
        """``methods``: the enabled payment gateways, offered in that order."""
        super().__init__(*args, **kwargs)
        self.require_email = require_email
        self.province.choices = [("", _l("— Chọn —"))] + addresses.provinces()
        self.payment_method.choices = [(m.identifier, m.label) for m in methods]
        self.normalized_phone = None
        self.official_ward = None

    def validate_phone(self, field):
        self.normalized_phone = addresses.normalize_phone(field.data)
        if not self.normalized_phone:
            raise ValidationError(_l("Số di động Việt Nam gồm 10 chữ số, ví dụ 0912 345 678."))

    def validate_email(self, field):
        if not (field.data or "").strip():
            if self.require_email:
                raise ValidationError(_l("Vui lòng nhập email để nhận xác nhận và đường dẫn theo dõi đơn."))
            return
        Email(_l("Email không hợp lệ."))(self, field)

    def validate_ward(self, field):
        code = self.province.data
        if not addresses.province_name(code or ""):
            return
        self.official_ward = addresses.match_ward(code, field.data)
        if not self.official_ward:
            raise ValidationError(_l("Không có xã/phường này trong tỉnh/thành phố đã chọn (theo đơn vị hành chính từ 1/7/2025)."))


class LookupForm(FlaskForm):
    phone = StringField(_l("Số điện thoại đặt hàng"), validators=[InputRequired(_l("Vui lòng nhập số điện thoại.")), Length(max=20)])
    code = StringField(_l("Mã đơn hàng (ví dụ CLN-000123)"), validators=[InputRequired(_l("Vui lòng nhập mã đơn hàng.")), Length(max=20)])


class ShipForm(FlaskForm):
    carrier = StringField(_l("Đơn vị vận chuyển"), validators=[InputRequired(_l("Vui lòng nhập đơn vị vận chuyển.")), Length(max=80)])
    tracking_number = StringField(_l("Mã vận đơn"), validators=[InputRequired(_l("Vui lòng nhập mã vận đơn.")), Length(max=80)])


class EmptyForm(FlaskForm):
    pass


class RefundForm(FlaskForm):
    amount = IntegerField(_l("Số tiền hoàn (đồng)"), validators=[InputRequired(_l("Nhập số tiền.")), NumberRange(min=1)])
    reason = StringField(_l("Lý do"), validators=[Optional(), Length(max=300)])


class ReviewForm(FlaskForm):
    rating = IntegerField(_l("Đánh giá"), validators=[InputRequired(_l("Chọn từ 1 đến 5 sao.")),
                                                       NumberRange(min=1, max=5, message=_l("Chọn từ 1 đến 5 sao."))])
    body = TextAreaField(_l("Nhận xét"), validators=[Optional(), Length(max=2000)])


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Trả lời"), validators=[InputRequired(_l("Nhập nội dung trả lời.")), Length(max=2000)])


class CancelForm(FlaskForm):
    """The seller's cancel step: a reason from the list (``services.CANCEL_REASONS``) and/or a free text;
    ``services.cancel_reason_text`` says which combinations are enough."""
    reason_code = HiddenField()  # radio buttons rendered by the template (the list lives in services)
    reason = TextAreaField(_l("Giải thích cho khách (bắt buộc nếu chọn “Lý do khác”)"),
                           validators=[Optional(), Length(max=300)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Tin nhắn"), validators=[InputRequired(_l("Hãy nhập nội dung tin nhắn."))])
