"""Password reset by a signed, expiring, single-use token sent in the user's language."""
from __future__ import annotations

import re

from marketplace.accounts import services
from marketplace.accounts.passwords import verify_password
from marketplace.core.outbox import read_outbox
from marketplace.extensions import db
from tests.accounts.helpers import PASSWORD, is_signed_in, login_form, make_account

NEW = "mot-mat-khau-moi-hon"


def _reset_path(message) -> str:
    body = message.get_content()
    match = re.search(r"https?://[^\s]+(/account/password/reset/[^\s]+)", body)
    assert match, body
    return match.group(1)


def test_reset_flow_in_users_language_and_single_use(app, client):
    user = make_account(email="emma@example.com", locale="en")
    other = app.test_client()
    login_form(other, "emma@example.com")
    response = client.post("/account/password/forgot", data={"email": "Emma@Example.com"})
    assert response.status_code == 303
    [message] = read_outbox()
    assert message["To"] == "emma@example.com"
    assert message["Subject"] == "Reset your Chợ Làng Nghề password"
    path = _reset_path(message)
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": NEW, "confirm": NEW}).status_code == 303
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW)
    assert not is_signed_in(other)  # every older session ends
    assert read_outbox()[-1]["Subject"] == "Your Chợ Làng Nghề password was changed"
    # used once: dead now
    again = client.post(path, data={"password": "lai-mot-mat-khau-khac", "confirm": "lai-mot-mat-khau-khac"})
    assert again.status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW)
    assert login_form(app.test_client(), "emma@example.com", NEW).status_code == 303


def test_reset_mail_in_vietnamese_by_default(app, client):
    make_account(email="lan@example.vn")
    client.post("/account/password/forgot", data={"email": "lan@example.vn"})
    [message] = read_outbox()
    assert message["Subject"] == "Đặt lại mật khẩu Chợ Làng Nghề"
    assert "chỉ dùng được một lần" in message.get_content()


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client):
    make_account(email="lan@example.vn")
    known = client.post("/account/password/forgot", data={"email": "lan@example.vn"}, follow_redirects=True)
    unknown = client.post("/account/password/forgot", data={"email": "nobody@example.vn"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    text = "Nếu email này có tài khoản, chúng tôi vừa gửi thư"
    assert text in known.get_data(as_text=True) and text in unknown.get_data(as_text=True)
    assert len(read_outbox()) == 1


def test_expired_token_refused(app, client):
    user = make_account(email="lan@example.vn")
    token = services.make_reset_token(user)
    assert services.user_for_reset_token(token) is not None
    assert services.user_for_reset_token(token, max_age=-1) is None
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.post(f"/account/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_tampered_or_foreign_tokens_refused(app, client):
    user = make_account(email="lan@example.vn")
    token = services.make_reset_token(user)
    assert client.get(f"/account/password/reset/{token[:-2]}xx").status_code == 400
    assert client.get("/account/password/reset/not-a-token").status_code == 400
    # a token issued before a password change is dead
    services.set_password(user, NEW)
    db.session.commit()
    assert client.get(f"/account/password/reset/{token}").status_code == 400
    # and posting a new password with any of them changes nothing
    for bad in (f"{token[:-2]}xx", "not-a-token", token):
        assert client.post(f"/account/password/reset/{bad}", data={"password": "mot-mat-khau-khac-han",
                                                                   "confirm": "mot-mat-khau-khac-han"}).status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW)


def test_reset_refuses_weak_password(app, client):
    user = make_account(email="lan@example.vn")
    token = services.make_reset_token(user)
    response = client.post(f"/account/password/reset/{token}", data={"password": "password123", "confirm": "password123"})
    assert response.status_code == 400
    assert "phổ biến" in response.get_data(as_text=True)
