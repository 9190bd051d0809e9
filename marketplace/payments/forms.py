"""Admin forms for bank transfers (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional


class StatementUploadForm(FlaskForm):
    statement = FileField(_l("Tệp sao kê (CSV hoặc XLSX)"), validators=[
        FileRequired(_l("Chọn tệp sao kê.")), FileAllowed(["csv", "xlsx"], _l("Chỉ nhận tệp .csv hoặc .xlsx."))])
    date_column = StringField(_l("Cột ngày"), validators=[Optional(), Length(max=80)])
    amount_column = StringField(_l("Cột số tiền"), validators=[Optional(), Length(max=80)])
    description_column = StringField(_l("Cột nội dung"), validators=[Optional(), Length(max=80)])
    transaction_id_column = StringField(_l("Cột mã giao dịch"), validators=[Optional(), Length(max=80)])

    def mapping(self) -> dict[str, str]:
        return {"date": self.date_column.data or "", "amount": self.amount_column.data or "",
                "description": self.description_column.data or "",
                "transaction_id": self.transaction_id_column.data or ""}


class ConfirmImportForm(FlaskForm):
    rows = HiddenField()


class ActionForm(FlaskForm):
    note = StringField(_l("Mã giao dịch chuyển trả"), validators=[Optional(), Length(max=200)])
    reference = StringField(_l("Mã tham chiếu của đơn"), validators=[Optional(), Length(max=40)])
