"""A signed-in shopper's stored cart, and favourites (products and shops)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class CartItem(db.Model):
    __tablename__ = "cart_items"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "variant_id", name="uq_cart_items_user_variant"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)


class Favourite(db.Model):
    __tablename__ = "favourites"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "product_id", name="uq_favourites_user_product"),
        sa.UniqueConstraint("user_id", "shop_id", name="uq_favourites_user_shop"),
        sa.CheckConstraint("(product_id IS NULL) <> (shop_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    shop_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
