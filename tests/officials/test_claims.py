"""Claims: evidence through the hardened pipeline, stored privately; the officials' queue verifies or rejects
with a reason (audited, the shop told); product and village pages say honestly what is verified."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog import claims
from marketplace.catalog.models import ClaimStatus, Product
from marketplace.core import uow
from marketplace.core.audit import AuditEntry
from marketplace.core.outbox import read_outbox
from marketplace.core.time import today_vn
from marketplace.errors import Conflict, InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.media.evidence import EvidenceRejected, check_evidence, store_evidence
from tests.factories import make_ip, make_product, make_shop, make_user, make_village
from tests.seller.imagegen import PDF, gps_rotated_jpeg, jpeg_bytes

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body>hi</body></html>"
ZIP = b"PK\x03\x04" + b"\x00" * 40


@pytest.fixture
def world(app):
    owner = make_user(Role.ARTISAN, email="tho@example.vn")
    village = make_village(slug="lang-gom")
    shop = make_shop(village=village, owner=owner)
    product = make_product(shop=shop, title_vi="Bình gốm men lam", ocop_stars=4,
                           ocop_issued_on=today_vn() - timedelta(days=100), ocop_status=ClaimStatus.DECLARED)
    official = make_user(Role.OFFICIAL, name="Chị Mai")
    db.session.commit()
    return {"owner": owner, "village": village, "shop": shop, "product": product, "official": official}


def _evidence_files(app) -> list[Path]:
    root = Path(app.config["EVIDENCE_ROOT"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- the file checks --------------------------------------------------------------------------------

def test_pdf_and_photos_accepted_everything_else_refused(app):
    with app.test_request_context():
        pdf = check_evidence(PDF)
        assert pdf.key.startswith("ev/") and pdf.key.endswith(".pdf") and pdf.payload == PDF
        photo = check_evidence(gps_rotated_jpeg())
        assert photo.key.endswith(".jpg") and photo.content_type == "image/jpeg"
        assert b"Exif" not in photo.payload[:200]  # re-encoded: no EXIF/GPS survives
        for data, code in ((SVG, "not_accepted"), (HTML, "not_accepted"), (ZIP, "not_accepted"), (b"", "empty"),
                           (PDF.replace(b"%%EOF", b""), "pdf_truncated"),
                           (PDF.replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(x)>>"),
                            "pdf_active_content"),
                           (PDF.replace(b"/Pages 2 0 R", b"/Pages 2 0 R/Names<</EmbeddedFiles 3 0 R>>"),
                            "pdf_active_content")):
            with pytest.raises(EvidenceRejected) as exc:
                check_evidence(data)
            assert exc.value.code == code, data[:30]


def test_size_cap(app):
    app.config["MAX_EVIDENCE_BYTES"] = 1000
    with app.test_request_context(), pytest.raises(EvidenceRejected) as exc:
        check_evidence(PDF + b"%" + b"x" * 1200 + b"\n%%EOF\n")
    assert exc.value.code == "too_large"


def test_a_failed_transaction_leaves_no_evidence_file(app, world):
    with app.test_request_context(), pytest.raises(RuntimeError), uow.transaction():
        store_evidence(PDF)
        db.session.flush()
        raise RuntimeError("boom")
    assert _evidence_files(app) == []
    with app.test_request_context(), uow.transaction():
        key = store_evidence(PDF)
    assert [p.name for p in _evidence_files(app)] == [key.rsplit("/", 1)[1]]


# --- the shop attaches evidence -------------------------------------------------------------------

def test_shop_attaches_evidence_stored_privately(app, client, login, world):
    product = world["product"]
    login(client, world["owner"])
    r = client.post(f"/seller/products/{product.id}/ocop-evidence", data={"evidence": (io.BytesIO(PDF), "cert.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.ocop_evidence_key and product.ocop_status == ClaimStatus.DECLARED
    assert len(_evidence_files(app)) == 1
    media = Path(app.config["MEDIA_ROOT"])
    assert not media.exists() or not any(p.suffix == ".pdf" for p in media.rglob("*"))
    assert client.get(f"/media/{product.ocop_evidence_key}").status_code == 404
    r = client.get(f"/evidence/ocop/{product.id}")
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"] and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    r = client.post(f"/seller/products/{product.id}/ocop-evidence", data={"evidence": (io.BytesIO(SVG), "x.svg")},
                    content_type="multipart/form-data")
    assert r.status_code == 303 and len(_evidence_files(app)) == 1
    assert "Chỉ nhận tệp PDF" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_evidence_is_served_only_to_the_shop_and_officials(app, client, login, world):
    product = world["product"]
    with app.test_request_context(), uow.transaction():
        claims.attach_ocop_evidence(world["owner"], db.session.get(Product, product.id), jpeg_bytes())
    url = f"/evidence/ocop/{product.id}"
    anonymous = client.get(url)  # anonymous: to the login page, coming back here
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == f"/account/login?next=%2Fevidence%2Focop%2F{product.id}"
    login(client, make_user(Role.ARTISAN))
    db.session.commit()
    other = client.get(url)
    assert other.status_code == 404 and other.mimetype == "text/html"  # another artisan: not even told it exists
    login(client, make_user(Role.SHOPPER))
    db.session.commit()
    shopper = client.get(url)
    assert shopper.status_code == 403 and shopper.mimetype == "text/html"
    login(client, world["official"])
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:3] == b"\xff\xd8\xff"
    assert all(r.data[:64] not in refused.data for refused in (anonymous, other, shopper))  # no part of it
    login(client, world["owner"])
    assert client.get(url).data == r.data  # the shop itself


# --- the officials' queue -------------------------------------------------------------------------

def _with_evidence(app, world):
    with app.test_request_context(), uow.transaction():
        claims.attach_ocop_evidence(world["owner"], db.session.get(Product, world["product"].id), PDF)
    return db.session.get(Product, world["product"].id)


def test_official_verifies_with_a_reason_audited_and_the_shop_is_told(app, client, login, world):
    product = _with_evidence(app, world)
    login(client, world["official"])
    page = client.get("/officials/claims").get_data(as_text=True)
    assert "Bình gốm men lam" in page and f"/evidence/ocop/{product.id}" in page
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)
    url = f"/officials/claims/ocop/{product.id}"
    r = client.post(url, data={"verdict": "verified", "reason": "  ", "fingerprint": fingerprint})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product.id).ocop_status == ClaimStatus.DECLARED  # no reason, no change
    r = client.post(url, data={"verdict": "verified", "reason": "Đối chiếu bản gốc 12/QĐ-UBND",
                               "fingerprint": fingerprint})
    assert r.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.ocop_status == ClaimStatus.VERIFIED and product.ocop_reviewed_by_id == world["official"].id
    assert product.ocop_review_note == "Đối chiếu bản gốc 12/QĐ-UBND" and product.ocop_valid_on(today_vn())
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "claim.ocop_verify")).one()
    assert entry.target_id == str(product.id) and entry.note == "Đối chiếu bản gốc 12/QĐ-UBND"
    mails = read_outbox()
    assert len(mails) == 1 and mails[0]["To"] == "tho@example.vn"
    assert str(mails[0]["Subject"]).startswith("Đã xác minh: ")  # the verdict is in the subject
    assert "Ghi chú của cán bộ: Đối chiếu bản gốc 12/QĐ-UBND" in mails[0].get_content()  # the reason in the body
    # a replay changes nothing
    r = client.post(url, data={"verdict": "rejected", "reason": "nhầm", "fingerprint": fingerprint})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product.id).ocop_status == ClaimStatus.VERIFIED
    assert len(read_outbox()) == 1
    page = client.get("/officials/claims").get_data(as_text=True)
    assert f'id="ocop-{product.id}"' not in page and "Đối chiếu bản gốc 12/QĐ-UBND" in page  # in the history


def test_reject_needs_a_reason_and_tells_the_shop(app, client, login, world):
    product = _with_evidence(app, world)
    login(client, world["official"])
    client.post(f"/officials/claims/ocop/{product.id}", data={"verdict": "rejected", "reason": "Số không khớp"})
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.ocop_status == ClaimStatus.REJECTED and not product.ocop_valid_on(today_vn())
    assert "Chưa chấp nhận" in mails_text(read_outbox())


def mails_text(mails) -> str:
    return " ".join(str(m["Subject"]) + m.get_content() for m in mails)


def test_stale_review_and_unsafe_reviews_are_refused(app, world):
    product = _with_evidence(app, world)
    official = world["official"]
    seen = claims.ocop_fingerprint(product)
    product.ocop_certificate_number = "99/QĐ-UBND"  # the shop edits meanwhile
    with pytest.raises(Conflict):
        claims.review_ocop_claim(official, product, ClaimStatus.VERIFIED, "ok", fingerprint=seen)
    with pytest.raises(NotAllowed):
        claims.review_ocop_claim(world["owner"], product, ClaimStatus.VERIFIED, "tự xác minh")
    with pytest.raises(InvalidInput):
        claims.review_ocop_claim(official, product, "approved", "ok")
    bare = make_product(shop=world["shop"], ocop_stars=3, ocop_issued_on=date(2025, 1, 1),
                        ocop_status=ClaimStatus.DECLARED)
    with pytest.raises(InvalidInput):  # nothing to check against
        claims.review_ocop_claim(official, bare, ClaimStatus.VERIFIED, "ok")


def test_ip_claim_verified_from_the_queue(app, client, login, world):
    ip = make_ip(world["village"], status=ClaimStatus.DECLARED, name="Gốm làng")
    make_product(shop=world["shop"], ip_protection_id=ip.id)
    db.session.commit()
    with app.test_request_context(), uow.transaction():
        claims.attach_ip_evidence(world["official"], ip, jpeg_bytes())
    login(client, world["official"])
    page = client.get("/officials/claims").get_data(as_text=True)
    assert "Gốm làng" in page and f"/evidence/ip/{ip.id}" in page
    client.post(f"/officials/claims/ip/{ip.id}", data={"verdict": "verified", "reason": "Đối chiếu văn bằng"})
    db.session.expire_all()
    assert ip.status == ClaimStatus.VERIFIED and ip.valid_on(today_vn())
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "claim.ip_verify")) == 1
    assert [m["To"] for m in read_outbox()] == ["tho@example.vn"]


# --- public pages say it honestly ------------------------------------------------------------------

def test_product_and_village_pages_show_the_claim_status(app, client, world):
    product, village = world["product"], world["village"]
    page = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert "đang chờ xác minh" in page and 'class="badge badge-ocop"' not in page
    village_page = client.get(f"/villages/{village.slug}").get_data(as_text=True)
    assert "1 sản phẩm đang chờ xác minh" in village_page and "còn hiệu lực" not in village_page
    product = _with_evidence(app, world)
    product.ocop_status = ClaimStatus.VERIFIED
    product.ocop_reviewed_at = product.updated_at
    db.session.commit()
    page = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert 'class="badge badge-ocop"' in page and "đang chờ xác minh" not in page
    village_page = client.get(f"/villages/{village.slug}").get_data(as_text=True)
    assert "1 sản phẩm còn hiệu lực" in village_page and "đang chờ xác minh" not in village_page


def test_backup_carries_the_evidence_files(app, runner, tmp_path, world):
    product = _with_evidence(app, world)
    root = Path(app.config["EVIDENCE_ROOT"])
    stored = root / product.ocop_evidence_key
    assert stored.read_bytes() == PDF
    db.session.remove()
    result = runner.invoke(args=["backup", "create", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bk" / "evidence" / product.ocop_evidence_key).read_bytes() == PDF
    stored.unlink()
    (root / "ev" / "stray.pdf").write_bytes(b"added after the backup")
    result = runner.invoke(args=["backup", "restore", "--yes", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert stored.read_bytes() == PDF and not (root / "ev" / "stray.pdf").exists()
