"""CSRF as shipped (ASVS 3.5.1): apps built from the development and the production configuration classes
themselves — not the testing one, which switches CSRF off, and without switching it on here — refuse a form
POST without a token on every form route of the URL map (400, Flask-WTF's "CSRF token is missing").

This is what fails when ``WTF_CSRF_ENABLED = False`` lands in ``Config`` or in ``ProductionConfig``: every
other CSRF test turns CSRF on by itself. The only routes skipped are the documented exemptions below, each
with its reason; an exempt view that is not listed fails the test."""
from __future__ import annotations

import pytest

import config as settings
from marketplace import create_app
from marketplace.extensions import csrf
from tests.conftest import PG_URL, pg_url
from tests.security.test_routes import _post_rules, _url_for_rule

# Routes a cross-site form cannot ride on, so they need no CSRF token (and must not have one):
EXEMPT_ENDPOINTS = {
    "payments.stripe_webhook": "Stripe calls it server to server; authenticated by the Stripe-Signature "
                               "HMAC over the raw body, never by a cookie",
    "payments.vietqr_webhook": "a bank-notification service calls it server to server; authenticated by the "
                               "HMAC-SHA256 of the raw body in X-Signature, never by a cookie",
}
EXEMPT_BLUEPRINTS = {
    "api": "the token API (/api/v1): bearer tokens only, the session cookie is never read",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
STRONG_KEY = "k3y-for-the-csrf-test-0123456789-abcdefghijklmnopqrstuvwxyz"


def _blueprint(rule) -> str | None:
    return rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None


def _shipped_app(name: str, tmp_path):
    """The app of config class ``name`` as it ships: only where it keeps its files and which database it
    names are changed (production refuses SQLite and the development secret). CSRF settings untouched."""
    base = settings.CONFIGS[name]
    overrides = {"DATA_DIR": str(tmp_path / name), "SEARCH_INDEX_DIR": None, "MEDIA_ROOT": None,
                 "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": None}
    if name == "production":
        # Never connected to: the CSRF check runs before any view. Without TEST_DATABASE_URL, an address
        # nothing listens on (a request that reached the database would fail loudly, not pass).
        overrides["SQLALCHEMY_DATABASE_URI"] = pg_url() if PG_URL else "postgresql+psycopg://nobody@127.0.0.1:9/none"
        overrides["SECRET_KEY"] = STRONG_KEY
    else:
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'csrf.sqlite'}"
    shipped = type(f"Shipped{base.__name__}", (base,), overrides)
    assert "WTF_CSRF_ENABLED" not in overrides
    return create_app(shipped)


@pytest.mark.parametrize("name", ["development", "production"])
def test_every_form_route_refuses_a_post_without_a_token(name, tmp_path):
    app = _shipped_app(name, tmp_path)
    assert app.config["CONFIG_CLASS"] == f"Shipped{settings.CONFIGS[name].__name__}"
    assert not app.testing
    client = app.test_client()
    accepted, checked = [], 0
    for rule in _post_rules(app):
        if rule.endpoint in EXEMPT_ENDPOINTS or _blueprint(rule) in EXEMPT_BLUEPRINTS:
            continue
        url = _url_for_rule(rule, {}, {})
        for method in sorted(rule.methods & WRITE_METHODS):
            with app.app_context():
                response = client.open(url, method=method, data={"name": "x", "amount": "1"})
            checked += 1
            if response.status_code != 400 or b"CSRF token is missing" not in response.data:
                accepted.append(f"{method} {url} ({rule.endpoint}) → {response.status_code}")
    assert accepted == [], f"{name}: form routes that did not refuse a POST without a CSRF token:\n" + "\n".join(accepted)
    assert checked >= 40  # the walk saw the site's forms (about 60 today), not an empty map


@pytest.mark.parametrize("name", ["development", "production"])
def test_a_wrong_token_is_refused_too(name, tmp_path):
    app = _shipped_app(name, tmp_path)
    client = app.test_client()
    with app.app_context():
        client.get("/account/login")  # the session now holds a token: the form's field is checked against it
    with app.app_context():
        response = client.post("/account/login", data={"csrf_token": "forged", "email": "a@b.vn", "password": "x"})
    assert response.status_code == 400 and b"CSRF token is invalid" in response.data


@pytest.mark.parametrize("name", ["development", "production"])
def test_only_the_documented_routes_are_exempt(name, tmp_path):
    app = _shipped_app(name, tmp_path)
    exempt_views = set(csrf._exempt_views)
    exempt_blueprints = {bp.name for bp in csrf._exempt_blueprints}
    found = set()
    for rule in _post_rules(app):
        view = app.view_functions[rule.endpoint]
        if f"{view.__module__}.{view.__name__}" in exempt_views:
            assert rule.endpoint in EXEMPT_ENDPOINTS, f"{rule.endpoint} is CSRF-exempt without a documented reason"
            found.add(rule.endpoint)
        elif _blueprint(rule) in exempt_blueprints:
            assert _blueprint(rule) in EXEMPT_BLUEPRINTS, f"blueprint {_blueprint(rule)} is exempt without a reason"
            found.add(_blueprint(rule))
    assert found == set(EXEMPT_ENDPOINTS) | set(EXEMPT_BLUEPRINTS)  # no stale entry in the list above


def test_no_shipped_configuration_switches_csrf_off():
    """Only the testing configuration may: the classes a server runs with leave Flask-WTF's default (on)."""
    for name, cls in settings.CONFIGS.items():
        if name != "testing":
            assert getattr(cls, "WTF_CSRF_ENABLED", True) is True, name
