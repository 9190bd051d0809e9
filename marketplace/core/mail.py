"""Outgoing mail. Every mail is a template pair in vi and en: ``templates/mail/<name>.<lang>.txt``,
whose first line is ``Subject: …``. By default mail is written to the outbox folder
(``DATA_DIR/outbox``, one .eml file per message) and logged; with ``MAIL_SERVER`` set it goes by SMTP.

Mail that belongs to a database change (order confirmations, status changes) is not sent from here
directly: it is queued in the ``mail_outbox`` table in the same transaction and delivered by
``marketplace.core.outbox.dispatch_outbox`` (see there).
"""
from __future__ import annotations

import logging
import smtplib
import time
import uuid
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

log = logging.getLogger(__name__)

# UTF-8 bodies as quoted-printable (readable in the .eml files, 7-bit safe for any relay).
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def render_mail(template: str, locale: str = "vi", **context) -> tuple[str, str]:
    locale = locale if locale in current_app.config["LANGUAGES"] else "vi"
    with force_locale(locale):
        text = render_template(f"mail/{template}.{locale}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.lower().startswith("subject:"):
        raise ValueError(f"mail template {template}.{locale} must start with 'Subject:'")
    return first.split(":", 1)[1].strip(), body.lstrip("\n")


@lru_cache(maxsize=8)
def _encoded_address(address: str) -> str:
    """``Chợ Làng Nghề <no-reply@…>`` with the display name RFC 2047-encoded when it is not ASCII."""
    name, addr = parseaddr(address)
    return formataddr((name, addr), charset="utf-8") if addr else address


def build_message(to: str, subject: str, body: str) -> Message:
    """A text/plain UTF-8 message. Built with the compat32 email API: RFC 2047 encoded From display
    name and Subject, quoted-printable body — the same message as the ``policy.default`` API writes,
    at a fraction of its header-folding cost."""
    message = MIMEText(body, "plain", _UTF8_QP)
    message["From"] = _encoded_address(current_app.config["MAIL_DEFAULT_SENDER"])
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="cholangnghe.vn")
    return message


def send_mail(to: str, template: str, locale: str = "vi", **context) -> Message:
    """Render and send one mail now (password reset and the like, which belong to no transaction)."""
    subject, body = render_mail(template, locale, **context)
    message = build_message(to, subject, body)
    with MailSender() as sender:
        sender.send(message)
    return message


class MailSender:
    """Sends messages by SMTP (one connection for a batch) or writes them to the outbox folder."""

    def __init__(self):
        self.cfg = current_app.config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailSender:
        return self

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # the messages are sent; a failed goodbye changes nothing
                pass
            self.smtp = None

    def send(self, message: Message) -> None:
        if not self.cfg["MAIL_SERVER"]:
            _write_outbox(message)
            return
        if self.smtp is None:
            self.smtp = _connect_smtp(self.cfg)
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.smtp = None
            raise


def outbox_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "outbox"


def _write_outbox(message: Message) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # time first: files written within one clock tick of the file system still sort in sending order
    path = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.eml"
    path.write_bytes(message.as_bytes())
    log.info("mail to %s written to outbox: %s", message["To"], message["Subject"])


def _connect_smtp(cfg) -> smtplib.SMTP:
    smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10)
    try:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    except Exception:
        smtp.close()
        raise
    return smtp


def read_outbox_folder() -> list[Message]:
    """The messages in the outbox folder, oldest first (``core.outbox.read_outbox`` delivers the queue first)."""
    folder = outbox_dir()
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]
