"""Transactional mail outbox: mail that belongs to a database change is a row in ``mail_outbox``,
written in the same transaction as the change (``queue_mail``). A rolled-back change mails nobody; a
committed one is never lost, even if the process dies before the mail is sent.

``dispatch_outbox`` delivers queued rows: it claims a batch with one conditional UPDATE (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so several dispatchers never take the same row; SQLite serializes writers),
renders each mail in its language, sends it (SMTP, or an .eml file in the outbox folder) and marks it
sent. A claim is a lease: a dispatcher that dies mid-batch leaves its rows to be claimed again after
``LEASE`` (delivery is at least once). A failed send is retried later with a growing delay, up to
``MAX_ATTEMPTS`` attempts; ``last_error`` keeps the reason.

Who dispatches:
* the web app, after the response: a request whose transaction queued mail delivers it when the WSGI
  server closes the response (the shopper does not wait for the mail);
* outside a request (CLI commands, scripts), right after the commit that queued it;
* with ``REDIS_URL``: the ``mail.dispatch`` background job, queued by the commit and run every
  ``JOB_MAIL_EVERY`` seconds by ``flask worker`` (retries whose time has come);
* ``flask mail send [--loop]``: a batch now, or a loop that polls (for a separate mail worker, or to catch
  up after an SMTP outage). Set ``MAIL_DISPATCH_AFTER_COMMIT = False`` to leave delivery to that loop.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import after_this_request, current_app, g, has_request_context
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.core import changes, jobs
from marketplace.core.changes import ChangeSet
from marketplace.core.mail import MailSender, build_message, read_outbox_folder, render_mail
from marketplace.core.time import utcnow
from marketplace.extensions import db

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
KEEP_SENT = timedelta(days=7)  # sent rows hold addresses: kept a week for support, then deleted


class OutboxMail(db.Model):
    """One mail waiting to be sent (``sent_at`` NULL) or sent recently."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_pending", "sent_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    template: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(5))
    context: Mapped[str] = mapped_column(sa.Text)  # JSON object: the template's variables
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    # Not claimed before this moment: now when queued, end of the lease when claimed, retry time after a failure.
    available_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)


_table = OutboxMail.__table__
_insert = sa.insert(_table)


def queue_mail(session: Session, to: str | None, template: str, locale: str | None, **context) -> None:
    """Add a mail to the session's transaction (sent after the commit; dropped with a rollback).
    ``context`` must be JSON-serializable (strings, numbers, lists, dicts)."""
    if not to:
        return
    now = utcnow()
    session.connection().execute(_insert, {
        "to_address": to, "template": template, "locale": locale or "vi",
        "context": json.dumps(context, ensure_ascii=False, separators=(",", ":")),
        "created_at": now, "available_at": now, "attempts": 0})


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _claim(conn, limit: int, now: datetime) -> list:
    pending = (sa.select(_table.c.id)
               .where(_table.c.sent_at.is_(None), _table.c.available_at <= now, _table.c.attempts < MAX_ATTEMPTS)
               .order_by(_table.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    rows = conn.execute(
        sa.update(_table).where(_table.c.id.in_(pending.scalar_subquery()))
        .values(attempts=_table.c.attempts + 1, available_at=now + LEASE)
        .returning(_table.c.id, _table.c.to_address, _table.c.template, _table.c.locale, _table.c.context,
                   _table.c.attempts)
    ).all()
    return sorted(rows, key=lambda r: r.id)


def dispatch_outbox(limit: int = 100) -> DispatchResult:
    """Claim up to ``limit`` due mails, send them, mark them sent (or note the failure). Needs an app
    context; uses its own connections, never the caller's session."""
    engine = db.engine
    now = utcnow()
    with engine.begin() as conn:
        rows = _claim(conn, limit, now)
    result = DispatchResult(claimed=len(rows))
    if not rows:
        return result
    sent, failures = [], []
    with MailSender() as sender:
        for row in rows:
            try:
                subject, body = render_mail(row.template, row.locale, **json.loads(row.context))
                sender.send(build_message(row.to_address, subject, body))
            except Exception as exc:  # one bad mail never blocks the others
                log.warning("mail %s (%s to %s, attempt %s) failed: %r", row.id, row.template, row.to_address,
                            row.attempts, exc)
                failures.append((row, f"{exc.__class__.__name__}: {exc}"[:1000]))
            else:
                sent.append(row.id)
    done = utcnow()
    with engine.begin() as conn:
        if sent:
            conn.execute(sa.update(_table).where(_table.c.id.in_(sent)).values(sent_at=done, last_error=None))
            conn.execute(sa.delete(_table).where(_table.c.sent_at < done - KEEP_SENT))
        for row, error in failures:
            conn.execute(sa.update(_table).where(_table.c.id == row.id)
                         .values(last_error=error, available_at=done + _retry_delay(row.attempts)))
            if row.attempts >= MAX_ATTEMPTS:
                log.error("mail %s to %s given up after %s attempts: %s", row.id, row.to_address, row.attempts, error)
    result.sent, result.failed = len(sent), len(failures)
    return result


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(_table).where(
        _table.c.sent_at.is_(None), _table.c.attempts < MAX_ATTEMPTS)) or 0


# --- automatic delivery --------------------------------------------------------------------------

def _dispatch_quietly(app) -> None:
    with app.app_context():
        try:
            while dispatch_outbox().claimed:
                pass
        except Exception:  # the mail stays queued: the next dispatch (or `flask mail send`) retries
            log.exception("mail dispatch failed")


def _queued_mail(change_set: ChangeSet) -> bool:
    return any(st.op == "insert" for st in change_set.statements_on(_table.name)) or any(
        row.op == "insert" for row in change_set.rows_of(_table.name))


@jobs.job("mail.dispatch", timeout=300, retries=3, intervals=(30, 120, 600), every="JOB_MAIL_EVERY")
def dispatch_job() -> int:
    """The background job: deliver every due mail (idempotent: claimed rows are leased, sent rows skipped)."""
    sent = 0
    while (result := dispatch_outbox()).claimed:
        sent += result.sent
    return sent


def _on_change(change_set: ChangeSet) -> None:
    """Change-feed subscriber: a committed transaction that queued mail gets it delivered."""
    if not _queued_mail(change_set):
        return
    app = current_app._get_current_object()
    if not app.config["MAIL_DISPATCH_AFTER_COMMIT"]:
        return
    if jobs.is_async(app):
        jobs.enqueue("mail.dispatch", with_transaction=False)  # a worker delivers it
        return
    if has_request_context():
        # after the response is sent: the WSGI server closes it, then the mail goes
        if not g.get("_mail_dispatch_registered"):
            g._mail_dispatch_registered = True

            @after_this_request
            def _dispatch_after_response(response):
                response.call_on_close(lambda: _dispatch_quietly(app))
                return response
        return
    _dispatch_quietly(app)


def init_app(app) -> None:
    changes.subscribe(app, "mail", _on_change)


def read_outbox(dispatch: bool = True) -> list:
    """The messages in the outbox folder, oldest first (for tests and the dev console). Mail still
    queued in the database is delivered first, unless ``dispatch=False``."""
    if dispatch:
        while dispatch_outbox(limit=500).claimed:
            pass
    return read_outbox_folder()


# --- CLI -----------------------------------------------------------------------------------------

mail_cli = AppGroup("mail", help="Outgoing mail: deliver what is queued in the outbox table.")


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep polling (a mail worker process).")
@click.option("--limit", default=100, show_default=True, help="Mails per batch.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls when idle (--loop).")
@with_appcontext
def send_command(loop: bool, limit: int, interval: float) -> None:
    """Send the mails queued in the outbox (once, or in a loop)."""
    total = DispatchResult()
    while True:
        try:
            result = dispatch_outbox(limit)
        except Exception as exc:
            if not loop:
                raise
            log.warning("mail dispatch failed, retrying: %r", exc)
            result = DispatchResult()
        total.sent += result.sent
        total.failed += result.failed
        if not result.claimed:
            if not loop:
                break
            time.sleep(interval)
    click.echo(f"Đã gửi {total.sent} thư, lỗi {total.failed}; còn chờ {pending_count()}. "
               f"(sent {total.sent}, failed {total.failed}, pending {pending_count()})")
