from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import CraftVillage, Product, ProductImage, ProductStatus, Variant
from marketplace.core.time import today_vn
from marketplace.demo.seed import seed_demo
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerLine
from marketplace.officials.demo import MONTHS
from marketplace.officials.models import StatSnapshot
from marketplace.shops.models import Shop, ShopStatus
from tests.conftest import demo_password_hash


def counts():
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (CraftVillage, Shop, Product, Variant, StatSnapshot, LedgerLine)}


def test_seed_is_idempotent_and_loads_real_villages(app):
    report = seed_demo(with_images=False, password_hash=demo_password_hash())
    db.session.commit()
    first = counts()
    seed_demo(with_images=False, password_hash=demo_password_hash())
    db.session.commit()
    assert counts() == first
    # the officials' history comes with the catalog (seed_demo calls it; no registry)
    assert any(note.startswith("Officials:") for note in report.notes)
    assert first["StatSnapshot"] > 0 and db.session.scalar(
        sa.select(sa.func.count(sa.distinct(StatSnapshot.month)))) == MONTHS
    assert first["CraftVillage"] == 59
    # the demo's shops take cash on delivery: each owes the platform its commission since October
    assert any(note.startswith("Ledger:") and "commission receipts" in note for note in report.notes)
    balances = ledger.balances()
    assert first["LedgerLine"] > 1000 and len(balances) >= 30
    assert sum(1 for b in balances.values() if b < 0) >= 30
    assert 38 <= first["Shop"] <= 42
    bat_trang = db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == "bat-trang"))
    assert bat_trang.name_vi == "Bát Tràng" and bat_trang.commune_vi == "xã Bát Tràng"


def test_seed_has_300_visible_products_with_variants_and_some_expired_ocop(app):
    seed_demo(with_images=False, password_hash=demo_password_hash())
    db.session.commit()
    visible = db.session.scalar(
        sa.select(sa.func.count(Product.id)).join(Shop)
        .where(Product.status == ProductStatus.ACTIVE, Shop.status == ShopStatus.ACTIVE)
    )
    assert visible >= 300
    assert db.session.scalar(
        sa.select(sa.func.count(Product.id)).where(~Product.variants.any())) == 0
    today = today_vn()
    expired = db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.ocop_expires_on < today))
    valid = db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.ocop_expires_on >= today))
    assert expired > 0 and valid > 0
    assert db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.status == "draft")) > 0
    assert db.session.scalar(sa.select(sa.func.count(Shop.id)).where(Shop.status == "suspended")) == 1


def test_seed_reset_starts_over(app):
    seed_demo(with_images=False, password_hash=demo_password_hash())
    db.session.commit()
    before = counts()
    seed_demo(reset=True, with_images=False, password_hash=demo_password_hash())
    db.session.commit()
    assert counts() == before


def test_seed_is_deterministic(tmp_path):
    from tests.conftest import make_app

    titles = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        app = make_app(tmp_path / name, "sqlite")
        with app.app_context():
            db.create_all()
            seed_demo(with_images=False, password_hash=demo_password_hash())
            db.session.commit()
            titles.append(db.session.execute(
                sa.select(Product.title_vi, Product.status, Product.ocop_stars).order_by(Product.id)).all())
            db.session.remove()
            db.engine.dispose()
    assert titles[0] == titles[1]


# --- with photos, on every database (the CLI path `make run` takes) ---------------------------------

@pytest.fixture
def app_overrides() -> dict:
    # one small derivative per photo: the photos are drawn and stored as in `make run`, only fewer bytes
    # are encoded (the seed's speed on PostgreSQL is not what this measures)
    return {"MEDIA_SIZES": (160,)}


def test_seed_demo_with_photos_runs_on_this_database(app, runner):
    """`flask seed-demo` with photos: on PostgreSQL the digitized count is a Decimal (SUM), which the
    snapshot ramp once multiplied by a float (TypeError; the seed rolled back and `make run` served nothing)."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt:" in result.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(ProductImage.id))) > 300
    # several distinct pictures per product (storage keys are content hashes): never one photo repeated
    per_product = db.session.execute(sa.select(ProductImage.product_id, sa.func.count(sa.distinct(ProductImage.storage_key)),
                                               sa.func.count(ProductImage.id)).group_by(ProductImage.product_id)).all()
    assert len(per_product) == db.session.scalar(sa.select(sa.func.count(Product.id)))
    assert all(distinct >= 2 and distinct == total for _, distinct, total in per_product)
    media = Path(app.config["MEDIA_ROOT"])
    assert any(media.rglob("*.webp")) and any(media.rglob("*.jpg"))
    digitized = db.session.scalars(
        sa.select(StatSnapshot.value).where(StatSnapshot.indicator_id == "digitized_products")
        .order_by(StatSnapshot.month)).all()
    assert len(digitized) == MONTHS
    assert all(isinstance(v, float) for v in digitized)
    assert 0 < digitized[0] < digitized[-1]  # the ramp up to today's measured value
