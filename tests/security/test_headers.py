"""Security headers on every response (ASVS 3.4.x), HSTS and Secure cookies only in production,
ProxyFix by configuration, and templates that need no unsafe-inline CSP."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.factories import make_product

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _check_common(response):
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_headers_on_pages_errors_static_and_json(app, client):
    product = make_product()
    from marketplace.extensions import db

    db.session.commit()
    for url, status in [("/", 200), (f"/products/{product.id}-{product.slug}", 200), (f"/products/{product.id}", 301), ("/static/css/site.css", 200),
                        ("/healthz", 200), ("/no-such-page", 404), ("/api/v1/no-such", 404)]:
        response = client.get(url)
        assert response.status_code == status, url
        _check_common(response)
        assert "Strict-Transport-Security" not in response.headers, url
        response.close()  # static files are streamed from an open file


def test_hsts_and_secure_cookies_in_production(tmp_path):
    from config import ProductionConfig

    class Prod(ProductionConfig):
        SECRET_KEY = "Jf8s-2kQp9Lz_x7Vb3Nc0Rt5Wy1Hg6Ud4Me"
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected here
        DATA_DIR = str(tmp_path / "instance")

    from marketplace import create_app

    app = create_app(Prod)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with app.test_request_context("/"):
        response = app.make_response("x")
        response = app.process_response(response)
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31_536_000
    _check_common(response)


def test_session_cookie_is_lax_and_httponly(app, client):
    with client.session_transaction() as session:
        session["x"] = 1
    response = client.get("/")
    cookies = response.headers.getlist("Set-Cookie")
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert not app.config.get("SESSION_COOKIE_SECURE")  # not in development/testing (plain http)
    for cookie in cookies:
        if cookie.startswith("session="):
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("proxies", [0, 1])
def test_proxy_fix_is_configured(tmp_path, proxies):
    app = make_app(tmp_path, "sqlite", PROXY_FIX_X_FOR=proxies, PROXY_FIX_X_PROTO=proxies)
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request

        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return "ok"

    probe.access = ("public",)
    app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"})
    if proxies:
        assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    else:
        assert seen == {"addr": "10.0.0.1", "scheme": "http"}


# data blocks (JSON, JSON-LD) are not executed, so CSP does not concern them
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src=|type=[\"']application/(ld\+)?json))[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=(?!=)", re.I)  # not Jinja comparisons (only == x)
INLINE_STYLE = re.compile(r"\sstyle\s*=", re.I)
INLINE_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.I)


def test_templates_need_no_unsafe_inline():
    """The CSP allows no inline scripts, handlers or style attributes: the templates must not use them."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline <script>", INLINE_SCRIPT), ("on* handler", INLINE_HANDLER),
                              ("style= attribute", INLINE_STYLE), ("javascript: URL", INLINE_URL)):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {name}")
    assert problems == [], "CSP forbids these (move to static/js or static/css):\n" + "\n".join(problems)


def test_405_says_which_methods_are_allowed(client):
    for url in ("/", "/api/v1/villages"):
        response = client.open(url, method="TRACE")
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
