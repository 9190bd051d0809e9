"""Locale selection: ?lang= (remembered in a cookie), then the cookie, then Accept-Language, then vi."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_translations


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        g.set_lang_cookie = chosen
        return chosen
    cookie = request.cookies.get("lang")
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _request_translations():
    """The current translations, looked up once per request and locale (Flask-Babel looks them up on
    every call, which dominated the render time of small pages). ``force_locale`` swaps the locale
    object, so the identity check below notices it."""

    namespace = g.get("_flask_babel")
    locale = getattr(namespace, "babel_locale", None)
    cached = g.get("_request_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    namespace = g.get("_flask_babel")
    g._request_translations = (getattr(namespace, "babel_locale", None), translations)
    return translations


def install_fast_gettext(app) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
