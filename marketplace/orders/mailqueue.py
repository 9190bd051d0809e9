"""Mail that leaves only after the transaction commits (a rolled-back or duplicate change mails nobody)."""
from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "orders_pending_mail"


def queue_mail(session, to: str | None, template: str, locale: str | None, **context) -> None:
    if not to:
        return
    session.info.setdefault(_KEY, []).append((to, template, locale or "vi", context))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    pending = session.info.pop(_KEY, None)
    if not pending or not has_app_context():
        return
    from marketplace.core.mail import send_mail

    for to, template, locale, context in pending:
        try:
            send_mail(to, template, locale, **context)
        except Exception:  # a mail failure never undoes a committed order
            log.exception("mail %s to %s failed", template, to)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session, previous_transaction):
    session.info.pop(_KEY, None)
