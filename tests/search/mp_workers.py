"""Child-process entry points for test_multiprocess.py (spawned: each builds its own app, like a
gunicorn worker)."""
from __future__ import annotations


def build_app(settings: dict):
    from config import TestingConfig
    from marketplace import create_app

    class Config(TestingConfig):
        pass

    for key, value in settings.items():
        setattr(Config, key, value)
    return create_app(Config)


def hold_lock(settings: dict, ready, release) -> None:
    """Hold the Whoosh write lock until told to let go (a long reindex in another worker)."""
    app = build_app(settings)
    with app.app_context():
        writer = app.extensions["search"].open().writer()
        ready.set()
        release.wait(120)
        writer.cancel()


def save_products(settings: dict, shop_id: int, titles: list[str], start, results) -> None:
    """Save products one commit at a time, as separate requests would."""
    import time
    import uuid

    from marketplace.catalog.models import Product, ProductStatus, Variant
    from marketplace.core.time import utcnow
    from marketplace.extensions import db

    app = build_app(settings)
    with app.app_context():
        start.wait(120)
        for title in titles:
            began = time.monotonic()
            try:
                product = Product(shop_id=shop_id, title_vi=title, description_vi="Làm tay.", category="other",
                                  status=ProductStatus.ACTIVE, published_at=utcnow())
                product.variants.append(Variant(name="Tiêu chuẩn", sku=f"MP-{uuid.uuid4().hex[:12]}",
                                                price=250_000, stock=5))
                db.session.add(product)
                db.session.commit()
                results.put(("ok", title, product.id, time.monotonic() - began))
            except Exception as exc:  # noqa: BLE001 - any failure is reported to the test
                db.session.rollback()
                results.put(("error", title, repr(exc), time.monotonic() - began))
        db.session.remove()
        db.engine.dispose()
