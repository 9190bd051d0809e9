"""Storage interface for image files. ``LocalStorage`` (a folder) is the embedded default.

Keys are built by the code (content hashes), never taken from a user's filename.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import current_app, url_for

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9/_-]*\.(webp|jpg)$")


class LocalStorage:
    def __init__(self, root: str | os.PathLike, base_url: str = "/media/"):
        self.root = Path(root)
        self.base_url = base_url

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key) or ".." in key:
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return  # content-addressed: same key, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except ValueError:
            return False

    def open(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def path(self, key: str) -> Path:
        return self._path(key)


def get_storage() -> LocalStorage:
    ext = current_app.extensions
    storage = ext.get("marketplace_storage")
    if storage is None or str(storage.root) != current_app.config["MEDIA_ROOT"]:
        storage = LocalStorage(current_app.config["MEDIA_ROOT"], current_app.config["MEDIA_URL"])
        ext["marketplace_storage"] = storage
    return storage


def derivative_key(base_key: str, size: int, fmt: str) -> str:
    return f"{base_key}-{size}.{fmt}"


def available_sizes(image) -> list[int]:
    """Derivative widths made for an image: the configured sizes up to its long side."""
    sizes = current_app.config["MEDIA_SIZES"]
    long_side = max(image.width, image.height)
    made = [s for s in sizes if s <= long_side]
    return made or [sizes[0]]


def image_url(image, size: int = 800, fmt: str = "jpg") -> str:
    sizes = available_sizes(image)
    chosen = min((s for s in sizes if s >= size), default=sizes[-1])
    return url_for("media.serve", key=derivative_key(image.storage_key, chosen, fmt))


def image_srcset(image, fmt: str = "webp") -> str:
    return ", ".join(
        f"{url_for('media.serve', key=derivative_key(image.storage_key, s, fmt))} {s}w" for s in available_sizes(image)
    )
