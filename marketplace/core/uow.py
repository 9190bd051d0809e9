"""One unit of work: a view, an API endpoint or a CLI command runs in one transaction.

``install(app)`` wraps every view function and every ``flask`` command: the session commits once when the
function returns normally and rolls back on any exception. A :class:`~marketplace.errors.DomainError` that
escapes is rolled back and answered by :func:`answer_domain_error`: JSON clients get the API's error
document, HTML gets ``flash`` + a 303 to the view's ``@error_redirect`` target, or the error page.

Views, commands and services therefore never call ``commit()`` or ``rollback()``. The one opt-out is
:func:`commit_early`, with a reason, for the few places that must commit more than once (card checkout
around the payment provider's call, per-file photo upload, per-item reconcile, bulk jobs and loops).
Outside views and commands (threads, scripts, tests) use ``with transaction():``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
from flask import Flask, flash, has_app_context, redirect, url_for
from werkzeug.wrappers import Response

from marketplace.errors import DomainError, wants_json
from marketplace.extensions import db

_WRAPPED = "__unit_of_work__"
_ERROR_TARGET = "_uow_error_redirect"


def install(app: Flask) -> None:
    """Wrap every registered view and CLI command (call after blueprints and commands are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or getattr(view, _WRAPPED, False):
            continue
        app.view_functions[endpoint] = _wrap_view(view)
    _wrap_commands(app.cli)


# --- views --------------------------------------------------------------------------------------------

def _wrap_view(view: Callable) -> Callable:
    @functools.wraps(view)
    def in_transaction(*args, **kwargs):
        try:
            rv = view(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            answer = answer_domain_error(exc, view, kwargs)
            if answer is None:
                raise  # the app's DomainError handler renders the error page / JSON document
            return answer
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return rv

    setattr(in_transaction, _WRAPPED, True)
    return in_transaction


def error_redirect(target: str | Callable[..., str]):
    """HTML answer to a DomainError from this view: flash the message and 303 to ``target`` — an endpoint
    (built with the view's arguments) or a callable taking the view's keyword arguments."""

    def decorate(view):
        setattr(view, _ERROR_TARGET, target)
        return view

    return decorate


def answer_domain_error(exc: DomainError, view: Callable | None = None, view_kwargs: dict | None = None):
    """The response for a DomainError that reached the unit of work, or None for the app's error handler."""
    target = getattr(view, _ERROR_TARGET, None) if view is not None else None
    if target is None or wants_json():
        return None
    location = target(**(view_kwargs or {})) if callable(target) else url_for(target, **(view_kwargs or {}))
    flash(exc.message, "error")
    return redirect(location, 303)


def done(message: str | None, location: str, category: str = "success") -> Response:
    """Flash ``message`` (if any) and answer 303 See Other to ``location``."""
    if message:
        flash(message, category)
    return redirect(location, 303)


@dataclass
class Outcome:
    error: DomainError | None = None

    @property
    def status(self) -> int:
        return self.error.status_code if self.error is not None else 200


@contextmanager
def field_errors(form=None) -> Iterator[Outcome]:
    """Run a service call; a DomainError rolls back and lands on the form (its field, or the form)."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        db.session.rollback()
        outcome.error = exc
        if form is not None:
            field = form._fields.get(exc.field) if exc.field else None
            if field is not None:
                field.errors = [*field.errors, exc.message]
            else:
                form.form_errors.append(exc.message)


# --- the opt-out and explicit transactions -----------------------------------------------------------

def commit_early(reason: str) -> None:
    """Commit now, in a view or command that must commit more than once. ``reason`` says why (one line)."""
    if not reason or not reason.strip():
        raise ValueError("commit_early needs a reason")
    db.session.commit()


@contextmanager
def transaction() -> Iterator[None]:
    """One transaction outside views and commands: commit on exit, roll back on exception."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


# --- CLI ----------------------------------------------------------------------------------------------

def _wrap_commands(group: click.Group) -> None:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _wrap_commands(command)
        if command.callback is not None and not getattr(command.callback, _WRAPPED, False):
            command.callback = _wrap_command(command.callback)


def _wrap_command(callback: Callable) -> Callable:
    @functools.wraps(callback)
    def in_transaction(*args, **kwargs):
        try:
            rv = callback(*args, **kwargs)
        except BaseException:
            if has_app_context():
                db.session.rollback()
            raise
        if has_app_context():
            db.session.commit()
        return rv

    setattr(in_transaction, _WRAPPED, True)
    return in_transaction
