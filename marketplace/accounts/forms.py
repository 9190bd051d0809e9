"""Account forms (Flask-WTF: CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from marketplace.accounts.passwords import MAX_LENGTH, password_problem
from marketplace.accounts.phone import normalize_vn_mobile

PASSWORD_MESSAGES = {
    "too_short": _l("Mật khẩu cần ít nhất 8 ký tự (nên dùng 15 ký tự trở lên, ví dụ một câu dễ nhớ)."),
    "too_long": _l("Mật khẩu quá dài."),
    "common": _l("Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác."),
    "personal": _l("Mật khẩu không được giống địa chỉ email của bạn."),
}


def check_new_password(form, field):
    email = getattr(getattr(form, "email", None), "data", None) or getattr(form, "_account_email", None)
    problem = password_problem(field.data or "", email=email)
    if problem:
        raise ValidationError(PASSWORD_MESSAGES[problem])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email(value):
    return value.strip().lower() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    name = StringField(_l("Họ và tên"), filters=[_strip],
                       validators=[DataRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)])
    email = EmailField(_l("Email"), filters=[_email],
                       validators=[DataRequired(_l("Vui lòng nhập email.")),
                                   Email(_l("Email không hợp lệ."), check_deliverability=False), Length(max=254)])
    phone = StringField(_l("Số điện thoại di động (không bắt buộc)"), filters=[_strip],
                        validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Mật khẩu (ít nhất 8 ký tự)"),
                             validators=[DataRequired(_l("Vui lòng nhập mật khẩu.")), check_new_password])
    confirm = PasswordField(_l("Nhập lại mật khẩu"),
                            validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))])
    role = RadioField(_l("Tôi muốn"), default="shopper",
                      choices=[SelectChoice("shopper", _l("Mua sản phẩm làng nghề")),
                               SelectChoice("artisan", _l("Mở cửa hàng (nghệ nhân, cơ sở sản xuất)"))],
                      validators=[DataRequired(_l("Vui lòng chọn một mục."))])
    marketing_consent = BooleanField(_l("Nhận thư giới thiệu sản phẩm và sự kiện làng nghề (có thể hủy bất cứ lúc nào)"),
                                     default=False)


    def validate_phone(self, field):
        if field.data and normalize_vn_mobile(field.data) is None:
            raise ValidationError(_l("Số điện thoại di động không hợp lệ (ví dụ 0912 345 678)."))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[_email],
                       validators=[DataRequired(_l("Vui lòng nhập email.")), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"),
                             validators=[DataRequired(_l("Vui lòng nhập mật khẩu.")), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Ghi nhớ đăng nhập trên máy này"), default=False)
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[_email],
                       validators=[DataRequired(_l("Vui lòng nhập email.")),
                                   Email(_l("Email không hợp lệ."), check_deliverability=False), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Mật khẩu mới (ít nhất 8 ký tự)"),
                             validators=[DataRequired(_l("Vui lòng nhập mật khẩu.")), check_new_password])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))])


class ProfileForm(FlaskForm):
    name = StringField(_l("Họ và tên"), filters=[_strip],
                       validators=[DataRequired(_l("Vui lòng nhập họ tên.")), Length(max=120)])
    phone = StringField(_l("Số điện thoại (không bắt buộc)"), filters=[_strip],
                        validators=[Optional(), Length(max=20)])
    locale = SelectField(_l("Ngôn ngữ nhận thư"), choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")])
    marketing_consent = BooleanField(_l("Nhận thư giới thiệu sản phẩm và sự kiện làng nghề"), default=False)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"),
                                     validators=[DataRequired(_l("Vui lòng nhập mật khẩu hiện tại.")),
                                                 Length(max=MAX_LENGTH)])
    password = PasswordField(_l("Mật khẩu mới (ít nhất 8 ký tự)"),
                             validators=[DataRequired(_l("Vui lòng nhập mật khẩu mới.")), check_new_password])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("password", _l("Hai mật khẩu không khớp."))])
