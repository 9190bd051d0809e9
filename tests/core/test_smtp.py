"""The SMTP send path (``MAIL_SERVER`` set) against a small SMTP server the test starts on 127.0.0.1, port 0:
login, one connection per batch, the message as a relay gets it, and the failures (refused login, no
STARTTLS, a server that hangs up) — which leave the outbox mail queued for the next attempt."""
from __future__ import annotations

import base64
import smtplib
import socketserver
import threading
from email import policy
from email.parser import BytesParser

import pytest
import sqlalchemy as sa

from marketplace.core.mail import send_mail
from marketplace.core.outbox import OutboxMail, dispatch_outbox, queue_mail
from marketplace.extensions import db

USER, PASSWORD = "relay-user", "relay-pass"


class _Handler(socketserver.StreamRequestHandler):
    """EHLO (advertising AUTH PLAIN, and STARTTLS only if asked), AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        fake: FakeSMTP = self.server.fake
        fake.connections += 1
        self.reply("220 fake ESMTP")
        envelope = {"from": None, "to": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("ascii", "replace").strip()
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reply("250-fake\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 fake")
            elif verb == "AUTH":
                _, _, token = arg.partition(" ")
                _, user, password = base64.b64decode(token).split(b"\0")
                fake.logins.append(user.decode())
                self.reply("235 ok" if (user.decode(), password.decode()) == (USER, PASSWORD) else "535 bad credentials")
            elif verb == "MAIL":
                envelope = {"from": arg[5:].strip("<>"), "to": []}
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(arg[3:].strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = []
                while True:
                    data = self.rfile.readline()
                    if not data or data == b".\r\n":
                        break
                    body.append(data[1:] if data.startswith(b"..") else data)
                fake.received.append({**envelope, "message": BytesParser(policy=policy.default).parsebytes(b"".join(body))})
                if fake.hang_up_after == len(fake.received):
                    fake.hang_up_after = None
                    return  # the connection drops without an answer (once)
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # STARTTLS included: this server has no TLS
                self.reply("502 not implemented")


class FakeSMTP:
    def __init__(self):
        self.received: list[dict] = []
        self.logins: list[str] = []
        self.connections = 0
        self.hang_up_after: int | None = None
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def smtp():
    fake = FakeSMTP()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def app_overrides(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_USE_TLS": False, "MAIL_USERNAME": USER,
            "MAIL_PASSWORD": PASSWORD, "MAIL_DISPATCH_AFTER_COMMIT": False}


def _status_mail(to, locale="vi", number="CLN-000007"):
    queue_mail(db.session, to, "order_status", locale, number=number, status="shipped",
               labels=["Đang giao", "Shipped"], shop="Gốm Bát Tràng", total="350.000 ₫", carrier="VNPost",
               tracking="EB1VN", refunded="0 ₫", link="http://127.0.0.1:5000/orders/c/x")


def _queued():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()


def _outbox_folder(app):
    from pathlib import Path

    folder = Path(app.config["DATA_DIR"]) / "outbox"
    return list(folder.glob("*.eml")) if folder.exists() else []


def test_send_mail_goes_by_smtp_after_login(app, smtp):
    with app.test_request_context():
        send_mail("lan@example.vn", "order_status", "vi", number="CLN-000001", status="paid",
                  labels=["Đã thanh toán", "Paid"], shop="Gốm", total="1 ₫", carrier=None, tracking=None,
                  refunded="0 ₫", link="http://x/")
    assert smtp.logins == [USER]
    assert len(smtp.received) == 1
    mail = smtp.received[0]
    assert mail["to"] == ["lan@example.vn"] and mail["from"] == "no-reply@cholangnghe.vn"
    assert "CLN-000001" in mail["message"]["Subject"] and "Đã thanh toán" in mail["message"]["Subject"]
    assert mail["message"]["From"] == "Chợ Làng Nghề <no-reply@cholangnghe.vn>"
    assert _outbox_folder(app) == []  # by SMTP, not the folder


def test_the_outbox_batch_goes_over_one_connection_and_is_marked_sent(app, smtp):
    _status_mail("lan@example.vn", number="CLN-000011")
    _status_mail("emma@example.fr", "en", number="CLN-000012")
    db.session.commit()
    result = dispatch_outbox()
    assert (result.claimed, result.sent, result.failed) == (2, 2, 0)
    assert smtp.connections == 1 and smtp.logins == [USER]
    assert [m["to"] for m in smtp.received] == [["lan@example.vn"], ["emma@example.fr"]]
    assert "Shipped" in smtp.received[1]["message"]["Subject"]
    assert all(row.sent_at is not None and row.last_error is None for row in _queued())
    assert dispatch_outbox().claimed == 0


def test_a_refused_login_leaves_the_mail_queued(app, smtp):
    app.config["MAIL_PASSWORD"] = "wrong"
    _status_mail("lan@example.vn")
    db.session.commit()
    result = dispatch_outbox()
    assert (result.sent, result.failed) == (0, 1)
    assert smtp.received == []
    row = _queued()[0]
    assert row.sent_at is None and "SMTPAuthenticationError" in row.last_error
    with app.test_request_context(), pytest.raises(smtplib.SMTPAuthenticationError):
        send_mail("lan@example.vn", "order_status", "vi", number="CLN-1", status="paid", labels=["a", "b"],
                  shop="s", total="1 ₫", carrier=None, tracking=None, refunded="0 ₫", link="http://x/")


def test_starttls_required_but_not_offered_fails_closed(app, smtp):
    """MAIL_USE_TLS (the default) and a server without STARTTLS: nothing is sent in clear, the mail waits."""
    app.config["MAIL_USE_TLS"] = True
    _status_mail("lan@example.vn")
    db.session.commit()
    result = dispatch_outbox()
    assert (result.sent, result.failed) == (0, 1)
    assert smtp.received == [] and smtp.logins == []
    assert "SMTPNotSupportedError" in _queued()[0].last_error


def test_a_server_that_hangs_up_mid_batch(app, smtp):
    """The connection drops after the first message's data, unanswered: that mail is in doubt and stays
    queued for a retry (never lost); the next ones go over a new connection."""
    smtp.hang_up_after = 1
    for n in range(3):
        _status_mail(f"buyer{n}@example.vn", number=f"CLN-00002{n}")
    db.session.commit()
    first = dispatch_outbox()
    assert (first.claimed, first.sent, first.failed) == (3, 2, 1)
    assert smtp.connections == 2
    rows = _queued()
    assert [row.sent_at is None for row in rows] == [True, False, False]
    assert "SMTPServerDisconnected" in rows[0].last_error
    db.session.execute(sa.update(OutboxMail).values(available_at=rows[0].created_at))  # its retry is due
    db.session.commit()
    assert dispatch_outbox().sent == 1
    assert all(row.sent_at is not None for row in _queued())
    assert sorted(m["to"][0] for m in smtp.received) == [
        "buyer0@example.vn", "buyer0@example.vn", "buyer1@example.vn", "buyer2@example.vn"]  # at least once
