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
    # two mails: the buyer's confirmation and the shop's new-order alert
    def both_failed():
        failed = [m for m in _outbox() if m.attempts >= 1 and m.last_error]
        return failed if len(failed) == 2 else None

    failed = wait_until(both_failed, timeout=60, what="the failed deliveries to be recorded")
    assert sorted((m.template, m.to_address) for m in failed) == sorted(
        [("order_placed", form["email"]), ("shop_alert", catalog.artisan_email)])
    assert all(m.sent_at is None and "refused" in m.last_error.lower() for m in failed), failed

    smtp.start()
    try:
        early = site.flask("mail", "send")
        assert early.returncode == 0, early.stderr
        assert "(sent 0, failed 0, pending 2)" in early.stdout  # not due yet: the retry delay is kept
        with db.engine.begin() as conn:  # the delay (30 s after a first failure) has passed
            conn.execute(sa.update(OutboxMail).values(available_at=utcnow() - timedelta(seconds=1)))
        sent = site.flask("mail", "send")
        assert sent.returncode == 0, sent.stderr
        assert "(sent 2, failed 0, pending 0)" in sent.stdout, sent.stdout
        again = site.flask("mail", "send")
        assert "(sent 0, failed 0, pending 0)" in again.stdout, again.stdout
    finally:
        smtp.stop()
    assert sorted(m["to"] for m in smtp.received) == sorted([[form["email"]], [catalog.artisan_email]])  # once each
    assert all(m.sent_at is not None and m.last_error is None and m.attempts == 2 for m in _outbox())
    assert len(_outbox()) == 2
    confirmation = next(m for m in smtp.received if m["to"] == [form["email"]])
    assert b"CLN-" in confirmation["data"]  # the order number is in the confirmation
