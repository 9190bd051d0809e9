"""Order messages: one thread per order between the buyer (signed in, or a guest through the signed order
link) and the shop; an admin reads every thread (and may write as the platform). Plain text (rendered
escaped, line breaks kept), at most ``ORDER_MESSAGE_MAX_CHARS`` characters; the views are rate-limited
(``ORDER_MESSAGE_RATE_LIMIT``). A buyer's message reaches the shop as an alert (``shops.alerts``); the shop's
reaches the buyer by mail with the order link. Who may post is decided by the views (404 otherwise)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from marketplace.core.outbox import queue_mail
from marketplace.core.time import utcnow
from marketplace.errors import InvalidInput
from marketplace.extensions import db
from marketplace.orders.models import MessageAuthor, Order, OrderMessage, order_number
from marketplace.orders.services import checkout_url
from marketplace.payments.gateway import external_url
from marketplace.shops import alerts
from marketplace.shops.models import AlertKind

EXCERPT = 200


def clean_body(body: str | None) -> str:
    """Plain text: control characters other than line breaks dropped, trimmed, length-limited."""
    text = "".join(ch for ch in (body or "").replace("\r\n", "\n") if ch == "\n" or ch >= " ").strip()
    limit = int(current_app.config["ORDER_MESSAGE_MAX_CHARS"])
    if not text:
        raise InvalidInput(_("Hãy nhập nội dung tin nhắn."), field="body")
    if len(text) > limit:
        raise InvalidInput(_("Tin nhắn dài tối đa %(n)s ký tự.", n=limit), field="body")
    return text


def thread(order: Order) -> list[OrderMessage]:
    return list(db.session.scalars(sa.select(OrderMessage).where(OrderMessage.order_id == order.id)
                                   .order_by(OrderMessage.id)))


def post_message(order: Order, author: str, body: str | None, user=None) -> OrderMessage:
    """Add a message to the order's thread and tell the other side."""
    if author not in MessageAuthor.CHOICES:
        raise ValueError(author)
    text = clean_body(body)
    message = OrderMessage(order_id=order.id, shop_id=order.shop_id, author=author,
                           author_id=getattr(user, "id", None), body=text, created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
    if author == MessageAuthor.BUYER:
        alerts.alert_shop(order.shop, AlertKind.MESSAGE, number=order_number(order.id), excerpt=excerpt,
                          link=external_url("orders.seller_order", order_id=order.id) + f"#messages-{order.id}")
    else:
        queue_mail(db.session, order.email, "order_message", order.checkout.locale, number=order_number(order.id),
                   shop=order.shop.name, excerpt=excerpt, link=checkout_url(order.checkout) + f"#messages-{order.id}")
    return message


def mark_read(order: Order, reader: str) -> None:
    """The reader's side opened the thread: the other side's messages are read."""
    others = (MessageAuthor.BUYER,) if reader == MessageAuthor.SHOP else (MessageAuthor.SHOP, MessageAuthor.ADMIN)
    db.session.execute(sa.update(OrderMessage).where(OrderMessage.order_id == order.id,
                                                     OrderMessage.author.in_(others), OrderMessage.read_at.is_(None))
                       .values(read_at=utcnow()).execution_options(synchronize_session=False))
