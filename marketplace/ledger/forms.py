"""Ledger forms (Flask-WTF: CSRF on every form). Forms that post money carry a one-time ``token`` so a
repeated submit books nothing twice."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


def _token() -> str:
    return uuid.uuid4().hex


class PayoutForm(FlaskForm):
    shop_id = IntegerField(_l("Mã cửa hàng"), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    amount = IntegerField(_l("Số tiền (đồng)"), validators=[InputRequired(), NumberRange(min=1, max=2_000_000_000)])
    reference = StringField(_l("Mã giao dịch chuyển khoản"), validators=[Optional(), Length(max=120)])


class ReferenceForm(FlaskForm):
    reference = StringField(_l("Mã giao dịch của ngân hàng"), validators=[InputRequired(_l("Nhập mã giao dịch của ngân hàng.")),
                                                                          Length(max=120)])


class AdjustmentForm(FlaskForm):
    token = HiddenField(default=_token)
    amount = IntegerField(_l("Số tiền (đồng; âm = cửa hàng nợ thêm)"),
                          validators=[InputRequired(), NumberRange(min=-2_000_000_000, max=2_000_000_000)])
    reason = StringField(_l("Lý do"), validators=[InputRequired(_l("Nhập lý do điều chỉnh.")), Length(max=300)])


class ReceiptForm(FlaskForm):
    token = HiddenField(default=_token)
    amount = IntegerField(_l("Số tiền cửa hàng đã nộp (đồng)"),
                          validators=[InputRequired(), NumberRange(min=1, max=2_000_000_000)])
    reference = StringField(_l("Mã giao dịch của ngân hàng"), validators=[InputRequired(), Length(max=120)])


class HouseholdForm(FlaskForm):
    household_seller = BooleanField(_l("Hộ kinh doanh / cá nhân (sàn khấu trừ thuế GTGT và TNCN)"))


class PayoutAccountForm(FlaskForm):
    bank_name = StringField(_l("Ngân hàng"), validators=[InputRequired(_l("Nhập tên ngân hàng.")), Length(max=120)])
    account_number = StringField(_l("Số tài khoản"), validators=[InputRequired(), Length(max=40)])
    account_name = StringField(_l("Tên chủ tài khoản"), validators=[InputRequired(), Length(max=120)])
