"""Helpers shared by the accounts, shops and admin tests."""
from __future__ import annotations

import re

from marketplace.accounts.passwords import hash_password
from marketplace.extensions import db
from tests.factories import make_user

PASSWORD = "men-lam-bat-trang-2030"


def make_account(role: str = "shopper", email: str | None = None, password: str = PASSWORD, **kw):
    user = make_user(role, email=email, password_hash=hash_password(password), **kw)
    db.session.commit()
    return user


def login_form(client, email: str, password: str = PASSWORD, **extra):
    data = {"email": email, "password": password}
    data.update(extra)
    return client.post("/account/login", data=data)


def is_signed_in(client) -> bool:
    """The account page answers 200 only to a signed-in session."""
    return client.get("/account").status_code == 200


def shop_form(village_id, **overrides) -> dict:
    data = {
        "name": "Gốm Quý Bát Tràng",
        "village_id": str(village_id),
        "maker_name": "Nguyễn Văn Quý",
        "maker_title": "Nghệ nhân ưu tú",
        "story": "Ba đời làm gốm men lam.",
        "phone": "0912 345 678",
        "shipping_policy": "Giao trong 2–4 ngày",
        "returns_policy": "Đổi trong 7 ngày nếu vỡ",
        "shipping_fee": "30.000",
        "free_shipping_over": "500.000",
    }
    data.update(overrides)
    return data


def field_error(html: str, field_id: str) -> str | None:
    """The error text shown right after the field ``field_id`` (``<span id="<field>-error">``)."""
    match = re.search(rf'<span class="field-error" id="{re.escape(field_id)}-error"[^>]*>(.*?)</span>', html, re.S)
    return match.group(1).strip() if match else None
