"""Restore drill: back up, change the data and the photos, restore — everything is exactly as at the backup."""
from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from marketplace.catalog.models import Product, Variant
from marketplace.extensions import db
from tests.factories import make_product


def _snapshot(app) -> dict:
    """Every row of the tables the drill touches, and every photo's bytes."""
    with db.engine.connect() as conn:
        rows = {t: sorted(tuple(r) for r in conn.execute(sa.select(db.metadata.tables[t])).all())
                for t in ("products", "variants", "shops", "craft_villages", "users")}
    media = Path(app.config["MEDIA_ROOT"])
    files = {str(p.relative_to(media)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(media.rglob("*")) if p.is_file()}
    return {"rows": rows, "files": files}


def test_backup_then_restore_gives_back_exactly_the_backed_up_state(app, runner, tmp_path):
    product_id = make_product(title_vi="Bình hút lộc men rạn").id
    db.session.commit()
    media = Path(app.config["MEDIA_ROOT"])
    (media / "products").mkdir(parents=True, exist_ok=True)
    (media / "products" / "a.jpg").write_bytes(b"\xff\xd8 first photo")
    before = _snapshot(app)

    result = runner.invoke(args=["backup", "create", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bk" / "backup.json").exists()

    # the day after: a title changed, a product added, stock sold, a photo replaced, another added
    db.session.get(Product, product_id).title_vi = "Đã sửa"
    make_product(title_vi="Sản phẩm mới")
    db.session.execute(sa.update(Variant).values(stock=0))
    db.session.commit()
    (media / "products" / "a.jpg").write_bytes(b"changed")
    (media / "products" / "b.jpg").write_bytes(b"new photo")
    assert _snapshot(app) != before

    result = runner.invoke(args=["backup", "restore", "--yes", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _snapshot(app) == before
    assert db.session.get(Product, product_id).title_vi == "Bình hút lộc men rạn"


def test_backup_refuses_a_non_empty_folder_and_restore_a_folder_without_backup(app, runner, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert runner.invoke(args=["backup", "create", str(tmp_path / "full")]).exit_code != 0
    assert runner.invoke(args=["backup", "restore", "--yes", str(tmp_path / "full")]).exit_code != 0
