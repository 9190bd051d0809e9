"""Login rate limits (ASVS 2.4.1/6.3.1): per IP and per account, counted on failures only."""
from __future__ import annotations

import pytest

from marketplace.extensions import limiter
from tests.accounts.helpers import PASSWORD, is_signed_in, login_form, make_account


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": True, "LOGIN_LIMIT_PER_IP": "5 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture(autouse=True)
def fresh_counters(app):
    limiter.reset()
    yield
    limiter.reset()


def test_sixth_failure_from_one_ip_gets_429(app, client):
    for n in range(5):
        response = login_form(client, f"nobody{n}@example.vn", "sai-mat-khau-roi")
        assert response.status_code == 401
    assert login_form(client, "nobody9@example.vn", "sai-mat-khau-roi").status_code == 429
    # even the right password is refused while the IP is blocked
    make_account(email="lan@example.vn")
    assert login_form(client, "lan@example.vn").status_code == 429
    with client.session_transaction() as session:
        assert "_user_id" not in session  # refused: not signed in
    # another IP is not affected
    response = app.test_client().post("/account/login", data={"email": "lan@example.vn", "password": PASSWORD},
                                      environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 303


def test_failures_on_one_account_from_many_ips_get_429(app):
    make_account(email="lan@example.vn")
    for n in range(3):
        response = app.test_client().post("/account/login", data={"email": "lan@example.vn", "password": "sai-mat-khau"},
                                          environ_base={"REMOTE_ADDR": f"10.0.1.{n}"})
        assert response.status_code == 401
    blocked_client = app.test_client()
    blocked = blocked_client.post("/account/login", data={"email": "LAN@example.vn", "password": PASSWORD},
                                  environ_base={"REMOTE_ADDR": "10.0.1.99"})
    assert blocked.status_code == 429
    with blocked_client.session_transaction() as session:
        assert "_user_id" not in session  # refused: not signed in
    # a different account from the same new IP still works
    make_account(email="mai@example.vn")
    ok = app.test_client().post("/account/login", data={"email": "mai@example.vn", "password": PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.0.1.99"})
    assert ok.status_code == 303


def test_successful_logins_do_not_count(app, client):
    make_account(email="lan@example.vn")
    for _ in range(8):
        visitor = app.test_client()
        assert login_form(visitor, "lan@example.vn").status_code == 303
        assert is_signed_in(visitor)
    # and the failures that follow are counted from zero: the first is an ordinary refusal, not a 429
    wrong = login_form(app.test_client(), "lan@example.vn", "sai-mat-khau-roi")
    assert wrong.status_code == 401 and "Email hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)


def test_429_page_is_friendly_html(app, client):
    for n in range(6):
        response = login_form(client, f"x{n}@example.vn", "sai-mat-khau-roi")
    assert response.status_code == 429
    assert "text/html" in response.headers["Content-Type"]
