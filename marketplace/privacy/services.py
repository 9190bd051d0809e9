"""Export and erase a person's data. Orders stay (accounting, officials' statistics) without identity.

Tables that hold personal data of a shopper: ``users`` (email, name, phone), ``checkouts`` and
``orders`` (delivery address, contact), ``cart_items`` and ``favourites``, ``reviews``, ``api_tokens``,
``mail_outbox`` (mail queued or sent in the last week). ``tests/privacy/test_coverage.py`` walks every foreign key
to ``users.id`` and fails for a table that export and erasure do not handle.
Functions flush; the caller commits.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import verify_password
from marketplace.api.models import ApiToken
from marketplace.cart.models import CartItem, Favourite
from marketplace.core.audit import record
from marketplace.core.outbox import OutboxMail
from marketplace.core.time import utcnow
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import db
from marketplace.orders import reviews
from marketplace.orders.models import Checkout, Order, OrderMessage, Review, SavedAddress

ADDRESS_FIELDS = ("recipient_name", "phone", "email", "ward", "street", "note")
DELETABLE_ROLES = (Role.SHOPPER,)


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def export_user_data(user: User) -> dict:
    """Everything the platform keeps about ``user``, as JSON-ready data."""
    data = {
        "exported_at": _iso(utcnow().replace(microsecond=0)),
        "account": {"id": user.id, "email": user.email, "name": user.name, "phone": user.phone, "role": user.role,
                    "locale": user.locale, "marketing_consent": bool(user.marketing_consent),
                    "created_at": _iso(user.created_at)},
        "orders": [],
    }
    orders = db.session.scalars(sa.select(Order).where(Order.buyer_id == user.id).order_by(Order.id))
    for order in orders:
        data["orders"].append({
            "id": order.id, "created_at": _iso(order.created_at), "status": order.status,
            "payment_method": order.payment_method, "total": order.total, "shop": order.shop.name if order.shop else None,
            "delivery": {field: getattr(order, field) for field in ADDRESS_FIELDS + ("province",)},
            "lines": [{"title": line.title, "variant": line.variant_name, "unit_price": line.unit_price,
                       "quantity": line.quantity} for line in order.lines],
        })
    data["cart"] = [{"variant_id": c.variant_id, "quantity": c.quantity, "added_at": _iso(c.created_at)}
                    for c in db.session.scalars(sa.select(CartItem).where(CartItem.user_id == user.id))]
    data["favourites"] = [{"product_id": f.product_id, "shop_id": f.shop_id, "added_at": _iso(f.created_at)}
                          for f in db.session.scalars(sa.select(Favourite).where(Favourite.user_id == user.id))]
    data["reviews"] = [{"product_id": r.product_id, "rating": r.rating, "body": r.body,
                        "created_at": _iso(r.created_at)}
                       for r in db.session.scalars(sa.select(Review).where(Review.buyer_id == user.id))]
    data["api_tokens"] = [{"name": t.name, "created_at": _iso(t.created_at), "last_used_at": _iso(t.last_used_at),
                           "revoked_at": _iso(t.revoked_at)}
                          for t in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id))]
    data["saved_addresses"] = [{"recipient_name": a.recipient_name, "phone": a.phone, "province_code": a.province_code,
                                "ward": a.ward, "street": a.street}
                               for a in db.session.scalars(sa.select(SavedAddress).where(SavedAddress.user_id == user.id))]
    data["order_messages"] = [{"order_id": m.order_id, "body": m.body, "created_at": _iso(m.created_at)}
                              for m in db.session.scalars(sa.select(OrderMessage).where(OrderMessage.author_id == user.id)
                                                          .order_by(OrderMessage.id))]
    return data


def _erase_outbox(user: User) -> None:
    """Mail to the account's address or to the addresses given at its checkouts, queued or kept after sending."""
    addresses = {user.email}
    for model in (Checkout, Order):
        addresses.update(db.session.scalars(sa.select(model.email).where(model.buyer_id == user.id,
                                                                          model.email.is_not(None))))
    db.session.execute(sa.delete(OutboxMail).where(OutboxMail.to_address.in_(sorted(addresses)))
                       .execution_options(synchronize_session=False))


def delete_account(user: User, password: str) -> None:
    """Erase a shopper's personal data and close the account; their orders stay, without identity."""
    if user.role not in DELETABLE_ROLES:
        raise Conflict("Tài khoản nghệ nhân, cán bộ hoặc quản trị không tự xoá được; hãy liên hệ quản trị.")
    if not verify_password(user.password_hash, password or ""):
        raise InvalidInput("Mật khẩu không đúng.", field="password")
    order_count = db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.buyer_id == user.id)) or 0
    _erase_outbox(user)
    db.session.execute(sa.update(Order).where(Order.buyer_id == user.id)
                       .values(buyer_id=None, **{field: None for field in ADDRESS_FIELDS})
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Checkout).where(Checkout.buyer_id == user.id).values(buyer_id=None, email=None)
                       .execution_options(synchronize_session=False))
    reviews.delete_reviews_of(user.id)  # their products' rating counters follow
    for model, column in ((CartItem, CartItem.user_id), (Favourite, Favourite.user_id),
                          (ApiToken, ApiToken.user_id), (SavedAddress, SavedAddress.user_id),
                          (OrderMessage, OrderMessage.author_id)):  # their own words to shops
        db.session.execute(sa.delete(model).where(column == user.id).execution_options(synchronize_session=False))
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.name = ""
    user.phone = None
    user.password_hash = None
    user.marketing_consent = False
    user.active = False
    user.session_version = (user.session_version or 1) + 1  # every session and remember cookie ends
    db.session.flush()
    record(user, "account.delete", "user", user.id, after={"orders_kept_anonymous": order_count})
