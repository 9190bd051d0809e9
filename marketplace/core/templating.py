"""Jinja filters and globals: prices, dates, labels, image URLs."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, current_app, g, request
from flask_babel import get_locale

from marketplace.core.money import format_vnd
from marketplace.core.time import to_vn


def current_lang() -> str:
    try:
        locale = get_locale()
    except Exception:  # outside a request
        return "vi"
    if locale is None:
        return "vi"
    cached = g.get("_current_lang")
    if cached is not None and cached[0] is locale:  # force_locale swaps the object
        return cached[1]
    lang = str(locale)
    g._current_lang = (locale, lang)
    return lang


def localized(obj, field: str) -> str:
    """English content where the author wrote it, Vietnamese otherwise."""
    if current_lang() == "en":
        value = getattr(obj, f"{field}_en", None)
        if value:
            return value
    return getattr(obj, f"{field}_vi", None) or ""


def label(labels: dict, key: str | None) -> str:
    pair = labels.get(key)
    if not pair:
        return key or ""
    return pair[1] if current_lang() == "en" else pair[0]


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_vn(value).date()
    return value.strftime("%d/%m/%Y") if current_lang() == "vi" else value.strftime("%d %b %Y")


def usd_hint(amount: int | None) -> str:
    if amount is None or current_lang() != "en":
        return ""
    usd = amount * current_app.config["USD_PER_VND"]
    return f"≈ US${usd:,.0f}" if usd >= 10 else f"≈ US${usd:,.2f}"


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return f"{request.path}?{query}" if query else request.path


def register(app: Flask) -> None:
    app.jinja_env.filters["vnd"] = format_vnd
    app.jinja_env.filters["vndate"] = format_date
    app.jinja_env.filters["usd_hint"] = usd_hint
    app.jinja_env.globals.update(
        localized=localized,
        label=label,
        current_lang=current_lang,
        url_with=url_with,
        has_endpoint=lambda name: name in app.view_functions,
    )

    @app.after_request
    def remember_language(response):
        chosen = g.get("set_lang_cookie")
        if chosen:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=bool(app.config["SESSION_COOKIE_SECURE"]))
        return response
