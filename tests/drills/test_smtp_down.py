"""Drill: the SMTP server is down when an order is placed.

The order is placed as usual; its confirmation stays queued in ``mail_outbox`` with the reason in
``last_error``; when SMTP is back, ``flask mail send`` delivers it once its retry time has come — exactly once.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.core.outbox import OutboxMail
from marketplace.core.time import utcnow
from marketplace.extensions import db
from tests.drills.conftest import make_catalog, start_checkout
from tests.drills.harness import LocalSMTP, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


def _outbox() -> list[OutboxMail]:
    try:
        return db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
    finally:
        db.session.close()


def test_smtp_down_mail_stays_queued_and_goes_out_once(drill, serve):
    catalog = make_catalog()
    smtp = LocalSMTP()  # not started yet: nothing listens on its port
    site = serve(drill, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "MAIL_USE_TLS": "false"})
    visitor, form = start_checkout(site, catalog.variant_ids[0])
    placed = visitor.post("/checkout", form)
    assert placed.status_code == 303  # the order does not wait for the mail
    # after the response the worker tried to send it: refused, so it stays queued with the reason
    (mail,) = wait_until(lambda: [m for m in _outbox() if m.attempts >= 1 and m.last_error], timeout=60,
                         what="the failed delivery to be recorded")
    assert mail.to_address == form["email"] and mail.sent_at is None and mail.template == "order_placed"
    assert "refused" in mail.last_error.lower(), mail.last_error

    smtp.start()
    try:
        early = site.flask("mail", "send")
        assert early.returncode == 0, early.stderr
        assert "(sent 0, failed 0, pending 1)" in early.stdout  # not due yet: the retry delay is kept
        with db.engine.begin() as conn:  # the delay (30 s after a first failure) has passed
            conn.execute(sa.update(OutboxMail).values(available_at=utcnow() - timedelta(seconds=1)))
        sent = site.flask("mail", "send")
        assert sent.returncode == 0, sent.stderr
        assert "(sent 1, failed 0, pending 0)" in sent.stdout, sent.stdout
        again = site.flask("mail", "send")
        assert "(sent 0, failed 0, pending 0)" in again.stdout, again.stdout
    finally:
        smtp.stop()
    assert [m["to"] for m in smtp.received] == [[form["email"]]]  # exactly once
    (mail,) = _outbox()
    assert mail.sent_at is not None and mail.last_error is None and mail.attempts == 2
    assert b"CLN-" in smtp.received[0]["data"]  # the order number is in the confirmation
