"""Every input has a range: ids in URLs, forms and query strings, and text free of control characters.

* ``<int:…>`` in every route is :class:`IdConverter`: 1 … 2^31−1 (PostgreSQL's ``integer``; SQLite would take
  more, but one range on every database). Anything else does not match the route: 404.
* :func:`parse_id` is the same rule for ids that arrive in forms and query strings (``None`` when absent or
  out of range: callers answer 404 or a field error).
* :func:`refuse_control_characters` runs before every view: a NUL byte or another control character in the
  path, the query string, a form field or an API JSON body is refused with 400 naming the field, before any
  query runs (PostgreSQL refuses NUL in text, and nothing legitimate carries them). Form fields may hold
  tab, newline and carriage return (text areas); URLs and query strings may not.
"""
from __future__ import annotations

import re

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from marketplace.errors import InvalidInput, error_payload, wants_json

MAX_ID = 2**31 - 1
_CONTROL_IN_URL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IdConverter(IntegerConverter):
    """``<int:id>``: a positive integer that fits a 32-bit signed column."""

    # 1 … 2^31−1 in the pattern itself (leading zeros allowed, as before): a number out of range matches no
    # rule at all, so every method gets the same 404 (a value refused only by ``to_python`` would let
    # werkzeug answer 405 to some methods).
    regex = (r"0*(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(value) -> int | None:
    """An id from a form or query string: 1 … 2^31−1, else None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def _bad_url_field() -> str | None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and _CONTROL_IN_URL.search(value):
            return name
    for name, value in request.args.items(multi=True):
        if _CONTROL_IN_URL.search(name) or _CONTROL_IN_URL.search(value):
            return name
    return None


def _bad_json_field(data, path: str = "") -> str | None:
    if isinstance(data, str):
        return path or "body" if _CONTROL_IN_TEXT.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            key_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _CONTROL_IN_TEXT.search(key):
                return key_path
            found = _bad_json_field(value, key_path)
            if found:
                return found
    if isinstance(data, list):
        for i, value in enumerate(data):
            found = _bad_json_field(value, f"{path}[{i}]")
            if found:
                return found
    return None


def _bad_body_field() -> str | None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if _CONTROL_IN_URL.search(name) or _CONTROL_IN_TEXT.search(value):
                return name
        for name, upload in request.files.items(multi=True):
            if upload.filename and _CONTROL_IN_URL.search(upload.filename):
                return name
    elif request.is_json and request.path.startswith("/api/"):
        return _bad_json_field(request.get_json(silent=True))
    return None


def refuse_control_characters():
    field = _bad_url_field() or _bad_body_field()
    if field is None:
        return None
    message = _("Trường “%(field)s” chứa ký tự điều khiển không hợp lệ.", field=field)
    if wants_json():
        return jsonify(error_payload(400, "invalid_characters", message, field=field)), 400
    return render_template("errors/error.html", error=InvalidInput(message, field=field)), 400


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their rules compile with the bounded ``int`` converter."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_control_characters)
