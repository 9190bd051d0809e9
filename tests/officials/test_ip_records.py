"""IP protection records: officials' UI and CLI; expiry per kind; a changed record is a new claim; an expired
record counts nowhere."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog import protections
from marketplace.catalog.models import ClaimStatus, IpKind, IpProtection, Product
from marketplace.catalog.queries import village_badges
from marketplace.core.audit import AuditEntry
from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from tests.factories import make_product, make_shop, make_user, make_village
from tests.seller.imagegen import PDF

GOOD = {"kind": IpKind.COLLECTIVE_MARK, "name": "Gốm Bát Tràng", "registration_number": "4-2015-12345",
        "holder": "Hội Gốm sứ Bát Tràng", "granted_on": "10/03/2015"}


@pytest.fixture
def village(app):
    village = make_village(slug="bat-trang-x", code="BT-001")
    db.session.commit()
    return village


def test_expiry_per_kind_and_validation(app, official, village):
    mark = protections.create_ip(official, dict(GOOD, village="BT-001"))
    assert mark.expires_on == date(2025, 3, 10) and mark.status == ClaimStatus.DECLARED
    assert mark.village_id == village.id
    gi = protections.create_ip(official, dict(GOOD, kind=IpKind.GEOGRAPHICAL_INDICATION, registration_number="00101"))
    assert gi.expires_on is None
    renewed = protections.create_ip(official, dict(GOOD, registration_number="4-2015-2", expires_on="2035-03-10"))
    assert renewed.expires_on == date(2035, 3, 10)
    for bad, field in ((dict(GOOD, kind="trademark"), "kind"), (dict(GOOD, registration_number=""), "registration_number"),
                       (dict(GOOD, granted_on="2099-01-01"), "granted_on"), (dict(GOOD, expires_on="2014-01-01"), "expires_on"),
                       (dict(GOOD, kind=IpKind.GEOGRAPHICAL_INDICATION, expires_on="2030-01-01"), "expires_on"),
                       (dict(GOOD, village="nowhere"), "village"), (dict(GOOD, product_ids="1,abc"), "product_ids")):
        with pytest.raises(InvalidInput) as exc:
            protections.create_ip(official, bad)
        assert field in exc.value.details["errors"], bad
    with pytest.raises(NotAllowed):
        protections.create_ip(make_user(Role.ARTISAN), GOOD)


def test_linked_products_must_belong_to_the_village_and_editing_resets_the_claim(app, official, village):
    own = make_product(shop=make_shop(village=village))
    foreign = make_product()
    with pytest.raises(InvalidInput) as exc:
        protections.create_ip(official, dict(GOOD, village=village.id, product_ids=f"{own.id},{foreign.id}"))
    assert "product_ids" in exc.value.details["errors"]
    ip = protections.create_ip(official, dict(GOOD, village=village.id, product_ids=str(own.id)))
    assert db.session.get(Product, own.id).ip_protection_id == ip.id
    ip.status = ClaimStatus.VERIFIED
    db.session.flush()
    protections.update_ip(official, ip, dict(GOOD, village=village.id, product_ids=str(own.id)))
    assert ip.status == ClaimStatus.VERIFIED  # nothing changed
    protections.update_ip(official, ip, dict(GOOD, village=village.id, product_ids="", expires_on="2035-03-10"))
    assert ip.status == ClaimStatus.DECLARED and db.session.get(Product, own.id).ip_protection_id is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action.like("ip.%"))) == 3


def test_expired_record_counts_nowhere(app, official, village):
    product = make_product(shop=make_shop(village=village))
    ip = protections.create_ip(official, dict(GOOD, village=village.id, product_ids=str(product.id)))
    ip.status = ClaimStatus.VERIFIED
    db.session.commit()
    assert ip.state == "expired" and village_badges(village.id)["ip_products"] == 0
    protections.update_ip(official, ip, dict(GOOD, village=village.id, product_ids=str(product.id),
                                             expires_on="2035-03-10"))
    ip.status = ClaimStatus.VERIFIED  # renewed and verified again
    db.session.commit()
    assert ip.state == "valid" and village_badges(village.id)["ip_products"] == 1


def test_officials_pages(app, client, login, official, village):
    login(client, official)
    assert client.get("/officials/ip/new").status_code == 200
    r = client.post("/officials/ip/new", data=dict(GOOD, village=str(village.id), granted_on="2015-03-10",
                                                   csrf_token="x"))
    assert r.status_code == 303
    ip = db.session.scalars(sa.select(IpProtection)).one()
    assert ip.expires_on == date(2025, 3, 10)
    r = client.post("/officials/ip/new", data=dict(GOOD, granted_on="31/02/2015"))
    assert r.status_code == 400 and "Ngày không hợp lệ" in r.get_data(as_text=True)
    page = client.get("/officials/ip").get_data(as_text=True)
    assert "Gốm Bát Tràng" in page and "Hết hiệu lực" in page
    r = client.post(f"/officials/ip/{ip.id}/evidence", data={"evidence": (io.BytesIO(PDF), "vb.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(IpProtection, ip.id).evidence_key.endswith(".pdf")
    login(client, make_user(Role.ARTISAN))
    db.session.commit()
    assert client.get("/officials/ip").status_code == 403


def test_cli_add_and_list(app, runner, village, tmp_path):
    evidence = tmp_path / "vb.pdf"
    evidence.write_bytes(PDF)
    result = runner.invoke(args=["ip", "add", "--kind", "certification_mark", "--name", "Lụa Vạn Phúc",
                                 "--number", "4-2020-00077", "--granted", "2020-06-01", "--village", "BT-001",
                                 "--evidence", str(evidence)])
    assert result.exit_code == 0, result.output
    assert "expires 2030-06-01" in result.output
    ip = db.session.scalars(sa.select(IpProtection)).one()
    assert ip.evidence_key and ip.status == ClaimStatus.DECLARED
    bad = runner.invoke(args=["ip", "add", "--kind", "geographical_indication", "--name", "X", "--number", "1",
                              "--granted", "2020-06-01", "--expires", "2030-01-01"])
    assert bad.exit_code == 1 and "expires_on" in bad.output
    assert db.session.scalar(sa.select(sa.func.count(IpProtection.id))) == 1
    listing = runner.invoke(args=["ip", "list", "--village", "BT-001"])
    assert listing.exit_code == 0 and "4-2020-00077" in listing.output and "declared" in listing.output
