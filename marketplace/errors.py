"""Domain errors and the HTTP error handlers (HTML or JSON to suit the client; roll back on 500)."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from marketplace.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str = "", *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid_input"


class NotAllowed(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class OutOfStock(Conflict):
    code = "out_of_stock"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_payload(status: int, code: str, message: str, **extra) -> dict:
    body = {"error": {"status": status, "code": code, "message": message}}
    body["error"].update({k: v for k, v in extra.items() if v})
    return body


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            _rollback()
        code = (exc.name or "error").lower().replace(" ", "_")
        if wants_json():
            response = jsonify(error_payload(exc.code or 500, code, exc.description or exc.name))
            response.status_code = exc.code or 500
        else:
            template = "errors/404.html" if exc.code == 404 else "errors/error.html"
            response = make_response(render_template(template, error=exc), exc.code)
        # the exception's own headers: Allow on 405, WWW-Authenticate on 401, Retry-After on 429 …
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        if exc.code == 429 and getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        _rollback()
        if wants_json():
            response = jsonify(error_payload(exc.status_code, exc.code, exc.message, field=exc.field, details=exc.details))
            response.status_code = exc.status_code
            return response
        template = "errors/404.html" if exc.status_code == 404 else "errors/error.html"
        return render_template(template, error=exc), exc.status_code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        _rollback()
        unavailable = database_unavailable(exc)
        status, code = (503, "service_unavailable") if unavailable else (500, "internal_error")
        if unavailable:  # an outage of the database (down, restarting): not a bug of this request
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        else:
            log.exception("unhandled error on %s %s", request.method, request.path)
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER)} if unavailable else {}
        if wants_json():
            message = "Service temporarily unavailable" if unavailable else "Internal server error"
            return jsonify(error_payload(status, code, message)), status, headers
        try:
            return render_template("errors/500.html"), status, headers
        except Exception:  # the error page itself must not fail
            log.exception("rendering the %s page failed", status)
            return ("Có lỗi xảy ra. / Something went wrong.", status,
                    {"Content-Type": "text/plain; charset=utf-8", **headers})


DATABASE_RETRY_AFTER = 10  # seconds: the Retry-After of a 503 while the database is unreachable


def database_unavailable(exc: Exception) -> bool:
    """The database cannot be reached (refused, shut down, connection lost), as opposed to an error of the
    statement: a connection the pool has invalidated, a connection failure (no SQLSTATE), or SQLSTATE class 08
    (connection exception) or 57P (shutdown, cannot connect now). SQLite's errors are never this."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", "")
    return exc.connection_invalidated or sqlstate is None or (sqlstate or "").startswith(("08", "57P"))


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - best effort
        log.exception("rollback failed")
