"""Reviews that can happen: who may review, the signed review link of the "delivered" mail, the product's
counters, the shop's rating and response rate, and guest orders joining the account that proves the same
e-mail or phone.

* A review belongs to one product of one delivered order (``uq_reviews_order_product``): the order's buyer
  may write it signed in, and whoever holds the signed link mailed at delivery (``review_token``: order and
  product, timed by ``REVIEW_LINK_MAX_AGE``) may write it without an account — the guest's case.
* ``products.rating_count``/``rating_sum``/``sold_count`` are updated here, in the same transaction as the
  review or the delivery (cards show them with no query); the shop's figures are one grouped query.
* ``claim_guest_orders``: guest orders (no buyer) join an account when it has verified the orders' e-mail
  (the link mailed at sign-up, or a password reset by mail), or when it holds the order's own link (opened or
  placed in this browser, kept in the session) and the order's phone or e-mail is the account's.

Services flush, never commit (the caller's unit of work commits)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.phone import normalize_vn_mobile
from marketplace.catalog.models import Product
from marketplace.core.cache import mark_catalog_changed
from marketplace.core.time import utcnow
from marketplace.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from marketplace.extensions import db
from marketplace.orders.models import Checkout, Order, OrderLine, Review
from marketplace.orders.models import OrderStatus as S
from marketplace.payments.gateway import external_url
from marketplace.shops.access import can_handle_orders
from marketplace.shops.models import Shop

REVIEW_SALT = "review-link"
_products = Product.__table__


class LinkExpired(DomainError):
    status_code = 410
    code = "link_expired"


# --- the signed link ------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=REVIEW_SALT)


def review_token(order_id: int, product_id: int) -> str:
    return _serializer().dumps({"o": order_id, "p": product_id})


def review_url(order_id: int, product_id: int) -> str:
    return external_url("orders.review_link", token=review_token(order_id, product_id))


def target_from_token(token: str) -> tuple[Order, Product]:
    """The order and product a review link names. NotFound when forged or unknown, LinkExpired when too old."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["REVIEW_LINK_MAX_AGE"])
    except SignatureExpired:
        raise LinkExpired(_("Đường dẫn đánh giá đã hết hạn. Hãy đăng nhập (hoặc tạo tài khoản bằng email/số "
                            "điện thoại đã đặt hàng) để đánh giá từ trang đơn hàng.")) from None
    except BadSignature:
        raise NotFound(_("Đường dẫn đánh giá không hợp lệ.")) from None
    try:
        order_id, product_id = int(data["o"]), int(data["p"])
    except (KeyError, TypeError, ValueError):
        raise NotFound(_("Đường dẫn đánh giá không hợp lệ.")) from None
    order = db.session.get(Order, order_id)
    product = db.session.get(Product, product_id)
    if order is None or product is None or not _ordered(order.id, product.id):
        raise NotFound(_("Đường dẫn đánh giá không hợp lệ."))
    return order, product


# --- who may review -------------------------------------------------------------------------------

def _ordered(order_id: int, product_id: int) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)
                                  .where(OrderLine.order_id == order_id, OrderLine.product_id == product_id)))


def reviewable_orders(user, product_id: int) -> list[int]:
    """The signed-in user's delivered orders of this product not reviewed yet (oldest first), in one query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    reviewed = sa.select(Review.id).where(Review.order_id == Order.id, Review.product_id == product_id).exists()
    return list(db.session.scalars(
        sa.select(Order.id).where(Order.buyer_id == user.id, Order.status.in_(S.DELIVERED_STATES), ~reviewed,
                                  Order.id.in_(sa.select(OrderLine.order_id).where(OrderLine.product_id == product_id)))
        .order_by(Order.id)))


def can_review(user, product_id: int) -> bool:
    return bool(reviewable_orders(user, product_id))


def _author(name: str | None) -> str | None:
    """"Nguyễn Thị Lan" → "Lan N." (a review shows a given name, not a full name)."""
    words = (name or "").split()
    if not words:
        return None
    return words[-1][:40] if len(words) == 1 else f"{words[-1][:40]} {words[0][0]}."


def _check(rating, body: str | None) -> str | None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_("Chọn từ 1 đến 5 sao."), field="rating")
    body = (body or "").strip()
    if len(body) > 2000:
        raise InvalidInput(_("Nhận xét tối đa 2.000 ký tự."), field="body")
    return body or None


def _insert_review(order: Order, product: Product, rating: int, body: str | None, buyer_id: int | None,
                   author: str | None) -> Review:
    if order.status not in S.DELIVERED_STATES:
        raise NotAllowed(_("Bạn có thể đánh giá sau khi đã nhận hàng."))
    if db.session.scalar(sa.select(Review.id).where(Review.order_id == order.id, Review.product_id == product.id)):
        raise Conflict(_("Sản phẩm này của đơn hàng đã được đánh giá. Cảm ơn bạn!"))
    review = Review(product_id=product.id, order_id=order.id, buyer_id=buyer_id, shop_id=product.shop_id,
                    rating=rating, body=body, author_name=author)
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:  # the same order and product reviewed by a concurrent request (unique key)
        raise Conflict(_("Sản phẩm này của đơn hàng đã được đánh giá. Cảm ơn bạn!")) from None
    db.session.execute(sa.update(_products).where(_products.c.id == product.id).values(
        rating_count=_products.c.rating_count + 1, rating_sum=_products.c.rating_sum + rating,
        updated_at=_products.c.updated_at))  # not an edit of the product: its "updated" date stays
    return review


def add_review(user, product: Product, rating: int, body: str | None, order_id: int | None = None) -> Review:
    """The signed-in buyer reviews one delivered order's product (the oldest not reviewed, or ``order_id``)."""
    body = _check(rating, body)
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Hãy đăng nhập để đánh giá."))
    open_orders = reviewable_orders(user, product.id)
    if order_id is not None and order_id not in open_orders:
        open_orders = []
    if not open_orders:
        bought = db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine).join(Order)
                                   .where(Order.buyer_id == user.id, OrderLine.product_id == product.id,
                                          Order.status.in_(S.DELIVERED_STATES)))
        if bought:
            raise Conflict(_("Bạn đã đánh giá sản phẩm này cho mọi đơn đã nhận. Cảm ơn bạn!"))
        raise NotAllowed(_("Bạn có thể đánh giá sau khi đã nhận hàng."))
    order = db.session.get(Order, order_id or open_orders[0])
    return _insert_review(order, product, rating, body, user.id, _author(user.name) or _author(order.recipient_name))


def add_review_by_link(token: str, rating: int, body: str | None) -> Review:
    """Whoever holds the signed link of the "delivered" mail reviews that order's product (no account)."""
    order, product = target_from_token(token)
    body = _check(rating, body)
    return _insert_review(order, product, rating, body, order.buyer_id, _author(order.recipient_name))


def reply_review(user, review: Review, reply: str) -> Review:
    if not can_handle_orders(user, db.session.get(Shop, review.shop_id)):
        raise NotAllowed(_("Chỉ cửa hàng mới trả lời được."))
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput(_("Nhập nội dung trả lời."), field="reply")
    result = db.session.execute(sa.update(Review).where(Review.id == review.id, Review.reply.is_(None))
                                .values(reply=reply[:2000], replied_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("Cửa hàng đã trả lời đánh giá này."))
    mark_catalog_changed(db.session)  # the product and shop pages (cached per catalog version) show it
    db.session.expire(review)
    return review


def delete_reviews_of(user_id: int) -> None:
    """Account erasure: the user's reviews go, and their products' counters with them."""
    gone = db.session.execute(sa.select(Review.product_id, sa.func.count(), sa.func.sum(Review.rating))
                              .where(Review.buyer_id == user_id).group_by(Review.product_id)).all()
    for product_id, n, stars in gone:
        db.session.execute(sa.update(_products).where(_products.c.id == product_id).values(
            rating_count=_products.c.rating_count - n, rating_sum=_products.c.rating_sum - stars,
            updated_at=_products.c.updated_at))
    db.session.execute(sa.delete(Review).where(Review.buyer_id == user_id).execution_options(synchronize_session=False))


# --- sold counts ----------------------------------------------------------------------------------

def count_sold(order: Order, sign: int = 1) -> None:
    """Units of a delivered order ("đã bán"): added at delivery, taken back if the order is refunded after."""
    units: dict[int, int] = {}
    for line in order.lines:
        if line.product_id is not None:
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
    for product_id in sorted(units):  # ascending ids: no deadlock between two deliveries
        db.session.execute(sa.update(_products).where(_products.c.id == product_id).values(
            sold_count=_products.c.sold_count + sign * units[product_id], updated_at=_products.c.updated_at))


def recount_products() -> None:
    """Recompute every product's counters from the rows (the seed; a repair after manual SQL)."""
    reviews = sa.select(Review.product_id, sa.func.count().label("n"), sa.func.sum(Review.rating).label("s")) \
        .group_by(Review.product_id).subquery()
    sold = (sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity).label("q"))
            .join(Order, Order.id == OrderLine.order_id).where(Order.status.in_(S.DELIVERED_STATES))
            .group_by(OrderLine.product_id).subquery())
    db.session.execute(sa.update(_products).values(
        rating_count=sa.func.coalesce(sa.select(reviews.c.n).where(reviews.c.product_id == _products.c.id)
                                      .scalar_subquery(), 0),
        rating_sum=sa.func.coalesce(sa.select(reviews.c.s).where(reviews.c.product_id == _products.c.id)
                                    .scalar_subquery(), 0),
        sold_count=sa.func.coalesce(sa.select(sold.c.q).where(sold.c.product_id == _products.c.id)
                                    .scalar_subquery(), 0),
        updated_at=_products.c.updated_at))


# --- what pages show ------------------------------------------------------------------------------

def review_summary(product_id: int, limit: int = 20) -> dict:
    """Average, count and the latest reviews in one statement (product pages keep a constant query count)."""
    rows = db.session.execute(
        sa.select(Review, sa.func.count().over().label("n"), sa.func.avg(Review.rating).over().label("avg"))
        .where(Review.product_id == product_id).order_by(Review.id.desc()).limit(limit)
    ).all()
    if not rows:
        return {"count": 0, "average": None, "reviews": []}
    return {"count": int(rows[0].n), "average": round(float(rows[0].avg), 1), "reviews": [r.Review for r in rows]}


def shop_review_stats(shop_id: int) -> dict:
    """The shop page's rating, review count and response rate (share of reviews the shop replied to), and
    units sold: one grouped query."""
    row = db.session.execute(
        sa.select(sa.func.count(Review.id), sa.func.coalesce(sa.func.sum(Review.rating), 0),
                  sa.func.count(Review.reply)).where(Review.shop_id == shop_id)).one()
    count, stars, replied = int(row[0]), int(row[1]), int(row[2])
    return {"count": count, "average": round(stars / count, 1) if count else None,
            "response_rate": round(100 * replied / count) if count else None}


# --- guest orders join the account ------------------------------------------------------------------

VERIFY_SALT = "email-verify"


def _verify_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=VERIFY_SALT)


def email_verify_token(user) -> str:
    return _verify_serializer().dumps({"u": user.id, "e": user.email})


def user_for_verify_token(token: str, user_model):
    """The account a verification link names, if the link is genuine, recent and its e-mail still the account's."""
    try:
        data = _verify_serializer().loads(token, max_age=current_app.config["EMAIL_VERIFY_MAX_AGE"])
        user = db.session.get(user_model, int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or not user.active or user.email != data.get("e"):
        return None
    return user


def _guest_orders(*criteria):
    return sa.select(Order.id).where(Order.buyer_id.is_(None), *criteria)


def guest_orders_with_email(email: str | None) -> int:
    email = (email or "").strip().lower()
    if not email:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(_guest_orders(sa.func.lower(Order.email) == email)
                                                                   .subquery())) or 0


def claim_guest_orders(user, held_checkouts=()) -> int:
    """Guest orders that join ``user``: every one placed with the account's verified e-mail, and those of
    ``held_checkouts`` (checkout ids whose signed link this browser holds) placed with the account's phone
    or e-mail. Their checkouts and reviews follow. Returns how many orders joined."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return 0
    email = (user.email or "").strip().lower()
    phone = normalize_vn_mobile(user.phone)
    ways = []
    if user.email_verified_at is not None and email:
        ways.append(sa.func.lower(Order.email) == email)
    held = [int(c) for c in held_checkouts if isinstance(c, int)][:50]
    if held:
        same_person = [sa.func.lower(Order.email) == email] + ([Order.phone == phone] if phone else [])
        ways.append(sa.and_(Order.checkout_id.in_(held), sa.or_(*same_person)))
    if not ways:
        return 0
    ids = list(db.session.scalars(_guest_orders(sa.or_(*ways))))
    if not ids:
        return 0
    db.session.execute(sa.update(Order).where(Order.id.in_(ids), Order.buyer_id.is_(None)).values(buyer_id=user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Checkout).where(Checkout.id.in_(sa.select(Order.checkout_id).where(Order.id.in_(ids))),
                                                 Checkout.buyer_id.is_(None)).values(buyer_id=user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Review).where(Review.order_id.in_(ids), Review.buyer_id.is_(None))
                       .values(buyer_id=user.id).execution_options(synchronize_session=False))
    db.session.expire_all()
    return len(ids)


def verify_email(user) -> int:
    """The owner opened the link mailed to the account's address: verified; its guest orders join."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.flush()
    return claim_guest_orders(user)
