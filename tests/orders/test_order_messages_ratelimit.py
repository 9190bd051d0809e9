"""Order messages are rate-limited (ORDER_MESSAGE_RATE_LIMIT, the app's limiter)."""
import pytest
import sqlalchemy as sa

from marketplace.extensions import db, limiter
from marketplace.orders import services
from marketplace.orders.models import OrderMessage
from tests.factories import make_product, make_shop
from tests.orders.helpers import place


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "ORDER_MESSAGE_RATE_LIMIT": "3 per hour"}


@pytest.fixture(autouse=True)
def fresh_counters(app):
    limiter.reset()
    yield
    limiter.reset()


def test_fourth_message_in_an_hour_gets_429_and_is_not_stored(client):
    product = make_product(make_shop(), stock=5, images=1)
    db.session.commit()
    checkout = place({product.variants[0].id: 1})
    token = services.checkout_link_token(checkout.id)
    order = checkout.orders[0]
    codes = [client.post(f"/orders/c/{token}/{order.id}/messages", data={"body": f"tin {i}"}).status_code
             for i in range(4)]
    assert codes == [303, 303, 303, 429]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderMessage)) == 3
