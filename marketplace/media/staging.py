"""The image work of one request: its budget, and its files written only with its transaction.

One :class:`RequestMedia` per request (per ``flask`` command outside requests), kept on ``flask.g``:

* **Budget.** Every image a request accepts is counted from its header, before any pixel is decoded:
  ``MAX_IMAGES_PER_REQUEST`` files and ``MAX_IMAGE_PIXELS_PER_REQUEST`` decoded pixels (a JPEG counts at the
  reduced size it is decoded at). The photo form, the bulk import and the API check every file's header
  first (``images.inspect_all``) and are refused as a whole, before any decoding, when the sum is over.
* **All or nothing.** Derivatives of uploads are *staged* in memory (``stage``) and written to storage just
  before the request's transaction commits (``before_commit``); if the commit or anything before it fails
  (``after_rollback``) the files this request created are deleted again. A refused or failed request leaves
  no file behind; a worker killed before the commit has written none.

Content-addressed keys: a file that already existed (the same picture stored for another row) is never
counted as this request's, so it is never deleted by a rollback.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context
from flask_babel import gettext as _

from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.media.storage import get_storage

log = logging.getLogger(__name__)
_G_KEY = "_media_request"


class ImageBudgetExceeded(InvalidInput):
    """The request asks for more image work than one request may do (413; nothing decoded, nothing stored)."""

    status_code = 413

    def __init__(self, message: str, code: str, field: str | None = "photos"):
        super().__init__(message, field=field)
        self.code = code


@dataclass
class RequestMedia:
    max_files: int
    max_pixels: int
    files: int = 0
    pixels: int = 0
    counted: set[str] = field(default_factory=set)  # content digests already counted
    pending: dict[str, bytes] = field(default_factory=dict)  # storage key -> bytes, written at commit
    written: list[str] = field(default_factory=list)  # keys this request created, not yet committed
    prepared: dict[str, Any] = field(default_factory=dict)  # images.PreparedImage by prefix:digest
    headers: dict[int, tuple] = field(default_factory=dict)  # id(bytes) -> (bytes, images.ImageHeader)

    def reserve(self, digest: str, pixels: int, field_name: str | None = "photos") -> None:
        """Count one image (once per content) against the budget; raise before it is decoded when over."""
        if digest in self.counted:
            return
        if self.files + 1 > self.max_files:
            raise too_many_files(self.max_files, field_name)
        if self.pixels + pixels > self.max_pixels:
            raise too_many_pixels_in_request(self.max_pixels, field_name)
        self.counted.add(digest)
        self.files += 1
        self.pixels += pixels

    def check_totals(self, files: int, pixels: int, field_name: str | None = "photos") -> None:
        """Refuse a whole batch (counted from headers) that would go over the budget."""
        if self.files + files > self.max_files:
            raise too_many_files(self.max_files, field_name)
        if self.pixels + pixels > self.max_pixels:
            raise too_many_pixels_in_request(self.max_pixels, field_name)


def too_many_files(limit: int, field_name: str | None = "photos") -> ImageBudgetExceeded:
    return ImageBudgetExceeded(
        _("Quá nhiều ảnh trong một lần gửi: tối đa %(n)s ảnh (MAX_IMAGES_PER_REQUEST). Hãy chia thành nhiều lần.",
          n=limit),
        "too_many_images", field_name)


def too_many_pixels_in_request(limit: int, field_name: str | None = "photos") -> ImageBudgetExceeded:
    return ImageBudgetExceeded(
        _("Tổng kích thước ảnh trong một lần gửi quá lớn: tối đa %(mp)s megapixel (MAX_IMAGE_PIXELS_PER_REQUEST). "
          "Hãy gửi ít ảnh hơn mỗi lần hoặc giảm độ phân giải.", mp=limit // 1_000_000),
        "too_many_pixels_in_request", field_name)


def current() -> RequestMedia:
    """This request's (or command's) image work, created on first use."""
    state = g.get(_G_KEY)
    if state is None:
        cfg = current_app.config
        state = RequestMedia(max_files=int(cfg["MAX_IMAGES_PER_REQUEST"]),
                             max_pixels=int(cfg["MAX_IMAGE_PIXELS_PER_REQUEST"]))
        setattr(g, _G_KEY, state)
    return state


def stage(files: dict[str, bytes]) -> None:
    """Store these files with the current transaction: written just before it commits, gone if it fails."""
    storage = get_storage()
    pending = current().pending
    for key, payload in files.items():
        if key not in pending and not storage.exists(key):
            pending[key] = payload


def is_staged_or_stored(key: str) -> bool:
    state = g.get(_G_KEY) if has_app_context() else None
    return (state is not None and key in state.pending) or get_storage().exists(key)


# --- the session's transaction decides --------------------------------------------------------------

def _state() -> RequestMedia | None:
    return g.get(_G_KEY) if has_app_context() else None


def _write_pending(session) -> None:
    state = _state()
    if state is None or not state.pending:
        return
    storage = get_storage()
    pending, state.pending = state.pending, {}
    for key, payload in pending.items():
        if storage.exists(key):
            continue  # the same picture, stored meanwhile for another row: not ours to delete
        state.written.append(key)
        storage.save(key, payload)


def _committed(session) -> None:
    state = _state()
    if state is not None:
        state.written.clear()


def _rolled_back(session) -> None:
    state = _state()
    if state is None:
        return
    state.pending.clear()
    if not state.written:
        return
    written, state.written = state.written, []
    storage = get_storage()
    for key in written:
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover - a file that cannot be removed is logged, never raised
            log.exception("could not delete %s after a rollback", key)


def _reset() -> None:
    if has_app_context():
        g.pop(_G_KEY, None)


def init_app(app: Flask) -> None:
    for name, fn in (("before_commit", _write_pending), ("after_commit", _committed),
                     ("after_rollback", _rolled_back)):
        if not sa.event.contains(db.session, name, fn):
            sa.event.listen(db.session, name, fn)
    app.before_request(_reset)

    @app.teardown_request
    def _forget(exc):
        # The unit of work has committed or rolled back by now: anything still listed as written belongs to
        # no committed transaction (a failure outside the view), so it goes; staged files are dropped.
        _rolled_back(None)
        _reset()
