"""Each job kind on a real Redis with a real rq worker: queued with the transaction, run by the worker,
idempotent (a second run changes nothing), retried on failure, failed ones listed for the admin."""
from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from marketplace.accounts.models import Role
from marketplace.catalog.models import ImportRun, Product, ProductImage, ProductStatus
from marketplace.core import jobs, uow
from marketplace.core.outbox import OutboxMail, queue_mail, read_outbox_folder
from marketplace.extensions import db
from marketplace.media.models import PendingImage
from marketplace.officials.models import StatSnapshot
from marketplace.search import maintenance
from tests.factories import make_product, make_user
from tests.seller.imagegen import jpeg_bytes
from tests.seller.test_seller_import import DESC, PHOTOS, make_csv, make_zip, post_import


def media_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file())


def queued(name: str = jobs.DEFAULT_QUEUE) -> int:
    return jobs.queue(name).count


# --- photo derivatives ----------------------------------------------------------------------------

def test_upload_answers_before_the_derivatives_then_the_worker_makes_them(app, seller, shop, work):
    product = make_product(shop=shop)
    db.session.commit()
    response = seller.post(f"/seller/products/{product.id}/photos", content_type="multipart/form-data",
                           data={"photos": [(io.BytesIO(jpeg_bytes((2400, 1800))), "a.jpg")]})
    assert response.status_code == 303
    image = db.session.scalars(sa.select(ProductImage).where(ProductImage.product_id == product.id)).one()
    assert image.processing and image.storage_key.startswith("pending:")
    assert (image.width, image.height) == (1600, 1200)  # the size it will have, from the header
    assert media_files(app) == []  # nothing decoded in the request
    assert db.session.get(PendingImage, image.id) is not None
    assert queued() == 1
    page = seller.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert "Đang xử lý ảnh" in page and "/media/p/" not in page
    assert "Đang xử lý ảnh" in seller.get(f"/seller/products/{product.id}/photos").get_data(as_text=True)

    assert work()
    db.session.expire_all()
    image = db.session.get(ProductImage, image.id)
    assert not image.processing and image.storage_key.startswith("p/")
    assert (image.width, image.height) == (1600, 1200)
    assert db.session.get(PendingImage, image.id) is None
    files = media_files(app)
    assert len(files) == 6  # 320/800/1600 × webp/jpg
    page = seller.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert "Đang xử lý ảnh" not in page and f"/media/{image.storage_key}-800.jpg" in page

    # idempotent: the same job again changes nothing
    jobs.enqueue("media.derivatives", image.id)
    db.session.commit()
    assert work()
    db.session.expire_all()
    assert db.session.get(ProductImage, image.id).storage_key == image.storage_key
    assert media_files(app) == files


def test_a_rolled_back_upload_queues_nothing(app, shop, artisan):
    product = make_product(shop=shop)
    db.session.commit()
    from marketplace.catalog import services  # noqa: PLC0415  (tests may import late)

    with pytest.raises(RuntimeError), uow.transaction():
        services.add_photo(artisan, product, jpeg_bytes())
        raise RuntimeError("the request failed after the photo")
    assert queued() == 0
    assert db.session.scalar(sa.select(sa.func.count(PendingImage.image_id))) == 0


def test_sweep_requeues_photos_left_pending(app, seller, shop, work):
    product = make_product(shop=shop)
    db.session.commit()
    seller.post(f"/seller/products/{product.id}/photos", content_type="multipart/form-data",
                data={"photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]})
    jobs.queue().empty()  # the job is lost (e.g. Redis flushed)
    pending = db.session.scalars(sa.select(PendingImage)).one()
    pending.created_at = pending.created_at.replace(year=2020)
    db.session.commit()
    jobs.enqueue("media.sweep")
    assert work()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(PendingImage.image_id))) == 0
    assert not db.session.scalars(sa.select(ProductImage)).one().processing


# --- mail ---------------------------------------------------------------------------------------------

def test_mail_is_queued_with_the_commit_and_sent_once_by_the_worker(app, work):
    with uow.transaction():
        queue_mail(db.session, "khach@example.vn", "order_placed", "vi", order_number="CLN-1",
                   shop_name="Gốm", total="350.000 ₫", url="http://x/", lines=[])
    assert read_outbox_folder() == []  # not sent by the web process
    assert queued() == 1
    assert work()
    assert len(read_outbox_folder()) == 1
    assert db.session.scalar(sa.select(OutboxMail.sent_at)) is not None
    jobs.enqueue("mail.dispatch", with_transaction=False)
    assert work()
    assert len(read_outbox_folder()) == 1  # idempotent: nothing sent twice


# --- scheduled jobs: reconcile, stats snapshot, search maintenance --------------------------------

def test_reconcile_job_runs_on_the_worker(app, work):
    job_id = jobs.enqueue("payments.reconcile", with_transaction=False)
    assert work()
    result = jobs.queue().fetch_job(job_id).return_value()
    assert result == {"paid": 0, "released": 0, "unpaid": 0, "refunds": 0, "errors": 0}
    job_id = jobs.enqueue("payments.reconcile", with_transaction=False)
    assert work()
    assert jobs.queue().fetch_job(job_id).return_value() == result


def test_stats_snapshot_job_is_idempotent(app, work):
    jobs.enqueue("officials.snapshot", with_transaction=False)
    assert work()
    rows = db.session.execute(sa.select(StatSnapshot.month, StatSnapshot.indicator_id, StatSnapshot.value)).all()
    assert rows
    jobs.enqueue("officials.snapshot", with_transaction=False)
    assert work()
    db.session.expire_all()
    again = db.session.execute(sa.select(StatSnapshot.month, StatSnapshot.indicator_id, StatSnapshot.value)).all()
    assert sorted(again) == sorted(rows)


def test_search_maintenance_rebuilds_a_stale_index_once(app, work):
    make_product(title_vi="Bình gốm men lam")
    db.session.commit()
    maintenance.reindex_all()
    make_product(title_vi="Nón lá Chuông")
    db.session.commit()
    maintenance.mark_dirty([999_999])  # a pending update left by a writer that found the lock busy
    first = jobs.enqueue("search.maintain", with_transaction=False)
    assert work()
    assert maintenance.index_is_fresh() and maintenance.dirty_count() == 0
    assert jobs.queue().fetch_job(first).return_value()["applied"] >= 1
    second = jobs.enqueue("search.maintain", with_transaction=False)
    assert work()
    assert jobs.queue().fetch_job(second).return_value() == {"applied": 0, "rebuilt": None}


def test_the_schedule_is_enqueued_by_one_cron_scheduler(app):
    names = {spec.name for spec, _every, _cron in jobs.scheduled_jobs(app)}
    assert names == {"payments.reconcile", "mail.dispatch", "search.maintain", "media.sweep", "officials.snapshot",
                     "officials.verify_aggregates", "shops.digest"}
    leader, other = jobs.build_cron(app), jobs.build_cron(app)
    enqueued = leader.enqueue_jobs()
    assert {j.name for j in enqueued} == names - {"officials.snapshot", "officials.verify_aggregates",
                                                  "shops.digest"}  # crontab ones wait
    assert other.enqueue_jobs() == []  # not the leader: keeps time, enqueues nothing
    assert queued() == len(enqueued)


# --- bulk import ----------------------------------------------------------------------------------

ROWS = [
    {"product_ref": "A", "title_vi": "Bình men lam", "description_vi": DESC, "price": "350.000", "stock": "5",
     "photos": "a1.jpg", "publish": "có"},
    {"product_ref": "B", "title_vi": "Đĩa sơn mài", "description_vi": DESC, "price": "1.200.000", "stock": "1",
     "photos": "a1.jpg", "publish": "có"},  # publishing needs a photo (issue 17)
    {"product_ref": "C", "title_vi": "Nón lá Chuông", "description_vi": DESC, "price": "90.000", "stock": "9"},
]


def shop_products(shop) -> list[Product]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Product).where(Product.shop_id == shop.id).order_by(Product.id)).all()


def test_import_is_queued_shows_progress_and_publishes_at_the_end(app, seller, shop, work):
    response = post_import(seller, make_csv(ROWS), make_zip(PHOTOS))
    assert response.status_code == 303
    run = db.session.scalars(sa.select(ImportRun)).one()
    assert response.headers["Location"].endswith(f"/seller/import/{run.id}")
    assert shop_products(shop) == []
    page = seller.get(f"/seller/import/{run.id}").get_data(as_text=True)
    assert "Đang chờ đến lượt xử lý" in page and 'http-equiv="refresh"' in page
    assert queued(jobs.BULK_QUEUE) == 1

    assert work()
    products = shop_products(shop)
    assert [p.title_vi for p in products] == ["Bình men lam", "Đĩa sơn mài", "Nón lá Chuông"]
    assert [p.status for p in products] == [ProductStatus.ACTIVE, ProductStatus.ACTIVE, ProductStatus.DRAFT]
    assert len(products[0].images) == 1 and not products[0].images[0].processing
    run = db.session.get(ImportRun, run.id)
    assert (run.status, run.done_products, run.total_products, run.photos) == (ImportRun.DONE, 3, 3, 2)
    assert run.csv_data is None and run.zip_data is None
    page = seller.get(f"/seller/import/{run.id}").get_data(as_text=True)
    assert "Đã nhập 3 sản phẩm" in page and 'http-equiv="refresh"' not in page

    jobs.enqueue("catalog.import", run.id)  # idempotent: a second run creates nothing
    db.session.commit()
    assert work()
    assert len(shop_products(shop)) == 3


def test_a_failed_import_resumes_from_the_last_chunk_and_publishes_nothing_before(app, seller, shop, work,
                                                                                   monkeypatch):
    from marketplace.catalog import importer, services  # noqa: PLC0415  (tests may import late)

    monkeypatch.setattr(importer, "CHUNK", 1)
    real_create = services.create_product
    calls = itertools.count()

    def create_failing_once(*args, **kw):
        if next(calls) == 1:
            raise RuntimeError("worker lost the database")
        return real_create(*args, **kw)

    monkeypatch.setattr(services, "create_product", create_failing_once)
    post_import(seller, make_csv(ROWS), make_zip(PHOTOS))
    run = db.session.scalars(sa.select(ImportRun)).one()
    work()
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert (run.status, run.done_products) == (ImportRun.FAILED, 1)
    assert "worker lost the database" in run.message
    products = shop_products(shop)
    assert [(p.title_vi, p.status) for p in products] == [("Bình men lam", ProductStatus.DRAFT)]  # not on sale yet
    page = seller.get(f"/seller/import/{run.id}").get_data(as_text=True)
    assert "Tiếp tục nhập" in page and "1/3" in page

    assert seller.post(f"/seller/import/{run.id}/resume").status_code == 303
    assert work()
    products = shop_products(shop)
    assert [p.title_vi for p in products] == ["Bình men lam", "Đĩa sơn mài", "Nón lá Chuông"]  # none twice
    assert [p.status for p in products] == [ProductStatus.ACTIVE, ProductStatus.ACTIVE, ProductStatus.DRAFT]
    db.session.expire_all()
    assert db.session.get(ImportRun, run.id).status == ImportRun.DONE


def test_all_or_nothing_import_with_a_bad_row_creates_nothing(app, seller, shop, work):
    rows = [*ROWS, {"product_ref": "D", "title_vi": "", "description_vi": DESC, "price": "abc"}]
    post_import(seller, make_csv(rows), make_zip(PHOTOS), all_or_nothing=True)
    run = db.session.scalars(sa.select(ImportRun)).one()
    assert work()
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.status == ImportRun.REFUSED and shop_products(shop) == []
    page = seller.get(f"/seller/import/{run.id}").get_data(as_text=True)
    assert "Chưa nhập gì" in page and "price" in page


def test_a_bad_csv_is_refused_in_the_request_and_nothing_is_queued(app, seller, shop):
    response = post_import(seller, b"\xff\xfe not utf-8")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(ImportRun.id))) == 0 and queued(jobs.BULK_QUEUE) == 0


# --- retries and the failed-job list ----------------------------------------------------------------

ATTEMPTS: list[int] = []


@jobs.job("tests.flaky", timeout=30, retries=2, intervals=(0,))
def flaky(fail_times: int) -> str:
    ATTEMPTS.append(1)
    if len(ATTEMPTS) <= fail_times:
        raise RuntimeError(f"attempt {len(ATTEMPTS)} failed")
    return "ok"


def test_a_failing_job_is_retried_by_its_policy(app, work):
    ATTEMPTS.clear()
    job_id = jobs.enqueue("tests.flaky", 1, with_transaction=False)
    work()
    assert len(ATTEMPTS) == 2
    assert jobs.queue().fetch_job(job_id).return_value() == "ok"
    assert jobs.failed_jobs() == []


def test_failed_jobs_are_listed_for_the_admin_with_retry_and_delete(app, client, login, work):
    ATTEMPTS.clear()
    job_id = jobs.enqueue("tests.flaky", 99, with_transaction=False)
    work()
    assert len(ATTEMPTS) == 3  # the first attempt and two retries
    [failed] = jobs.failed_jobs()
    assert (failed.id, failed.name, failed.args) == (job_id, "tests.flaky", (99,))
    assert "RuntimeError: attempt 3 failed" in failed.error
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "tests.flaky" in page and "RuntimeError: attempt 3 failed" in page and job_id in page

    assert client.post(f"/admin/jobs/{job_id}/retry").status_code == 303
    assert queued() == 1 and jobs.failed_jobs() == []
    work()
    assert [j.id for j in jobs.failed_jobs()] == [job_id]
    assert client.post(f"/admin/jobs/{job_id}/delete").status_code == 303
    assert jobs.failed_jobs() == [] and "Không có việc lỗi nào" in client.get("/admin/jobs").get_data(as_text=True)
    assert client.post(f"/admin/jobs/{job_id}/delete").status_code == 404
    assert client.post("/admin/jobs/no%20such%20job!/retry").status_code == 404
    assert len(FailedJobRegistry(queue=jobs.queue())) == 0


def test_the_failed_job_page_is_for_admins_only(app, client, login, artisan):
    login(client, artisan)
    response = client.get("/admin/jobs")
    assert response.status_code != 200 and "Việc chạy nền" not in response.get_data(as_text=True)
