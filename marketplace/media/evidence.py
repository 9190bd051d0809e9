"""Evidence files of claims (an OCOP certificate, an IP protection's document): a PDF or a photo of the paper.

Private: stored under ``EVIDENCE_ROOT`` (never under ``MEDIA_ROOT``, which a web server may serve as it is, and
never reachable through ``/media``) and served only by views that check who asks (the shop that made the claim
and officials, ``officials/claims.py``). With ``MEDIA_STORAGE=s3`` they are objects of the photos' bucket under
``originals/ev/…`` — the private prefix of the originals (private ACL, ``no-store``; the bucket policy that makes
derivatives public leaves ``originals/*`` out) — so that every instance sees them (``S3EvidenceStore``).

The upload path is the hardened one of the photos:

* a **photo** goes through ``images.inspect`` (JPEG/PNG/WebP allow-list, pixel cap from the header, the
  request's image budget of ``media/staging.py``) and is decoded and re-encoded as one JPEG without metadata
  (EXIF/GPS dropped); the uploaded bytes are never stored;
* a **PDF** must start with the ``%PDF-`` magic bytes, end with ``%%EOF``, fit ``MAX_EVIDENCE_BYTES`` and carry
  no active content (JavaScript, launch actions, embedded files, XFA forms); it is stored as it came and served
  as a download (``Content-Disposition: attachment``, ``nosniff``, sandboxed);
* anything else (SVG, HTML, Office files, archives…) is refused.

Keys are content hashes (``ev/ab/<sha256>.pdf|jpg``), built here, never from a file name. Files are written
with the request's transaction (just before it commits) and removed again if it rolls back, like the photos.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context
from flask_babel import gettext as _
from PIL import Image

from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.media import staging
from marketplace.media.images import ImageRejected, decode, inspect, open_checked
from marketplace.media.storage import get_storage, object_exists, read_object

log = logging.getLogger(__name__)
KEY_RE = re.compile(r"^ev/[0-9a-f]{2}/[0-9a-f]{64}\.(pdf|jpg)$")
ACCEPT = "application/pdf,image/jpeg,image/png,image/webp"
PDF_MAGIC = b"%PDF-"
# Names of PDF objects that run code or carry other files: a certificate needs none of them.
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData)(?![A-Za-z0-9])")
EVIDENCE_LONG_SIDE = 2000
JPEG_QUALITY = 85
_G_KEY = "_evidence_request"


class EvidenceRejected(InvalidInput):
    """Not an acceptable evidence file; ``code`` says why."""

    def __init__(self, message: str, code: str):
        super().__init__(message, field="evidence")
        self.code = code


@dataclass(frozen=True)
class Evidence:
    key: str
    content_type: str
    payload: bytes


class EvidenceStore:
    """A folder of evidence files (content-addressed keys only)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not KEY_RE.match(key or ""):
            raise ValueError(f"invalid evidence key {key!r}")
        return self.root / key

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except ValueError:
            return False

    def open(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    @property
    def roots(self) -> tuple[Path]:
        return (self.root,)

    def keys(self):
        """Every stored key (backups)."""
        if self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                key = path.relative_to(self.root).as_posix()
                if path.is_file() and KEY_RE.match(key):
                    yield key

    def save(self, key: str, data: bytes) -> None:
        path = self.path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except (FileNotFoundError, ValueError):
            pass


class S3EvidenceStore:
    """Evidence files in the photos' bucket (``MEDIA_STORAGE=s3``), as private objects under ``originals/``."""

    PREFIX = "originals/"

    def __init__(self, client, bucket: str):
        self.client = client
        self.bucket = bucket

    def _object(self, key: str) -> str:
        if not KEY_RE.match(key or ""):
            raise ValueError(f"invalid evidence key {key!r}")
        return self.PREFIX + key

    def exists(self, key: str) -> bool:
        return bool(KEY_RE.match(key or "")) and object_exists(self.client, self.bucket, self._object(key))

    def open(self, key: str) -> bytes:
        return read_object(self.client, self.bucket, self._object(key))

    def save(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, ACL="private",
                               ContentType=content_type(key), CacheControl="private, no-store")

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except ValueError:
            pass

    def keys(self):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.PREFIX + "ev/")
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.PREFIX):]


def get_store() -> EvidenceStore | S3EvidenceStore:
    """Where the evidence files are: the bucket with ``MEDIA_STORAGE=s3``, else ``EVIDENCE_ROOT``."""
    if current_app.config["MEDIA_STORAGE"] == "s3":
        return S3EvidenceStore(get_storage().client, current_app.config["S3_BUCKET"])
    return EvidenceStore(current_app.config["EVIDENCE_ROOT"])


def content_type(key: str) -> str:
    return "application/pdf" if key.endswith(".pdf") else "image/jpeg"


# --- checking ---------------------------------------------------------------------------------------

def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceRejected(_("Tệp PDF không hoàn chỉnh (thiếu phần kết thúc). Hãy xuất lại tệp."), "pdf_truncated")
    if PDF_ACTIVE.search(data):
        raise EvidenceRejected(
            _("Tệp PDF có nội dung chạy được (JavaScript, tệp đính kèm, biểu mẫu). Hãy gửi bản quét hoặc ảnh chụp "
              "giấy chứng nhận."), "pdf_active_content")


def _jpeg_of(data: bytes) -> bytes:
    header = inspect(data)  # allow-list and pixel cap from the header: ImageRejected
    staging.current().reserve(header.digest, header.decoded_pixels, "evidence")
    image = open_checked(data)
    try:
        pixels = decode(image, long_side=EVIDENCE_LONG_SIDE)  # fresh pixels, no metadata
    finally:
        image.close()
    if max(pixels.size) > EVIDENCE_LONG_SIDE:
        pixels.thumbnail((EVIDENCE_LONG_SIDE, EVIDENCE_LONG_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def check_evidence(data: bytes) -> Evidence:
    """The stored form of an uploaded evidence file, or ``EvidenceRejected`` (nothing stored)."""
    if not data:
        raise EvidenceRejected(_("Hãy chọn tệp giấy chứng nhận (PDF hoặc ảnh)."), "empty")
    limit = int(current_app.config["MAX_EVIDENCE_BYTES"])
    if len(data) > limit:
        raise EvidenceRejected(_("Tệp quá lớn: tối đa %(mb)s MB.", mb=round(limit / (1024 * 1024), 1)), "too_large")
    if data.startswith(PDF_MAGIC):
        _check_pdf(data)
        payload, ext = data, "pdf"
    else:
        try:
            payload, ext = _jpeg_of(data), "jpg"
        except ImageRejected as exc:
            if exc.code == "not_an_image":
                raise EvidenceRejected(
                    _("Chỉ nhận tệp PDF hoặc ảnh JPEG, PNG, WebP của giấy chứng nhận."), "not_accepted") from None
            raise EvidenceRejected(exc.message, exc.code) from None
    digest = hashlib.sha256(payload).hexdigest()
    key = f"ev/{digest[:2]}/{digest}.{ext}"
    return Evidence(key, content_type(key), payload)


def store_evidence(data: bytes) -> str:
    """Check ``data`` and stage it with the current transaction; returns its key."""
    evidence = check_evidence(data)
    state = _current()
    if not get_store().exists(evidence.key):
        state.pending[evidence.key] = evidence.payload
    return evidence.key


# --- written with the transaction -----------------------------------------------------------------

@dataclass
class _Pending:
    pending: dict[str, bytes] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)


def _current() -> _Pending:
    state = g.get(_G_KEY)
    if state is None:
        state = _Pending()
        setattr(g, _G_KEY, state)
    return state


def _state() -> _Pending | None:
    return g.get(_G_KEY) if has_app_context() else None


def _write_pending(session) -> None:
    state = _state()
    if state is None or not state.pending:
        return
    store = get_store()
    pending, state.pending = state.pending, {}
    for key, payload in pending.items():
        if store.exists(key):
            continue
        state.written.append(key)
        store.save(key, payload)


def _committed(session) -> None:
    state = _state()
    if state is not None:
        state.written.clear()


def _rolled_back(session) -> None:
    state = _state()
    if state is None:
        return
    state.pending.clear()
    written, state.written = state.written, []
    store = get_store()
    for key in written:
        try:
            store.delete(key)
        except OSError:  # pragma: no cover - logged, never raised
            log.exception("could not delete evidence %s after a rollback", key)


def init_app(app: Flask) -> None:
    for name, fn in (("before_commit", _write_pending), ("after_commit", _committed),
                     ("after_rollback", _rolled_back)):
        if not sa.event.contains(db.session, name, fn):
            sa.event.listen(db.session, name, fn)

    @app.teardown_request
    def _forget(exc):
        _rolled_back(None)
        if has_app_context():
            g.pop(_G_KEY, None)
