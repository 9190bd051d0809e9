"""Orders: one per shop per checkout; lines snapshot what was sold (title, variant, price, shop, village)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class OrderStatus:
    PENDING_PAYMENT = "pending_payment"      # paid online (card…): waiting for the payment, stock held
    AWAITING_SHIPMENT = "awaiting_shipment"  # pay on delivery: placed, the artisan packs it
    PAID = "paid"                            # online payment confirmed (then → awaiting shipment flow)
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    NEEDS_REVIEW = "needs_review"
    CHOICES = (PENDING_PAYMENT, AWAITING_SHIPMENT, PAID, SHIPPED, DELIVERED, COMPLETED, CANCELLED, EXPIRED,
               REFUNDED, NEEDS_REVIEW)
    # Orders whose goods reached the buyer: these count as production value.
    DELIVERED_STATES = (DELIVERED, COMPLETED)


_S = OrderStatus
# The one statement of which status changes are allowed: from → the states it may move to.
# ``orders.services.transition`` refuses anything else (a conditional UPDATE ``WHERE status IN`` the
# states that may reach the target). An order is created in PENDING_PAYMENT (paid online) or
# AWAITING_SHIPMENT (paid on delivery).
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.PENDING_PAYMENT: frozenset({
        _S.PAID,            # the provider confirms the payment
        _S.CANCELLED,       # the artisan cancels, or the payment failed
        _S.EXPIRED,         # the stock hold ended unpaid
        _S.NEEDS_REVIEW,    # paid, but the amount does not match
    }),
    _S.AWAITING_SHIPMENT: frozenset({_S.SHIPPED, _S.CANCELLED}),
    _S.PAID: frozenset({_S.SHIPPED, _S.CANCELLED, _S.REFUNDED}),
    _S.SHIPPED: frozenset({_S.DELIVERED, _S.REFUNDED}),
    _S.DELIVERED: frozenset({_S.COMPLETED, _S.REFUNDED}),
    _S.COMPLETED: frozenset({_S.REFUNDED}),
    _S.CANCELLED: frozenset({
        _S.REFUNDED,        # what was paid is refunded in full
        _S.NEEDS_REVIEW,    # a payment arrived after the cancellation
    }),
    _S.EXPIRED: frozenset({_S.NEEDS_REVIEW}),  # a payment arrived after the hold ended
    _S.NEEDS_REVIEW: frozenset({_S.REFUNDED}),
    _S.REFUNDED: frozenset(),
}
INITIAL_STATES = (_S.PENDING_PAYMENT, _S.AWAITING_SHIPMENT)
# Execution option of a Core UPDATE on ``orders``: the ids of the orders it may change (read from the change
# feed by the officials' sales aggregates; a statement without it that moves a status rebuilds them).
ORDER_IDS_OPTION = "order_ids"


def may_transition(from_state: str | None, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, ())


def sources_of(to_state: str) -> tuple[str, ...]:
    """Every state allowed to move to ``to_state`` (in OrderStatus.CHOICES order)."""
    return tuple(s for s in OrderStatus.CHOICES if to_state in TRANSITIONS[s])


def order_number(order_id: int) -> str:
    """How an order is named to people (pages, mail, statements)."""
    return f"CLN-{order_id:06d}"


class Checkout(db.Model):
    """One shopper's 'Place order': one payment covering one order per shop."""

    __tablename__ = "checkouts"
    __table_args__ = (sa.CheckConstraint("total >= 0", name="total_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)  # idempotency: one per cart submission
    buyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    payment_method: Mapped[str] = mapped_column(sa.String(16), default="cod")  # a payment method's identifier
    total: Mapped[int] = mapped_column(sa.Integer)
    # The payment method's own ids (historic column names; any method stores its session / payment ids here).
    stripe_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    # Added by 0004_orders.
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    locale: Mapped[str | None] = mapped_column(sa.String(5))

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("subtotal >= 0 AND shipping_fee >= 0 AND total >= 0", name="amounts_nonneg"),
        sa.Index("ix_orders_shop_status", "shop_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[int] = mapped_column(sa.ForeignKey("checkouts.id"), index=True)
    # active_history: a change loads the previous value, so the change feed's row carries it (the officials'
    # sales aggregates recompute the delivery's old (shop, day) too).
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"), index=True, active_history=True)
    buyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(24), index=True)
    payment_method: Mapped[str] = mapped_column(sa.String(16))
    subtotal: Mapped[int] = mapped_column(sa.Integer)
    shipping_fee: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(sa.Integer)
    refunded_amount: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Delivery address (personal data: erased on account deletion; never shown to officials).
    recipient_name: Mapped[str | None] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    province: Mapped[str | None] = mapped_column(sa.String(80))
    ward: Mapped[str | None] = mapped_column(sa.String(120))
    street: Mapped[str | None] = mapped_column(sa.String(255))
    note: Mapped[str | None] = mapped_column(sa.Text)
    carrier: Mapped[str | None] = mapped_column(sa.String(80))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime, index=True, active_history=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Added by 0004_orders: platform commission (set when the order is paid) and why it needs review.
    commission: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    # Added by 0012_h16shop_shipping_addresses: the delivery estimate quoted at checkout ("1–2" days).
    delivery_days: Mapped[str | None] = mapped_column(sa.String(16))
    # Added by 0012_h17ops_seller_ops: why the shop cancelled (shown to the buyer on the order and in mail).
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(400))

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    shop = relationship("Shop")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price > 0", name="unit_price_positive"),
        sa.Index("ix_order_lines_village", "village_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True,
                                          active_history=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"), index=True)
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("variants.id", ondelete="SET NULL"))
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    variant_name: Mapped[str] = mapped_column(sa.String(120))
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    refunded_amount: Mapped[int] = mapped_column(sa.Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


class OrderEvent(db.Model):
    """One recorded status transition of an order: who, when, from → to."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str] = mapped_column(sa.String(24))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(sa.String(40))  # "shopper", "artisan", "stripe", "system"…
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)


class MessageAuthor:
    BUYER = "buyer"
    SHOP = "shop"
    ADMIN = "admin"
    CHOICES = (BUYER, SHOP, ADMIN)


class OrderMessage(db.Model):
    """One plain-text message in an order's thread between the buyer (or the guest with the signed order
    link) and the shop; an admin reads it too. ``read_at``: when the other side opened the thread."""

    __tablename__ = "order_messages"
    __table_args__ = (
        sa.CheckConstraint("author IN ('buyer','shop','admin')", name="author_valid"),
        sa.Index("ix_order_messages_shop_unread", "shop_id", "author", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"))
    author: Mapped[str] = mapped_column(sa.String(8))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime)


class Review(db.Model):
    """One review per product per order (a buyer who orders again may review again); ``buyer_id`` is empty for
    a guest who reviewed from the signed link of the "delivered" mail (set when an account claims the order)."""

    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.UniqueConstraint("order_id", "product_id", name="uq_reviews_order_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    author_name: Mapped[str | None] = mapped_column(sa.String(60))  # shown: given name + initial ("Lan N.")
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    body: Mapped[str | None] = mapped_column(sa.Text)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    buyer = relationship("User")


class SavedAddress(db.Model):
    """A signed-in buyer's delivery address, offered at checkout (personal data: erased with the account)."""

    __tablename__ = "saved_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20))
    province_code: Mapped[str] = mapped_column(sa.String(8))
    ward: Mapped[str] = mapped_column(sa.String(120))
    street: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
