"""Backups: the database and the photos, together, in one folder; and restoring them exactly.

``flask backup create DIR`` writes ``DIR/database.sqlite`` (SQLite's online backup API: a consistent copy
while the site keeps serving) or ``DIR/database.dump`` (PostgreSQL: ``pg_dump --format=custom``), plus
``DIR/media/`` (a copy of the photo folder), ``DIR/evidence/`` (the claims' private evidence files, ``EVIDENCE_ROOT``)
and ``DIR/backup.json`` (when, which database, how many files).
``flask backup restore DIR`` puts both back as they were — the database replaced, photos added since the
backup removed — and rebuilds the search index, which is a cache of the database.

With photos in object storage or a hosted PostgreSQL, use the provider's snapshots instead; this command
covers the embedded default and a PostgreSQL reachable with ``pg_dump``/``pg_restore`` on the PATH.
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
from marketplace.search import reindex_all

backup_cli = AppGroup("backup", help="Back up and restore the database and the photos.")
MANIFEST = "backup.json"


def _pg_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url) -> Path:
    return Path(url.database)


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
    media = Path(current_app.config["MEDIA_ROOT"])
    files = 0
    if media.exists():
        shutil.copytree(media, target / "media")
        files = sum(1 for p in (target / "media").rglob("*") if p.is_file())
    evidence = Path(current_app.config["EVIDENCE_ROOT"])  # claims' private evidence files go along
    evidence_files = 0
    if evidence.exists():
        shutil.copytree(evidence, target / "evidence")
        evidence_files = sum(1 for p in (target / "evidence").rglob("*") if p.is_file())
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
    media = Path(current_app.config["MEDIA_ROOT"])
    if media.exists():
        shutil.rmtree(media)
    if (source / "media").exists():
        shutil.copytree(source / "media", media)
    else:
        media.mkdir(parents=True, exist_ok=True)
    evidence = Path(current_app.config["EVIDENCE_ROOT"])
    if evidence.exists():
        shutil.rmtree(evidence)
    if (source / "evidence").exists():
        shutil.copytree(source / "evidence", evidence)
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
