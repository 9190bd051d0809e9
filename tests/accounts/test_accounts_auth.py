"""Registration, login, logout, sessions and redirects."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.accounts.passwords import verify_password
from marketplace.core.urls import safe_next
from marketplace.extensions import db
from tests.accounts.helpers import PASSWORD, field_error, is_signed_in, login_form, make_account


def register(client, **overrides):
    data = {"name": "Nguyễn Thị Lan", "email": "lan@example.vn", "password": "lua-van-phuc-mua-thu",
            "confirm": "lua-van-phuc-mua-thu", "role": "shopper"}
    data.update(overrides)
    return client.post("/account/register", data=data)


def test_register_shopper_signs_in_and_hashes_with_argon2id(app, client):
    response = register(client, email="Lan@Example.VN ")
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.email == "lan@example.vn"))
    assert user is not None and user.role == "shopper"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "lua-van-phuc-mua-thu")
    assert user.marketing_consent is False
    assert is_signed_in(client)


def test_register_artisan_goes_to_shop_creation(app, client):
    response = register(client, role="artisan", email="quy@example.vn")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/seller/shop/new")
    assert db.session.scalar(sa.select(User.role).where(User.email == "quy@example.vn")) == "artisan"


@pytest.mark.parametrize("role", ["admin", "official"])
def test_register_cannot_choose_a_privileged_role(app, client, role):
    response = register(client, role=role)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_marketing_consent_is_not_pre_ticked(app, client):
    html = client.get("/account/register").get_data(as_text=True)
    assert 'name="marketing_consent"' in html
    tag = html[html.index('name="marketing_consent"') - 120: html.index('name="marketing_consent"') + 80]
    assert "checked" not in tag


@pytest.mark.parametrize("password", ["1234567", "gom-ab"])
def test_short_password_refused(app, client, password):
    response = register(client, password=password, confirm=password)
    assert response.status_code == 400
    assert "ít nhất 8 ký tự" in field_error(response.get_data(as_text=True), "password")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("password", ["123456789", "password123", "Password123", "matkhau123", "anhyeuem123", "qwertyuiop"])
def test_common_password_refused(app, client, password):
    response = register(client, password=password, confirm=password)
    assert response.status_code == 400
    assert "phổ biến" in field_error(response.get_data(as_text=True), "password")


def test_eight_chars_and_long_passwords_accepted_and_not_truncated(app, client):
    assert register(client, email="a@example.vn", password="gom-xanh", confirm="gom-xanh").status_code == 303
    long_password = "nón lá Chuông " * 8  # > 100 characters
    client.post("/account/logout")
    fresh = app.test_client()
    assert register(fresh, email="b@example.vn", password=long_password, confirm=long_password).status_code == 303
    fresh.post("/account/logout")
    # both accounts stored, the whole long password hashed (not its first 72 bytes)
    stored = {u.email: u for u in db.session.scalars(sa.select(User)).all()}
    assert set(stored) == {"a@example.vn", "b@example.vn"}
    assert verify_password(stored["a@example.vn"].password_hash, "gom-xanh")
    assert verify_password(stored["b@example.vn"].password_hash, long_password)
    assert not verify_password(stored["b@example.vn"].password_hash, long_password[:72])
    one_short = app.test_client()
    refused = login_form(one_short, "b@example.vn", long_password[:-1])
    assert refused.status_code == 401 and "Email hoặc mật khẩu không đúng." in refused.get_data(as_text=True)
    assert not is_signed_in(one_short)
    whole = app.test_client()
    assert login_form(whole, "b@example.vn", long_password).status_code == 303
    assert is_signed_in(whole)


def test_password_mismatch_and_bad_email_shown_next_to_fields(app, client):
    response = register(client, email="not-an-email", confirm="something-else-x")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "email")
    assert "không khớp" in field_error(html, "confirm")


def test_register_with_taken_email_refused(app, client):
    make_account(email="lan@example.vn")
    response = register(client)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "email")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_login_success_redirects_and_signs_in(app, client):
    make_account(email="lan@example.vn")
    response = login_form(client, "LAN@example.vn")
    assert response.status_code == 303
    assert is_signed_in(client)


def test_same_message_for_unknown_email_and_wrong_password(app, client):
    make_account(email="lan@example.vn")
    wrong = login_form(client, "lan@example.vn", "sai-mat-khau-roi")
    unknown = login_form(client, "nobody@example.vn", "sai-mat-khau-roi")
    assert wrong.status_code == unknown.status_code == 401
    msg_wrong = field_error(wrong.get_data(as_text=True), "password")
    msg_unknown = field_error(unknown.get_data(as_text=True), "password")
    assert msg_wrong == msg_unknown == "Email hoặc mật khẩu không đúng."
    assert not is_signed_in(client)


def test_inactive_account_cannot_sign_in(app, client):
    make_account(email="lan@example.vn", active=False)
    response = login_form(client, "lan@example.vn")
    assert response.status_code == 401
    assert field_error(response.get_data(as_text=True), "password") == "Email hoặc mật khẩu không đúng."


def test_logout_is_post_only(app, client):
    make_account(email="lan@example.vn")
    login_form(client, "lan@example.vn")
    assert client.get("/account/logout").status_code == 405
    assert is_signed_in(client)
    assert client.post("/account/logout").status_code == 303
    assert not is_signed_in(client)


def _cookies(client) -> dict:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token") if client.get_cookie(name)}


def _replay(app, cookies: dict):
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def test_logout_kills_copied_session_and_remember_cookies(app, client):
    user = make_account(email="lan@example.vn")
    assert login_form(client, "lan@example.vn", remember="y").status_code == 303
    stolen = _cookies(client)
    assert "remember_token" in stolen and "session" in stolen
    assert is_signed_in(_replay(app, stolen))  # the copy works while the session lives
    client.post("/account/logout")
    assert not is_signed_in(_replay(app, stolen))
    assert not is_signed_in(_replay(app, {"remember_token": stolen["remember_token"]}))
    db.session.refresh(user)
    assert user.session_version == 2


def test_password_change_signs_out_other_sessions_but_not_this_one(app, client):
    make_account(email="lan@example.vn")
    other = app.test_client()
    login_form(client, "lan@example.vn")
    login_form(other, "lan@example.vn", remember="y")
    other_cookies = _cookies(other)
    response = client.post("/account", data={"form": "password", "pw-current_password": PASSWORD,
                                              "pw-password": "mot-mat-khau-moi-hon", "pw-confirm": "mot-mat-khau-moi-hon"})
    assert response.status_code == 303
    assert is_signed_in(client)
    assert not is_signed_in(other)
    assert not is_signed_in(_replay(app, other_cookies))
    assert login_form(app.test_client(), "lan@example.vn", "mot-mat-khau-moi-hon").status_code == 303


def test_pre_login_cookie_is_not_authenticated_after_login(app, client):
    make_account(email="lan@example.vn")
    client.get("/account/login")
    before = _cookies(client)
    login_form(client, "lan@example.vn")
    assert not is_signed_in(_replay(app, before))


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
                                    "http:evil.example", "javascript:alert(1)", "/%0a//evil.example".replace("%0a", "\n")])
def test_next_only_to_local_paths(app, client, target):
    make_account(email="lan@example.vn")
    assert safe_next(target) is None
    response = client.post("/account/login", query_string={"next": target},
                           data={"email": "lan@example.vn", "password": PASSWORD, "next": target})
    if "\n" in target:  # a control character in the URL: refused before the view runs
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil" not in location and location.startswith("/")


def test_next_local_path_is_followed(app, client):
    make_account(email="lan@example.vn")
    page = client.get("/account/login?next=/account")
    assert 'value="/account"' in page.get_data(as_text=True)
    response = login_form(client, "lan@example.vn", next="/account")
    assert response.headers["Location"] == "/account"


def test_private_page_redirects_anonymous_to_login_with_next(app, client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"] and "next=" in response.headers["Location"]


def test_profile_update_and_marketing_consent(app, client, login):
    user = make_account(email="lan@example.vn")
    login(client, user)
    page = client.get("/account").get_data(as_text=True)
    tag = page[page.index('name="profile-marketing_consent"') - 120: page.index('name="profile-marketing_consent"') + 60]
    assert "checked" not in tag
    response = client.post("/account", data={"form": "profile", "profile-name": "Lan Nguyễn", "profile-phone": "0987 654 321",
                                             "profile-locale": "en", "profile-marketing_consent": "y"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert (user.name, user.phone, user.locale, user.marketing_consent) == ("Lan Nguyễn", "0987654321", "en", True)
    bad = client.post("/account", data={"form": "profile", "profile-name": "Lan", "profile-phone": "12345",
                                        "profile-locale": "vi"})
    assert bad.status_code == 400
    assert field_error(bad.get_data(as_text=True), "profile-phone")


def test_wrong_current_password_shown_next_to_field(app, client, login):
    user = make_account(email="lan@example.vn")
    login(client, user)
    response = client.post("/account", data={"form": "password", "pw-current_password": "khong-phai-dau",
                                              "pw-password": "mot-mat-khau-moi-hon", "pw-confirm": "mot-mat-khau-moi-hon"})
    assert response.status_code == 400
    assert "không đúng" in field_error(response.get_data(as_text=True), "pw-current_password")
    db.session.refresh(user)
    assert user.session_version == 1


def test_login_page_has_csrf_when_enabled(tmp_path, backend):
    from tests.conftest import make_app

    app = make_app(tmp_path, backend, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        html = client.get("/account/login").get_data(as_text=True)
        assert 'name="csrf_token"' in html
        assert client.post("/account/login", data={"email": "a@example.vn", "password": "x" * 10}).status_code == 400
        refused = client.post("/account/logout")  # a cross-site form cannot sign anyone out
        assert refused.status_code == 400 and b"CSRF" in refused.data
        db.session.remove()
        if backend == "postgresql":
            from tests.conftest import truncate_all
            truncate_all()
        db.engine.dispose()


def test_demo_accounts_sign_in_with_the_form(demo_app, demo_client):
    from marketplace.demo.seed import DEMO_PASSWORD

    response = login_form(demo_client, "artisan01@demo.cholangnghe.vn", DEMO_PASSWORD)
    assert response.status_code == 303
    assert is_signed_in(demo_client)


def test_failed_login_logged_without_the_password(app, client, caplog):
    import logging

    user = make_account(email="lan@example.vn")
    with caplog.at_level(logging.INFO, logger="marketplace.security"):
        login_form(client, "lan@example.vn", "sai-mat-khau-bi-mat")
        login_form(client, "lan@example.vn")
    text = caplog.text
    assert f"login failed user={user.id} ip=127.0.0.1" in text
    assert f"login ok user={user.id}" in text
    assert "sai-mat-khau-bi-mat" not in text and PASSWORD not in text
