"""Locale selection: ?lang= (remembered in a cookie), then the cookie, then Accept-Language, then vi."""
from __future__ import annotations

from flask import current_app, g, request


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
