"""Backups: the database and the photos, together, in one folder; and restoring them exactly.

``flask backup create DIR`` writes ``DIR/database.sqlite`` (SQLite's online backup API: a consistent copy
while the site keeps serving) or ``DIR/database.dump`` (PostgreSQL: ``pg_dump --format=custom``), plus
``DIR/media/`` (every photo: the public derivatives and the private originals, ``originals/…``),
``DIR/evidence/`` (the claims' private evidence files) and ``DIR/backup.json`` (when, which database, how many
files). The photos and the evidence are read through the storage interface, so with ``MEDIA_STORAGE=s3`` they
are copied out of the bucket (object by object), and without it from ``MEDIA_ROOT``, ``MEDIA_PRIVATE_ROOT`` and
``EVIDENCE_ROOT``.
``flask backup restore DIR`` puts everything back as it was — the database replaced, photos and evidence
added since the backup removed (from the folders or the bucket), changed ones rewritten — and rebuilds the
search index, which is a cache of the database.

A hosted PostgreSQL is covered when ``pg_dump``/``pg_restore`` on the PATH can reach it; a provider's
snapshots and bucket versioning remain the better tools for a large site.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from marketplace.extensions import db
from marketplace.media.evidence import get_store
from marketplace.media.storage import get_storage, is_private
from marketplace.search import reindex_all

backup_cli = AppGroup("backup", help="Back up and restore the database and the photos.")
MANIFEST = "backup.json"


def _pg_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url) -> Path:
    return Path(url.database)


def _files(folder: Path) -> dict[str, Path]:
    """key → file of a backup folder."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _export(store, folder: Path) -> int:
    """Every object of ``store`` (photos or evidence; a folder or the bucket) into ``folder``; how many."""
    count = 0
    for key in store.keys():
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(store.open(key))
        count += 1
    return count


def _import(store, folder: Path, save) -> None:
    """Make ``store`` hold exactly the files of ``folder``: extra objects deleted, the others (re)written. A local
    store's folders are emptied first (whatever lies there, key or not, was not in the backup)."""
    wanted = _files(folder)
    for root in getattr(store, "roots", ()):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
    for key in list(store.keys()):
        if key not in wanted:
            store.delete(key)
    for key, path in wanted.items():
        data = path.read_bytes()
        if store.exists(key):
            if store.open(key) == data:
                continue
            store.delete(key)  # same key, other bytes (a local file changed by hand): written again
        save(store, key, data)


def create_backup(target: Path) -> dict:
    """Write a backup of the database and the photos to ``target`` (created; must be empty)."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()  # no open transaction of ours in the copy
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target / "database.sqlite")
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
        database = "database.sqlite"
    else:
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target / "database.dump"),
                        _pg_dsn(url)], check=True, capture_output=True)
        database = "database.dump"
    files = _export(get_storage(), target / "media")
    evidence_files = _export(get_store(), target / "evidence")
    manifest = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"), "backend": url.get_backend_name(),
                "database": database, "media_files": files, "evidence_files": evidence_files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore_backup(source: Path) -> dict:
    """Replace the database and the photos with the backup in ``source``; rebuild the search index."""
    manifest_path = source / MANIFEST
    if not manifest_path.exists():
        raise click.ClickException(f"{source} holds no backup ({MANIFEST} missing)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["backend"] != url.get_backend_name():
        raise click.ClickException(f"the backup is of {manifest['backend']}, the site runs on {url.get_backend_name()}")
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database
    if manifest["backend"] == "sqlite":
        backup = sqlite3.connect(source / manifest["database"])
        live = sqlite3.connect(_sqlite_path(url))
        with live:
            backup.backup(live)
        live.close()
        backup.close()
    else:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", _pg_dsn(url), str(source / manifest["database"])], check=True,
                       capture_output=True)
    _import(get_storage(), source / "media", lambda store, key, data: store.save(key, data, private=is_private(key)))
    _import(get_store(), source / "evidence", lambda store, key, data: store.save(key, data))
    manifest["indexed_products"] = reindex_all()
    return manifest


@backup_cli.command("create")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def create_command(target: Path) -> None:
    """Back up the database and the photos into TARGET (a new or empty folder)."""
    manifest = create_backup(target)
    click.echo(f"Đã sao lưu vào {target}: {manifest['database']}, {manifest['media_files']} tệp ảnh. "
               f"(backed up: {manifest['database']}, {manifest['media_files']} media files)")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database and the photos with the backup in SOURCE."""
    if not yes:
        click.confirm("Ghi đè dữ liệu hiện tại bằng bản sao lưu? (replace the current data?)", abort=True)
    manifest = restore_backup(source)
    click.echo(f"Đã khôi phục bản sao lưu lúc {manifest['created_at']}; chỉ mục tìm kiếm: "
               f"{manifest['indexed_products']} sản phẩm. (restored)")
