"""The caps the services enforce hold on every path: one call, a bulk call, a CSV."""
from __future__ import annotations

import pytest

from marketplace.catalog import services
from marketplace.catalog.importer import plan_import
from marketplace.errors import InvalidInput
from tests.factories import make_shop


def _variants(n):
    return [{"name": f"Cỡ {i}", "price": "100000", "stock": "1"} for i in range(n)]


def test_create_product_refuses_more_than_the_variant_cap(app):
    shop = make_shop()
    data = {"title_vi": "Bát", "description_vi": "Bát men lam", "category": "ceramics"}
    product = services.create_product(services.SYSTEM, shop, data, variants=_variants(services.MAX_VARIANTS))
    assert len(product.variants) == services.MAX_VARIANTS
    with pytest.raises(InvalidInput) as refused:
        services.create_product(services.SYSTEM, shop, data, variants=_variants(services.MAX_VARIANTS + 1))
    assert refused.value.field == "variants"


@pytest.mark.parametrize("title", [{"a": 1}, ["x"], True, 1.5])
def test_text_fields_must_be_text(app, title):
    shop = make_shop()
    clean, errors = services.clean_product_data(shop, {"title_vi": title, "description_vi": "x"})
    assert "title_vi" in errors


def test_a_csv_product_with_too_many_variants_is_refused_at_planning(app):
    shop = make_shop()
    header = "product_ref,title_vi,description_vi,category,variant_name,price,stock\n"
    rows = "".join(f"p1,Bát,Bát men lam,ceramics,Cỡ {i},100000,1\n" for i in range(services.MAX_VARIANTS + 1))
    plan = plan_import(shop, (header + rows).encode())
    assert plan.errors and any("30" in message for messages in plan.errors.values() for message in messages)
