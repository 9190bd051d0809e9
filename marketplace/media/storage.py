"""Storage interface for image files: ``LocalStorage`` (a folder, the embedded default) or ``S3Storage``
(an S3-compatible bucket, ``MEDIA_STORAGE=s3``).

Keys are built by the code (content hashes), never taken from a user's filename. Derivatives are public and
immutable (a key names its content: a changed picture gets a new key), served with a one-year cache lifetime.
Originals (keys under ``originals/``, saved with ``private=True``) are never public: the local storage keeps
them outside ``MEDIA_ROOT`` (``MEDIA_PRIVATE_ROOT``, which a web server serving ``MEDIA_ROOT`` never sees), the
bucket stores them with a private ACL, and the ``/media/`` route refuses them.

The interface: ``save(key, data, private=False)``, ``exists(key)``, ``open(key)`` (bytes), ``delete(key)``,
``public_url(key)`` (the bucket's address when ``MEDIA_PUBLIC_URL`` is set, else ``None``: served by the site).
"""
from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

from flask import current_app, url_for

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9/_-]*\.(webp|jpg|png)$")
ORIGINALS_PREFIX = "originals/"
EVIDENCE_PREFIX = ORIGINALS_PREFIX + "ev/"  # claims' evidence files in the bucket (media/evidence.py)
ONE_YEAR = 365 * 24 * 3600
PUBLIC_CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"
PRIVATE_CACHE_CONTROL = "private, no-store"
MIMETYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}


def valid_key(key: str) -> bool:
    return bool(KEY_RE.match(key)) and ".." not in key and "//" not in key


def check_key(key: str) -> str:
    if not valid_key(key):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def is_private(key: str) -> bool:
    return key.startswith(ORIGINALS_PREFIX)


def mimetype(key: str) -> str:
    return MIMETYPES[key.rsplit(".", 1)[1]]


class LocalStorage:
    kind = "local"

    def __init__(self, root: str | os.PathLike, base_url: str = "/media/", private_root: str | os.PathLike | None = None):
        self.root = Path(root)
        self.base_url = base_url
        self.private_root = Path(private_root) if private_root else self.root.parent / (self.root.name + "-private")

    def _path(self, key: str) -> Path:
        check_key(key)
        return (self.private_root if is_private(key) else self.root) / key

    def save(self, key: str, data: bytes, private: bool = False) -> None:
        if private != is_private(key):
            raise ValueError(f"originals (and only they) are private: {key!r}")
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

    @property
    def roots(self) -> tuple[Path, Path]:
        return self.root, self.private_root

    def keys(self):
        """Every stored key, originals included (backups)."""
        for root in (self.root, self.private_root):
            if root.is_dir():
                for path in sorted(root.rglob("*")):
                    key = path.relative_to(root).as_posix()
                    if path.is_file() and valid_key(key):
                        yield key

    def public_url(self, key: str) -> str | None:
        return None


def _not_found(exc) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound")


def object_exists(client, bucket: str, name: str) -> bool:
    """Whether the bucket holds the object (a missing one is False; any other error is raised)."""
    try:
        client.head_object(Bucket=bucket, Key=name)
    except client.exceptions.ClientError as exc:
        if _not_found(exc):
            return False
        raise
    return True


def read_object(client, bucket: str, name: str) -> bytes:
    """The object's bytes; ``FileNotFoundError`` when the bucket does not hold it."""
    try:
        return client.get_object(Bucket=bucket, Key=name)["Body"].read()
    except client.exceptions.ClientError as exc:
        if _not_found(exc):
            raise FileNotFoundError(name) from None
        raise


class S3Storage:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2, DigitalOcean Spaces; the tests: moto's server).

    Derivatives are written with ``Cache-Control: public, max-age=<one year>, immutable``, their content type
    and (``S3_PUBLIC_ACL``) a ``public-read`` ACL; originals with a ``private`` ACL and ``no-store``. A bucket
    with ACLs switched off needs ``S3_PUBLIC_ACL=false`` and a bucket policy that makes every key public except
    ``originals/*`` (README, "Production layout")."""

    kind = "s3"

    def __init__(self, client, bucket: str, public_base_url: str | None = None, public_acl: bool = True):
        self.client = client
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") + "/" if public_base_url else None
        self.public_acl = public_acl

    def save(self, key: str, data: bytes, private: bool = False) -> None:
        check_key(key)
        if private != is_private(key):
            raise ValueError(f"originals (and only they) are private: {key!r}")
        extra = {"ContentType": mimetype(key),
                 "CacheControl": PRIVATE_CACHE_CONTROL if private else PUBLIC_CACHE_CONTROL}
        if private:
            extra["ACL"] = "private"
        elif self.public_acl:
            extra["ACL"] = "public-read"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def exists(self, key: str) -> bool:
        return valid_key(key) and object_exists(self.client, self.bucket, key)

    def open(self, key: str) -> bytes:
        return read_object(self.client, self.bucket, check_key(key))

    def delete(self, key: str) -> None:
        check_key(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def keys(self):
        """Every photo key in the bucket, originals included (backups); evidence files are not photos."""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                if valid_key(item["Key"]) and not item["Key"].startswith(EVIDENCE_PREFIX):
                    yield item["Key"]

    def public_url(self, key: str) -> str | None:
        if self.public_base_url is None or is_private(key):
            return None
        return self.public_base_url + key


def make_s3_client(config):
    # boto3 is imported here only: it is heavy to import and needed only with MEDIA_STORAGE=s3.
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client(
        "s3", endpoint_url=config["S3_ENDPOINT_URL"], region_name=config["S3_REGION"],
        aws_access_key_id=config["S3_ACCESS_KEY_ID"], aws_secret_access_key=config["S3_SECRET_ACCESS_KEY"],
        config=BotoConfig(s3={"addressing_style": config["S3_ADDRESSING_STYLE"]}, retries={"max_attempts": 3},
                          connect_timeout=5, read_timeout=30, signature_version="s3v4"))


def make_storage(config) -> LocalStorage | S3Storage:
    if config["MEDIA_STORAGE"] == "s3":
        return S3Storage(make_s3_client(config), config["S3_BUCKET"], config["MEDIA_PUBLIC_URL"],
                         config["S3_PUBLIC_ACL"])
    if config["MEDIA_STORAGE"] != "local":
        raise RuntimeError(f"MEDIA_STORAGE must be local or s3, not {config['MEDIA_STORAGE']!r}")
    return LocalStorage(config["MEDIA_ROOT"], config["MEDIA_URL"], config["MEDIA_PRIVATE_ROOT"])


_STORAGE_SETTINGS = ("MEDIA_STORAGE", "MEDIA_ROOT", "MEDIA_PRIVATE_ROOT", "MEDIA_URL", "MEDIA_PUBLIC_URL",
                     "S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_PUBLIC_ACL")
_lock = threading.Lock()


def get_storage() -> LocalStorage | S3Storage:
    """The app's storage, made once per app (and again when a test changes its settings)."""
    config = current_app.config
    settings = tuple(config[name] for name in _STORAGE_SETTINGS)
    cached = current_app.extensions.get("marketplace_storage")
    if cached is None or cached[0] != settings:
        with _lock:
            cached = current_app.extensions.get("marketplace_storage")
            if cached is None or cached[0] != settings:
                cached = current_app.extensions["marketplace_storage"] = (settings, make_storage(config))
    return cached[1]


def derivative_key(base_key: str, size: int, fmt: str) -> str:
    return f"{base_key}-{size}.{fmt}"


def available_sizes(image) -> list[int]:
    """Derivative widths made for an image: the configured sizes up to its long side."""
    sizes = current_app.config["MEDIA_SIZES"]
    long_side = max(image.width, image.height)
    made = [s for s in sizes if s <= long_side]
    return made or [sizes[0]]


def media_url(key: str) -> str:
    """Where a browser fetches a derivative: straight from the bucket's (or a CDN's) public address when
    ``MEDIA_PUBLIC_URL`` is set, else through the site's ``/media/`` route."""
    base = current_app.config["MEDIA_PUBLIC_URL"]
    if base and not is_private(key):
        return base.rstrip("/") + "/" + key
    return url_for("media.serve", key=key)


def image_url(image, size: int = 800, fmt: str = "jpg") -> str:
    sizes = available_sizes(image)
    chosen = min((s for s in sizes if s >= size), default=sizes[-1])
    return media_url(derivative_key(image.storage_key, chosen, fmt))


def image_srcset(image, fmt: str = "webp") -> str:
    return ", ".join(f"{media_url(derivative_key(image.storage_key, s, fmt))} {s}w" for s in available_sizes(image))
