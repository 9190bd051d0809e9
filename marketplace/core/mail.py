"""Outgoing mail. Every mail is a template pair in vi and en: ``templates/mail/<name>.<lang>.txt``,
whose first line is ``Subject: …``. By default mail is written to the outbox folder
(``DATA_DIR/outbox``, one .eml file per message) and logged; with ``MAIL_SERVER`` set it goes by SMTP.
"""
from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

log = logging.getLogger(__name__)


def render_mail(template: str, locale: str = "vi", **context) -> tuple[str, str]:
    locale = locale if locale in current_app.config["LANGUAGES"] else "vi"
    with force_locale(locale):
        text = render_template(f"mail/{template}.{locale}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.lower().startswith("subject:"):
        raise ValueError(f"mail template {template}.{locale} must start with 'Subject:'")
    return first.split(":", 1)[1].strip(), body.lstrip("\n")


def send_mail(to: str, template: str, locale: str = "vi", **context) -> EmailMessage:
    subject, body = render_mail(template, locale, **context)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="cholangnghe.vn")
    message.set_content(body)
    if current_app.config.get("MAIL_SERVER"):
        _send_smtp(message)
    else:
        _write_outbox(message)
    return message


def outbox_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "outbox"


def _write_outbox(message: EmailMessage) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    log.info("mail to %s written to outbox: %s", message["To"], message["Subject"])


def _send_smtp(message: EmailMessage) -> None:
    cfg = current_app.config
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def read_outbox() -> list[EmailMessage]:
    """The messages in the outbox, oldest first (for tests and the dev console)."""
    from email import policy
    from email.parser import BytesParser

    folder = outbox_dir()
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]
