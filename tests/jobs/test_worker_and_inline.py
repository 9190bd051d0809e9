"""``flask worker`` as operators run it (a subprocess, forking rq worker), and inline mode without Redis."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import ProductImage
from marketplace.core import jobs, uow
from marketplace.core.outbox import queue_mail, read_outbox_folder
from marketplace.extensions import db
from marketplace.media.models import PendingImage
from tests.factories import make_product, make_user
from tests.seller.imagegen import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def media_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file())


@pytest.fixture
def app_overrides():
    return {}  # inline: no REDIS_URL (the class below adds it)


class TestWithRedis:
    @pytest.fixture
    def app_overrides(self, redis_url):
        return {"REDIS_URL": redis_url}

    @pytest.mark.parametrize("fork", [False, True], ids=["simple", "fork"])
    def test_flask_worker_burst_in_a_subprocess_runs_the_queued_jobs(self, app, seller, shop, fork):
        product = make_product(shop=shop)
        db.session.commit()
        seller.post(f"/seller/products/{product.id}/photos", content_type="multipart/form-data",
                    data={"photos": [(io.BytesIO(jpeg_bytes((1200, 900))), "a.jpg")]})
        with uow.transaction():
            queue_mail(db.session, "khach@example.vn", "order_placed", "vi", order_number="CLN-2",
                       shop_name="Gốm", total="90.000 ₫", url="http://x/", lines=[])
        assert jobs.queue().count == 2 and media_files(app) == []
        env = dict(os.environ, MARKETPLACE_ENV="development", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   MARKETPLACE_DATA_DIR=app.config["DATA_DIR"], MEDIA_ROOT=app.config["MEDIA_ROOT"],
                   SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"], REDIS_URL=app.config["REDIS_URL"])
        done = subprocess.run([FLASK, "worker", "--burst", *(["--fork"] if fork else [])], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        db.session.expire_all()
        image = db.session.scalars(sa.select(ProductImage)).one()
        assert not image.processing and len(media_files(app)) == 4  # 320 and 800 (the photo is 1200 wide)
        assert db.session.scalar(sa.select(sa.func.count(PendingImage.image_id))) == 0
        assert len(read_outbox_folder()) == 1
        assert jobs.queue().count == 0 and jobs.failed_jobs() == []


def test_without_redis_everything_runs_inline_as_before(app, seller, shop, runner, client, login):
    assert not jobs.is_async()
    product = make_product(shop=shop)
    db.session.commit()
    response = seller.post(f"/seller/products/{product.id}/photos", content_type="multipart/form-data",
                           data={"photos": [(io.BytesIO(jpeg_bytes((1200, 900))), "a.jpg")]})
    assert response.status_code == 303
    image = db.session.scalars(sa.select(ProductImage)).one()
    assert not image.processing and len(media_files(app)) == 4  # made in the request, as before
    assert db.session.scalar(sa.select(sa.func.count(PendingImage.image_id))) == 0
    assert jobs.enqueue("search.maintain") is None  # inline: ran at once
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
    admin = make_user("admin")
    db.session.commit()
    login(client, admin)
    assert "Chưa cấu hình REDIS_URL" in client.get("/admin/jobs").get_data(as_text=True)


def test_jobs_inline_setting_keeps_the_inline_paths_with_redis(app):
    app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", JOBS_INLINE=True)
    assert not jobs.is_async()
    app.config["JOBS_INLINE"] = False
    assert jobs.is_async()
