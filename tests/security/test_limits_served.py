"""Limits hold under `make run`: the site served by the Makefile's own gunicorn command, embedded defaults
(no Redis), counted from outside over HTTP — the first 429 comes exactly at the configured number."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "DATABASE_URL", "REDIS_URL", "WORKERS", "THREADS"))}
    env.update(MARKETPLACE_DATA_DIR=str(data), MARKETPLACE_ENV="development", API_RATE_LIMIT="30/minute",
               LOGIN_LIMIT_PER_ACCOUNT="5 per minute", LOGIN_LIMIT_PER_IP="8 per minute",
               FLASK_APP="wsgi:app", PATH=f"{VENV_BIN}:{env.get('PATH', '')}")
    subprocess.run([str(VENV_BIN / "flask"), "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = _free_port()
    server = subprocess.Popen(["make", "--no-print-directory", "serve", f"PORT={port}", f"BIN={VENV_BIN}"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        os.killpg(server.pid, 9)
        server.wait()
        pytest.fail("the served site did not start: " + server.stderr.read().decode()[-2000:])
    yield base
    os.killpg(server.pid, 15)
    server.wait(timeout=20)


def _client() -> requests.Session:
    """A new connection per request (``Connection: close``), as many clients behave: with several worker
    processes each request may land on another one."""
    http = requests.Session()
    http.headers["Connection"] = "close"
    return http


def _first_429(send, limit: int) -> int:
    for attempt in range(1, limit + 5):
        if send() == 429:
            return attempt
    return -1


def test_api_limit_is_exact_across_the_served_site(served):
    with _client() as http:
        assert _first_429(lambda: http.get(f"{served}/api/v1/villages").status_code, 30) == 31


def test_login_limit_per_account_is_exact(served):
    with _client() as http:
        page = http.get(f"{served}/account/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "login form has a CSRF token"

        def wrong_password() -> int:
            return http.post(f"{served}/account/login", data={"csrf_token": token.group(1),
                                                               "email": "nobody@example.vn",
                                                               "password": "sai-mat-khau"}).status_code

        assert _first_429(wrong_password, 5) == 6
