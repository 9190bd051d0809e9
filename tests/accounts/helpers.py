"""Helpers shared by the accounts, shops and admin tests: accounts, signing in, field errors."""
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


def field_error(html: str, field_id: str) -> str | None:
    """The error text shown right after the field ``field_id`` (``<span id="<field>-error">``)."""
    match = re.search(rf'<span class="field-error" id="{re.escape(field_id)}-error"[^>]*>(.*?)</span>', html, re.S)
    return match.group(1).strip() if match else None
