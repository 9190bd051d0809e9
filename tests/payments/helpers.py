import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.orders.models import Checkout
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token
from tests.payments.conftest import WEBHOOK_SECRET


def card_checkout(client, *variant_qty):
    for vid, qty in variant_qty:
        add_to_cart(client, vid, qty)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "stripe"})
    db.session.expire_all()
    return r, token, db.session.scalar(sa.select(Checkout).where(Checkout.token == token))


def deliver(fake, client, kind, obj, event_id=None, **kw):
    return fake.deliver(client, fake.event(kind, obj, event_id), WEBHOOK_SECRET, **kw)


def statuses(checkout):
    db.session.expire_all()
    return [o.status for o in db.session.get(Checkout, checkout.id).orders]
