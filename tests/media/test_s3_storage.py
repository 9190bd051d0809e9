"""MEDIA_STORAGE=s3: photos in an S3-compatible bucket (moto's server, started here on a free port).

Derivatives are public, immutable (content-hashed keys, a one-year Cache-Control) and served through the site
or straight from the bucket's address (MEDIA_PUBLIC_URL); originals are private in the bucket and never served
by the site; a refused upload leaves nothing in the bucket."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests

from marketplace.catalog.models import ProductImage
from marketplace.extensions import db
from marketplace.media.storage import ONE_YEAR, LocalStorage, S3Storage, get_storage, image_url
from tests.factories import make_product
from tests.s3server import LocalS3
from tests.seller.imagegen import jpeg_bytes, truncated_jpeg


@pytest.fixture(scope="module")
def s3():
    server = LocalS3().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(s3):
    return s3.new_bucket()


@pytest.fixture
def app_overrides(s3, bucket):
    return s3.settings(bucket)


def keys(s3, bucket) -> list[str]:
    return sorted(o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", []))


def upload(client, product_id, *files):
    data = {"photos": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/seller/products/{product_id}/photos", data=data, content_type="multipart/form-data")


def test_upload_lands_in_the_bucket_public_immutable_and_served_by_the_site(app, seller, shop, s3, bucket):
    assert isinstance(get_storage(), S3Storage)
    product = make_product(shop=shop)
    db.session.commit()
    assert upload(seller, product.id, (jpeg_bytes((900, 600)), "IMG_1.JPG")).status_code == 303
    image = db.session.scalars(db.select(ProductImage)).one()
    stored = keys(s3, bucket)
    # 900 px long side: the 320 and 800 sizes, each as WebP and JPEG, under the content-hash key
    assert stored == sorted(f"{image.storage_key}-{s}.{f}" for s in (320, 800) for f in ("jpg", "webp"))
    assert not list(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg"))  # nothing on the local disk
    head = s3.client().head_object(Bucket=bucket, Key=f"{image.storage_key}-800.webp")
    assert head["CacheControl"] == f"public, max-age={ONE_YEAR}, immutable"
    assert head["ContentType"] == "image/webp"
    # public: an anonymous GET straight from the bucket works
    direct = requests.get(f"{s3.endpoint}/{bucket}/{image.storage_key}-800.jpg", timeout=10)
    assert direct.status_code == 200 and direct.content[:3] == b"\xff\xd8\xff"

    with app.test_request_context():
        url = image_url(image, 800)
    assert url.startswith("/media/")  # MEDIA_PUBLIC_URL unset: through the site
    served = seller.get(url)
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.data == direct.content
    assert served.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}, immutable"
    again = seller.get(url, headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    assert seller.get(url.replace("-800.jpg", "-1600.jpg")).status_code == 404


def test_refused_upload_leaves_the_bucket_empty(app, seller, shop, s3, bucket):
    product = make_product(shop=shop)
    db.session.commit()
    response = upload(seller, product.id, (jpeg_bytes((500, 400)), "ok.jpg"), (truncated_jpeg(), "broken.jpg"))
    # one refused file refuses the whole sending: the form again, 400, saying so and naming the broken file
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Chưa lưu ảnh nào trong lần gửi này." in page and "broken.jpg" in page and "thiếu dữ liệu" in page
    assert db.session.scalars(db.select(ProductImage)).first() is None
    assert keys(s3, bucket) == []


def test_originals_are_private_and_never_served(app, client, s3, bucket):
    storage = get_storage()
    storage.save("originals/ab/abcdef.jpg", b"\xff\xd8\xff original bytes", private=True)
    assert storage.exists("originals/ab/abcdef.jpg")
    assert storage.open("originals/ab/abcdef.jpg") == b"\xff\xd8\xff original bytes"
    acl = s3.client().get_object_acl(Bucket=bucket, Key="originals/ab/abcdef.jpg")
    assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in acl["Grants"])
    assert requests.get(f"{s3.endpoint}/{bucket}/originals/ab/abcdef.jpg", timeout=10).status_code == 403
    assert client.get("/media/originals/ab/abcdef.jpg").status_code == 404
    with pytest.raises(ValueError):
        storage.save("originals/ab/other.jpg", b"x")  # an original is never written public
    with pytest.raises(ValueError):
        storage.save("p/ab/other-320.jpg", b"x", private=True)
    storage.delete("originals/ab/abcdef.jpg")
    assert not storage.exists("originals/ab/abcdef.jpg")
    with pytest.raises(FileNotFoundError):
        storage.open("originals/ab/abcdef.jpg")


@pytest.mark.parametrize(("key", "status"), [("../etc/passwd.jpg", 404), ("p/ab/x.svg", 404), ("P/AB/x.jpg", 404),
                                             ("p//x.jpg", 404), ("p/ab/missing-320.jpg", 404),
                                             ("p/ab/x.jpg%00", 400)])  # control characters: refused first
def test_hostile_keys_are_refused_not_500(client, key, status):
    response = client.get(f"/media/{key}")
    assert response.status_code == status
    # the site's error page, nothing read from the bucket and nothing a cache may keep
    assert response.mimetype == "text/html" and b"\xff\xd8\xff" not in response.data
    assert "immutable" not in response.headers.get("Cache-Control", "")


class TestServedFromTheBucket:
    @pytest.fixture
    def app_overrides(self, s3, bucket):
        return s3.settings(bucket, public_url=True)

    def test_pages_link_the_bucket_address(self, app, client, seller, shop, s3, bucket):
        product = make_product(shop=shop)
        db.session.commit()
        assert upload(seller, product.id, (jpeg_bytes((700, 500)), "a.jpg")).status_code == 303
        image = db.session.scalars(db.select(ProductImage)).one()
        with app.test_request_context():
            url = image_url(image, 320, "webp")
        assert url == f"{s3.endpoint}/{bucket}/{image.storage_key}-320.webp"
        direct = requests.get(url, timeout=10)
        assert direct.status_code == 200 and direct.content[:4] == b"RIFF"
        assert direct.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}, immutable"
        page = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
        assert f"{s3.endpoint}/{bucket}/{image.storage_key}-" in page


def test_local_storage_keeps_originals_outside_media_root(tmp_path):
    storage = LocalStorage(tmp_path / "media")
    storage.save("originals/ab/abc.png", b"png", private=True)
    storage.save("p/ab/abc-320.jpg", b"jpg")
    assert (tmp_path / "media-private" / "originals/ab/abc.png").read_bytes() == b"png"
    assert not (tmp_path / "media" / "originals").exists()
    assert storage.open("originals/ab/abc.png") == b"png"


def test_evidence_and_backups_live_in_the_bucket(app, runner, seller, shop, s3, bucket, tmp_path):
    """With MEDIA_STORAGE=s3 the claims' evidence is a private object of the bucket (never on this host's disk,
    so every instance sees it), and `flask backup` copies photos and evidence out of the bucket and restores
    the bucket to exactly that state (extra objects removed, missing ones written back, privacy kept)."""
    from marketplace.media.evidence import S3EvidenceStore, get_store

    product = make_product(shop=shop)
    db.session.commit()
    assert upload(seller, product.id, (jpeg_bytes((900, 600)), "IMG_1.JPG")).status_code == 303
    storage = get_storage()
    storage.save("originals/ab/abcdef.jpg", b"\xff\xd8\xff original bytes", private=True)
    store = get_store()
    assert isinstance(store, S3EvidenceStore)
    evidence_key = "ev/0f/" + "0f" * 32 + ".pdf"
    store.save(evidence_key, b"%PDF-1.4 certificate %%EOF")
    assert store.exists(evidence_key) and store.open(evidence_key) == b"%PDF-1.4 certificate %%EOF"
    assert not Path(app.config["EVIDENCE_ROOT"]).exists() or not any(Path(app.config["EVIDENCE_ROOT"]).rglob("*.pdf"))
    acl = s3.client().get_object_acl(Bucket=bucket, Key="originals/" + evidence_key)
    assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in acl["Grants"])
    assert requests.get(f"{s3.endpoint}/{bucket}/originals/{evidence_key}", timeout=10).status_code == 403
    assert sorted(store.keys()) == [evidence_key]
    assert "originals/" + evidence_key not in list(storage.keys())  # photos and evidence are listed apart

    def bucket_state():
        client = s3.client()
        return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys(s3, bucket)}

    before = bucket_state()
    assert len(before) == 6  # four derivatives, the original, the evidence file
    result = runner.invoke(args=["backup", "create", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    manifest = __import__("json").loads((tmp_path / "bk" / "backup.json").read_text())
    assert (manifest["media_files"], manifest["evidence_files"]) == (5, 1)
    assert (tmp_path / "bk" / "media" / "originals" / "ab" / "abcdef.jpg").read_bytes() == before[
        "originals/ab/abcdef.jpg"]
    assert (tmp_path / "bk" / "evidence" / evidence_key).read_bytes() == b"%PDF-1.4 certificate %%EOF"

    # the day after: a derivative lost, a stray photo added, the evidence deleted
    derivative = next(k for k in before if k.endswith("-320.webp"))
    storage.delete(derivative)
    storage.save("p/zz/stray-320.jpg", b"stray")
    store.delete(evidence_key)
    assert bucket_state() != before

    result = runner.invoke(args=["backup", "restore", "--yes", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert bucket_state() == before
    restored = s3.client().head_object(Bucket=bucket, Key=derivative)
    assert restored["CacheControl"] == f"public, max-age={ONE_YEAR}, immutable"
    acl = s3.client().get_object_acl(Bucket=bucket, Key="originals/" + evidence_key)
    assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in acl["Grants"])
