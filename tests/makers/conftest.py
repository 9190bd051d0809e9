from tests.seller.fixtures import artisan, other_shop, seller, shop  # noqa: F401
