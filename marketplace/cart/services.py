"""Cart services. Quantities are always checked against stock and prices always come from the database."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import session
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.cart.models import CartItem, Favourite
from marketplace.catalog.models import Product, Variant
from marketplace.errors import InvalidInput, NotFound, OutOfStock
from marketplace.extensions import db
from marketplace.orders.addresses import HANOI_CODE
from marketplace.orders.models import SavedAddress
from marketplace.shops import shipping
from marketplace.shops.models import Shop

SESSION_KEY = "cart"
MAX_QTY = 99
MAX_LINES = 50


@dataclass
class CartLine:
    variant: Variant
    product: Product
    quantity: int
    problem: str | None = None

    @property
    def unit_price(self) -> int:
        return self.variant.price

    @property
    def line_total(self) -> int:
        return self.variant.price * self.quantity


@dataclass
class ShopGroup:
    shop: Shop
    lines: list[CartLine] = field(default_factory=list)
    destination: str = HANOI_CODE  # province code (or stored name) the parcel goes to

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines if not line.problem)

    @property
    def weight_grams(self) -> int:
        return sum((line.product.weight_grams or 0) * line.quantity for line in self.lines if not line.problem)

    @property
    def quote(self) -> shipping.Quote:
        """The shop's shipping for this parcel (``marketplace.shops.shipping.quote``, the one rule)."""
        return shipping.quote(self.shop, self.destination, self.subtotal, self.weight_grams)

    @property
    def other_quote(self) -> shipping.Quote:
        """The same parcel sent to the other kind of destination (Hà Nội ↔ another province)."""
        other = "" if shipping.is_hanoi(self.destination) else HANOI_CODE
        return shipping.quote(self.shop, other, self.subtotal, self.weight_grams)

    @property
    def shipping_fee(self) -> int:
        return self.quote.fee if self.subtotal else 0

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping_fee


@dataclass
class Cart:
    groups: list[ShopGroup]

    @property
    def lines(self) -> list[CartLine]:
        return [line for g in self.groups for line in g.lines]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problems(self) -> list[CartLine]:
        return [line for line in self.lines if line.problem]

    @property
    def subtotal(self) -> int:
        return sum(g.subtotal for g in self.groups)

    def items(self) -> dict[int, int]:
        return {line.variant.id: line.quantity for line in self.lines if not line.problem}


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _session_items() -> dict[int, int]:
    raw = session.get(SESSION_KEY) or {}
    items = {}
    for key, qty in raw.items():
        try:
            vid, n = int(key), int(qty)
        except (TypeError, ValueError):
            continue
        if vid > 0 and n > 0:
            items[vid] = min(n, MAX_QTY)
    return items


def _save_session_items(items: dict[int, int]) -> None:
    session[SESSION_KEY] = {str(k): v for k, v in items.items() if v > 0}
    session.modified = True


def cart_items(user=None) -> dict[int, int]:
    """variant id → quantity for the signed-in shopper (stored) or the guest (session)."""
    user = current_user if user is None else user
    if _signed_in(user):
        rows = db.session.execute(sa.select(CartItem.variant_id, CartItem.quantity).where(CartItem.user_id == user.id))
        return {vid: qty for vid, qty in rows}
    return _session_items()


def cart_count() -> int:
    try:
        return sum(cart_items().values())
    except Exception:  # never break a page for the badge
        return 0


def _set_stored(user, variant_id: int, quantity: int) -> None:
    item = db.session.scalar(sa.select(CartItem).where(CartItem.user_id == user.id, CartItem.variant_id == variant_id))
    if quantity <= 0:
        if item is not None:
            db.session.delete(item)
    elif item is None:
        db.session.add(CartItem(user_id=user.id, variant_id=variant_id, quantity=quantity))
    else:
        item.quantity = quantity
    db.session.flush()


def _buyable_variant(variant_id: int) -> Variant:
    variant = db.session.get(Variant, variant_id)
    if variant is None or not variant.product.is_visible:
        raise NotFound(_("Sản phẩm không còn được bán."))
    return variant


def set_quantity(user, variant_id: int, quantity: int) -> int:
    """Set a line's quantity (0 removes it), capped at the stock on hand. Returns the quantity kept."""
    if quantity < 0 or quantity > MAX_QTY:
        raise InvalidInput(_("Số lượng phải từ 0 đến %(max)s.", max=MAX_QTY), field="quantity")
    if quantity:
        variant = _buyable_variant(variant_id)
        if variant.stock <= 0:
            raise OutOfStock(_("“%(name)s” đã hết hàng.", name=f"{variant.product.title_vi} – {variant.name}"))
        quantity = min(quantity, variant.stock)
    if _signed_in(user):
        _set_stored(user, variant_id, quantity)
    else:
        items = _session_items()
        if quantity:
            if variant_id not in items and len(items) >= MAX_LINES:
                raise InvalidInput(_("Giỏ hàng đã đầy."))
            items[variant_id] = quantity
        else:
            items.pop(variant_id, None)
        _save_session_items(items)
    return quantity


def add_item(user, variant_id: int, quantity: int = 1) -> int:
    if quantity < 1 or quantity > MAX_QTY:
        raise InvalidInput(_("Số lượng phải từ 1 đến %(max)s.", max=MAX_QTY), field="quantity")
    current = cart_items(user).get(variant_id, 0)
    return set_quantity(user, variant_id, min(current + quantity, MAX_QTY))


def remove_items(user, variant_ids) -> None:
    ids = set(variant_ids)
    if _signed_in(user):
        db.session.execute(sa.delete(CartItem).where(CartItem.user_id == user.id, CartItem.variant_id.in_(ids)))
    else:
        _save_session_items({k: v for k, v in _session_items().items() if k not in ids})


def merge_session_cart(user) -> None:
    """At sign-in: the guest cart's lines join the stored cart (the larger quantity wins), then the session cart is emptied."""
    guest = _session_items()
    if not guest:
        return
    stored = cart_items(user)
    for vid, qty in guest.items():
        variant = db.session.get(Variant, vid)
        if variant is None or not variant.product.is_visible or variant.stock <= 0:
            continue
        _set_stored(user, vid, min(max(qty, stored.get(vid, 0)), variant.stock, MAX_QTY))
    session.pop(SESSION_KEY, None)


def default_destination(user) -> str | None:
    """Where the cart prices shipping: the province of the signed-in buyer's last used saved address."""
    if not _signed_in(user):
        return None
    return db.session.scalar(sa.select(SavedAddress.province_code).where(SavedAddress.user_id == user.id)
                             .order_by(SavedAddress.last_used_at.desc(), SavedAddress.id.desc()).limit(1))


def build_cart(items: dict[int, int], destination: str | None = None) -> Cart:
    """The cart's lines by shop; ``destination`` (a province code) prices shipping, Hà Nội by default."""
    if not items:
        return Cart(groups=[])
    rows = db.session.execute(
        sa.select(Variant, Product, Shop).join(Product, Variant.product_id == Product.id).join(Shop, Product.shop_id == Shop.id)
        .where(Variant.id.in_(list(items))).order_by(Shop.id, Variant.id)
    ).all()
    groups: dict[int, ShopGroup] = {}
    for variant, product, shop in rows:
        qty = items[variant.id]
        problem = None
        if not product.is_visible:
            problem = "unavailable"
        elif variant.stock <= 0:
            problem = "sold_out"
        elif qty > variant.stock:
            problem = "short"
        groups.setdefault(shop.id, ShopGroup(shop=shop, destination=destination or HANOI_CODE)).lines.append(CartLine(variant, product, qty, problem))
    return Cart(groups=list(groups.values()))


def is_favourite(*, product_id: int | None = None, shop_id: int | None = None) -> bool:
    """Whether the signed-in shopper saved this product or shop (the favourite button's state)."""
    if not _signed_in(current_user):
        return False
    clause = Favourite.product_id == product_id if product_id is not None else Favourite.shop_id == shop_id
    return db.session.scalar(sa.select(Favourite.id).where(Favourite.user_id == current_user.id, clause)) is not None


def toggle_favourite(user, *, product_id: int | None = None, shop_id: int | None = None) -> bool:
    """Save or unsave a product or shop. Returns True when it is now saved."""
    if (product_id is None) == (shop_id is None):
        raise InvalidInput(_("Chọn một sản phẩm hoặc một cửa hàng."))
    if product_id is not None:
        product = db.session.get(Product, product_id)
        if product is None or not product.is_visible:
            raise NotFound(_("Không tìm thấy sản phẩm."))
        clause = Favourite.product_id == product_id
    else:
        shop = db.session.get(Shop, shop_id)
        if shop is None or not shop.is_active:
            raise NotFound(_("Không tìm thấy cửa hàng."))
        clause = Favourite.shop_id == shop_id
    existing = db.session.scalar(sa.select(Favourite).where(Favourite.user_id == user.id, clause))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        return False
    db.session.add(Favourite(user_id=user.id, product_id=product_id, shop_id=shop_id))
    db.session.flush()
    return True
