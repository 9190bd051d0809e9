"""Order services: checkout (stock taken with conditional UPDATEs), lifecycle transitions, refunds,
reviews (the shop ledger's lines are posted by ``marketplace.ledger.services``, called from here when a
cash-on-delivery order is delivered and when a refund succeeds or fails). They take the acting user, raise DomainError subclasses and flush; callers commit.
The JSON API imports ship_order / deliver_order / cancel_order from here.

Payment methods are reached only through the gateway seam (``marketplace.payments.registry`` and
``gateway``): no provider module is imported here. Status changes go through ``transition``, which
allows only what ``orders.models.TRANSITIONS`` states."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.catalog.models import Product, Variant, visible_products_clause
from marketplace.core.audit import record
from marketplace.core.cache import STOCK_CHECKED, mark_catalog_changed
from marketplace.core.money import format_vnd, to_minor_unit
from marketplace.core.outbox import queue_mail
from marketplace.core.time import to_vn, utcnow
from marketplace.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound, OutOfStock
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.orders import reviews
from marketplace.orders.models import (
    ORDER_IDS_OPTION,
    TRANSITIONS,
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    SavedAddress,
    order_number,
    sources_of,
)
from marketplace.orders.models import (
    OrderStatus as S,
)
from marketplace.payments import registry
from marketplace.payments.gateway import (
    PaymentLine,
    PaymentRequest,
    RefundRequest,
    RefundState,
    external_url,
)
from marketplace.payments.models import Refund, RefundStatus
from marketplace.shops import alerts, shipping
from marketplace.shops.access import can_handle_orders
from marketplace.shops.models import AlertKind, Shop

log = logging.getLogger(__name__)
MAX_CHECKOUT_LINES = 100  # Stripe's line-item limit per session
STATUS_LABELS = {
    S.PENDING_PAYMENT: ("Chờ thanh toán", "Awaiting payment"),
    S.AWAITING_SHIPMENT: ("Chờ giao hàng (COD)", "Awaiting shipment (cash on delivery)"),
    S.PAID: ("Đã thanh toán, chờ giao", "Paid, awaiting shipment"),
    S.SHIPPED: ("Đang giao", "Shipped"),
    S.DELIVERED: ("Đã giao", "Delivered"),
    S.COMPLETED: ("Hoàn tất", "Completed"),
    S.CANCELLED: ("Đã hủy", "Cancelled"),
    S.EXPIRED: ("Hết hạn thanh toán", "Payment expired"),
    S.REFUNDED: ("Đã hoàn tiền", "Refunded"),
    S.NEEDS_REVIEW: ("Đang kiểm tra", "Under review"),
}


# Who changed an order's status, in the words people use (``OrderEvent.actor_label``).
ACTOR_LABELS = {
    "shopper": ("Người mua", "Buyer"),
    "guest": ("Người mua (khách)", "Buyer (guest)"),
    "artisan": ("Cửa hàng", "Shop"),
    "admin": ("Quản trị viên", "Administrator"),
    "official": ("Cán bộ hỗ trợ", "Official"),
    "system": ("Hệ thống", "System"),
    "refund": ("Hệ thống hoàn tiền", "Refund system"),
    "stripe": ("Cổng thanh toán", "Payment provider"),
    "vnpay": ("Cổng thanh toán", "Payment provider"),
    "vietqr": ("Ngân hàng", "Bank"),
    "bank": ("Ngân hàng", "Bank"),
    "webhook": ("Cổng thanh toán", "Payment provider"),
    "reconcile": ("Cổng thanh toán", "Payment provider"),
    "success_page": ("Cổng thanh toán", "Payment provider"),
    "return_page": ("Cổng thanh toán", "Payment provider"),
}


def format_vn_time(moment) -> str:
    """A stored (naive UTC) moment as Hà Nội time: ``14:05 07/12/2026``."""
    local = to_vn(moment)
    return local.strftime("%H:%M %d/%m/%Y") if local is not None else ""


# Why a shop cancels an order (the seller's cancel page offers these; "other" needs a free text).
CANCEL_REASONS = {
    "out_of_stock": ("Hết hàng", "Out of stock"),
    "cannot_deliver": ("Không giao được đến địa chỉ này", "Cannot deliver to this address"),
    "buyer_asked": ("Khách yêu cầu hủy", "The customer asked to cancel"),
    "wrong_listing": ("Sai giá hoặc thông tin sản phẩm", "Wrong price or product details"),
    "other": ("Lý do khác", "Other reason"),
}
CANCEL_NOTE_MAX = 300


@dataclass
class Address:
    recipient_name: str
    phone: str
    province: str
    ward: str
    street: str
    email: str | None = None
    note: str | None = None


# --- signed links for guests -------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="checkout-view")


def checkout_link_token(checkout_id: int) -> str:
    return _serializer().dumps(checkout_id)


def checkout_from_token(token: str) -> Checkout:
    try:
        checkout_id = int(_serializer().loads(token))
    except (BadSignature, TypeError, ValueError):
        raise NotFound(_("Đường dẫn không hợp lệ.")) from None
    checkout = db.session.get(Checkout, checkout_id)
    if checkout is None:
        raise NotFound(_("Không tìm thấy đơn hàng."))
    return checkout


def checkout_url(checkout: Checkout) -> str:
    return external_url("orders.checkout_view", token=checkout_link_token(checkout.id))


# --- online payment ------------------------------------------------------------------------------

def awaiting_payment(checkout: Checkout) -> bool:
    """A checkout paid online whose orders still wait for the payment (and whose method is enabled)."""
    gateway = registry.get(checkout.payment_method)
    return (gateway.prepaid and gateway.enabled(current_app.config)
            and any(o.status == S.PENDING_PAYMENT for o in checkout.orders))


def start_payment(checkout: Checkout) -> str:
    """Open (or, with the same idempotency key, get back) the checkout's payment session at its payment
    method; returns where the shopper pays. Raises PaymentGatewayError."""
    gateway = registry.get(checkout.payment_method)
    started = gateway.start_payment(PaymentRequest(
        checkout_id=checkout.id, amount=checkout.total, currency=current_app.config["CURRENCY"],
        lines=_payment_lines(checkout) if gateway.itemised else (), email=checkout.email,
        expires_at=checkout.hold_expires_at, idempotency_key=f"checkout-{checkout.token}",
        cancel_url=checkout_url(checkout),
        metadata={"checkout_id": str(checkout.id), "order_ids": ",".join(str(o.id) for o in checkout.orders)}))
    if checkout.stripe_session_id != started.session_id:
        db.session.execute(sa.update(Checkout).where(Checkout.id == checkout.id)
                           .values(stripe_session_id=started.session_id)
                           .execution_options(synchronize_session=False))
        set_committed_value(checkout, "stripe_session_id", started.session_id)
    return started.redirect_url


def _payment_lines(checkout: Checkout) -> tuple[PaymentLine, ...]:
    """The checkout's order lines and shipping fees as the provider lists them (itemised methods only)."""
    lines = [PaymentLine(name=f"{line.title} – {line.variant_name}", unit_amount=line.unit_price,
                         quantity=line.quantity,
                         metadata={"listing_id": str(line.product_id or ""), "vendor_id": str(line.shop_id),
                                   "order_id": str(line.order_id)})
             for order in checkout.orders for line in order.lines]
    # In the checkout's language, not the request's: a retry under the same idempotency key must send
    # the same parameters, whichever language the shopper has switched to since.
    with force_locale(checkout.locale or "vi"):
        for order in checkout.orders:
            if order.shipping_fee:
                lines.append(PaymentLine(name=_("Phí vận chuyển – %(shop)s", shop=order.shop.name),
                                         unit_amount=order.shipping_fee, quantity=1,
                                         metadata={"vendor_id": str(order.shop_id), "order_id": str(order.id)}))
    return tuple(lines)


# --- stock ---------------------------------------------------------------------------------------
# Stock statements run on the session's connection (same transaction) with RETURNING the new stock.
# Listings show stock only as "Hết hàng" (sold out), so they bump the catalog version only when a
# variant's stock reaches 0 or leaves 0 (cached pages stay true without a bump per sale). The search
# index holds no stock, so they are no search change either.

_variants = Variant.__table__
_TAKE = (sa.update(_variants)
         .where(_variants.c.id == sa.bindparam("variant_id"), _variants.c.stock >= sa.bindparam("quantity"))
         .values(stock=_variants.c.stock - sa.bindparam("quantity")).returning(_variants.c.stock)
         .execution_options(**{STOCK_CHECKED: True}))
_RETURN = (sa.update(_variants).where(_variants.c.id == sa.bindparam("variant_id"))
           .values(stock=_variants.c.stock + sa.bindparam("quantity")).returning(_variants.c.stock)
           .execution_options(**{STOCK_CHECKED: True}))


def take_stock(quantities: dict[int, int], titles: dict[int, str] | None = None) -> dict[int, int]:
    """All or nothing: ``UPDATE variants SET stock = stock - :n WHERE id = :id AND stock >= :n`` in
    ascending id order (no deadlocks between carts). The caller's transaction is rolled back on failure."""
    conn = db.session.connection()
    remaining: dict[int, int] = {}  # variant id → stock left
    for variant_id in sorted(quantities):
        n = quantities[variant_id]
        left = conn.execute(_TAKE, {"variant_id": variant_id, "quantity": n}).scalar()
        if left is None:
            left = conn.scalar(sa.select(_variants.c.stock).where(_variants.c.id == variant_id)) or 0
            name = (titles or {}).get(variant_id, f"#{variant_id}")
            message = (_("“%(name)s” chỉ còn %(left)s sản phẩm.", name=name, left=left) if left
                       else _("“%(name)s” đã hết hàng.", name=name))
            raise OutOfStock(message, details={"variant_id": variant_id, "available": left, "title": name})
        if left == 0:
            mark_catalog_changed(db.session)  # sold out: listings show "Hết hàng"
        remaining[variant_id] = left
    return remaining


def return_stock(order: Order) -> None:
    conn = db.session.connection()
    for line in sorted(order.lines, key=lambda ln: ln.variant_id or 0):
        if line.variant_id is not None:
            stock = conn.execute(_RETURN, {"variant_id": line.variant_id, "quantity": line.quantity}).scalar()
            if stock is not None and stock == line.quantity:
                mark_catalog_changed(db.session)  # back from 0: no longer "Hết hàng"


# --- checkout ------------------------------------------------------------------------------------

_checkouts, _orders, _lines, _events = (Checkout.__table__, Order.__table__, OrderLine.__table__,
                                        OrderEvent.__table__)
_P, _S, _V = Product.__table__.c, Shop.__table__.c, _variants.c
_insert_checkout_by_dialect: dict = {}
_INSERT_ORDERS = sa.insert(_orders).returning(_orders.c.id, sort_by_parameter_order=True)
_INSERT_LINES = sa.insert(_lines)
_INSERT_EVENTS = sa.insert(_events)


@lru_cache(maxsize=1)
def _cart_rows_statement():
    """Variant, product and shop columns of a cart's variants, with the catalog's visibility rule."""
    return (sa.select(_V.id, _V.name, _V.sku, _V.price, _P.id.label("product_id"), _P.title_vi,
                      _S.id.label("shop_id"), _S.name.label("shop_name"), _S.village_id, _S.shipping_fee,
                      _S.free_shipping_over, _S.shipping_fee_hanoi, _S.delivery_days_hanoi, _S.delivery_days_other,
                      _S.shipping_weight_bands, _S.low_stock_threshold, _P.weight_grams,
                      sa.case((visible_products_clause(), True), else_=False).label("visible"))
            .select_from(_variants.join(Product.__table__, _V.product_id == _P.id)
                         .join(Shop.__table__, _P.shop_id == _S.id))
            .where(_V.id.in_(sa.bindparam("ids", expanding=True))).order_by(_S.id, _V.id))


def find_checkout(token: str) -> Checkout | None:
    return db.session.scalar(sa.select(Checkout).where(Checkout.token == token))


def _attach(model, values: dict):
    """A row just INSERTed with Core as a persistent object of the session, without a SELECT: the
    given column values count as loaded (and unchanged), the others load on first access."""
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def _insert_checkout(dialect: str):
    """INSERT … ON CONFLICT (token) DO NOTHING RETURNING id: no row back = the token is already used
    (on PostgreSQL a concurrent insert of the same token waits for the other transaction's outcome)."""
    statement = _insert_checkout_by_dialect.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = _insert_checkout_by_dialect[dialect] = (
            insert(_checkouts).on_conflict_do_nothing(index_elements=[_checkouts.c.token])
            .returning(_checkouts.c.id))
    return statement


def _cart_rows(conn, items: dict[int, int], payment_method: str) -> tuple[list, dict[int, str]]:
    """The cart's variants with their product and shop, checked: sellable, visible, whole đồng."""
    registry.get(payment_method)  # InvalidInput for a method this site does not have
    if not items:
        raise InvalidInput(_("Giỏ hàng đang trống."))
    if len(items) > MAX_CHECKOUT_LINES or any(not isinstance(q, int) or q < 1 for q in items.values()):
        raise InvalidInput(_("Giỏ hàng không hợp lệ."))
    rows = conn.execute(_cart_rows_statement(), {"ids": list(items)}).all()
    if {r.id for r in rows} != set(items):
        raise OutOfStock(_("Một sản phẩm trong giỏ không còn được bán."))
    titles = {}
    for r in rows:
        titles[r.id] = f"{r.title_vi} – {r.name}"
        if not r.visible:
            raise OutOfStock(_("“%(name)s” không còn được bán.", name=titles[r.id]), details={"variant_id": r.id})
        to_minor_unit(r.price)  # int đồng only (T-W13)
    return rows, titles


def place_checkout(buyer, items: dict[int, int], address: Address, payment_method: str, token: str,
                   locale: str = "vi") -> Checkout:
    """One checkout → one order per shop, lines snapshotting the sale; stock taken in this transaction.
    A token already used returns its checkout (double submit → one set of orders): the checkout row is
    inserted with the unique token before any stock is touched.

    Written with Core statements (one INSERT per table, RETURNING ids) on the session's connection;
    the returned Checkout and its ``orders`` are ordinary persistent objects of the session."""
    if not token or len(token) > 64:
        raise InvalidInput(_("Phiên đặt hàng không hợp lệ, vui lòng thử lại."))
    conn = db.session.connection()
    try:
        rows, titles = _cart_rows(conn, items, payment_method)
    except DomainError:
        existing = find_checkout(token)  # a repeated submit whose cart has changed since: the first one's
        if existing is not None:
            return existing
        raise

    buyer_id = buyer.id if buyer is not None and getattr(buyer, "is_authenticated", False) else None
    email = address.email or (getattr(buyer, "email", None) if buyer_id else None)
    gateway = registry.get(payment_method)
    by_shop: dict[int, list] = {}
    for r in rows:
        by_shop.setdefault(r.shop_id, []).append(r)
    totals = {}
    for shop_id, shop_rows in by_shop.items():
        subtotal = sum(r.price * items[r.id] for r in shop_rows)
        weight = sum((r.weight_grams or 0) * items[r.id] for r in shop_rows)
        shipping_quote = shipping.quote(shop_rows[0], address.province, subtotal, weight)  # the one rule, on a row
        totals[shop_id] = (subtotal, shipping_quote.fee, shipping_quote.days)
    now = utcnow()
    checkout_values = dict(token=token, buyer_id=buyer_id, email=email, payment_method=payment_method,
                           total=sum(a + b for a, b, _days in totals.values()), locale=locale,
                           hold_expires_at=now + gateway.stock_hold if gateway.prepaid else None, created_at=now)
    checkout_id = conn.execute(_insert_checkout(conn.dialect.name), checkout_values).scalar()
    if checkout_id is None:  # the token is used (a double submit, perhaps concurrent): nothing is taken twice
        return find_checkout(token)
    remaining = take_stock(items, titles)

    status = S.PENDING_PAYMENT if gateway.prepaid else S.AWAITING_SHIPMENT
    order_values = []
    for shop_id in by_shop:
        subtotal, fee, days = totals[shop_id]
        order_values.append(dict(delivery_days=days,
            checkout_id=checkout_id, shop_id=shop_id, buyer_id=buyer_id, status=status,
            payment_method=payment_method, subtotal=subtotal, shipping_fee=fee, total=subtotal + fee,
            refunded_amount=0, commission=0, recipient_name=address.recipient_name, phone=address.phone,
            email=email, province=address.province, ward=address.ward, street=address.street, note=address.note,
            created_at=now))
    order_ids = conn.execute(_INSERT_ORDERS, order_values).scalars().all()
    line_values, event_values = [], []
    actor_label = "shopper" if buyer_id else "guest"
    for order_id, shop_rows in zip(order_ids, by_shop.values()):
        for r in shop_rows:
            line_values.append(dict(order_id=order_id, product_id=r.product_id, variant_id=r.id, shop_id=r.shop_id,
                                    village_id=r.village_id, title=r.title_vi, variant_name=r.name, sku=r.sku,
                                    unit_price=r.price, quantity=items[r.id], refunded_amount=0))
        event_values.append(dict(order_id=order_id, from_status=None, to_status=status, actor_id=buyer_id,
                                 actor_label=actor_label, note=None, created_at=now))
    conn.execute(_INSERT_LINES, line_values)
    conn.execute(_INSERT_EVENTS, event_values)

    checkout = _attach(Checkout, {"id": checkout_id, "stripe_session_id": None, "payment_intent_id": None,
                                  **checkout_values})
    placed = [_attach(Order, {"id": order_id, **values}) for order_id, values in zip(order_ids, order_values)]
    for order in placed:
        set_committed_value(order, "checkout", checkout)
    set_committed_value(checkout, "orders", placed)
    _mail_placed(checkout, placed, by_shop, items)
    _alert_placed(placed, by_shop, items, remaining)
    return checkout


def _alert_placed(placed: list[Order], by_shop: dict[int, list], items: dict[int, int],
                  remaining: dict[int, int]) -> None:
    """Tell each shop: a new order (paid on delivery: now; paid online: when paid, in ``transition``) and
    every variant this checkout took down to the shop's low-stock threshold."""
    for order, shop_rows in zip(placed, by_shop.values()):
        shop = db.session.get(Shop, order.shop_id)
        if order.status == S.AWAITING_SHIPMENT:
            _alert_order(shop, order, [f"{r.title_vi} – {r.name} × {items[r.id]}" for r in shop_rows])
        threshold = alerts.low_stock_threshold(shop_rows[0])
        for r in shop_rows:
            left = remaining.get(r.id)
            if left is not None and left <= threshold < left + items[r.id]:
                alerts.alert_shop(shop, AlertKind.LOW_STOCK, product=r.title_vi, variant=r.name, stock=left,
                                  link=external_url("seller.product_edit", product_id=r.product_id))


def _alert_order(shop: Shop, order: Order, lines: list[str] | None = None) -> None:
    if lines is None:
        lines = [f"{ln.title} – {ln.variant_name} × {ln.quantity}" for ln in order.lines]
    alerts.alert_shop(shop, AlertKind.ORDER, number=order_number(order.id), total=format_vnd(order.total),
                      lines=lines, link=external_url("orders.seller_order", order_id=order.id))


def _mail_placed(checkout: Checkout, placed: list[Order], by_shop: dict[int, list], items: dict[int, int]) -> None:
    queue_mail(db.session, checkout.email, "order_placed", checkout.locale,
               checkout_total=format_vnd(checkout.total), link=checkout_url(checkout),
               card=registry.get(checkout.payment_method).prepaid, method=checkout.payment_method,
               hold_until=to_vn(checkout.hold_expires_at).strftime("%H:%M %d/%m/%Y") if checkout.hold_expires_at else None,
               orders=[{"number": order_number(o.id), "shop": shop_rows[0].shop_name, "total": format_vnd(o.total),
                        "lines": [f"{r.title_vi} – {r.name} × {items[r.id]}" for r in shop_rows]}
                       for o, shop_rows in zip(placed, by_shop.values())])


# --- transitions ---------------------------------------------------------------------------------

class IllegalTransition(Conflict):
    """A status change that ``TRANSITIONS`` does not allow (a programming error, refused before any SQL)."""

    code = "illegal_transition"


@lru_cache(maxsize=1)
def _order_columns() -> tuple[tuple[str, ...], tuple, dict]:
    """The order's column attributes (keys, columns, key → column), read once the mappers are configured
    (not at import: reading ``column_attrs`` configures every mapper, some of whose classes are not imported
    yet)."""
    keys = tuple(prop.key for prop in Order.__mapper__.column_attrs)
    columns = tuple(Order.__mapper__.column_attrs[key].columns[0] for key in keys)
    return keys, columns, dict(zip(keys, columns, strict=True))


def transition(order: Order, to_state: str, actor=None, label: str | None = None, note: str | None = None,
               mail: bool = True, only_from=None, **values) -> bool:
    """Conditional state change: ``UPDATE orders SET status=:to WHERE id=:id AND status IN (:from)``, where
    the from-states are those ``TRANSITIONS`` allows to reach ``to_state`` (``only_from`` narrows them
    further; every one of them must be allowed). Returns False (and changes nothing) when the order is in
    no such state — another request got there first, or the change is not allowed from where it is."""
    allowed = sources_of(to_state)
    if only_from is not None:
        refused = [s for s in only_from if to_state not in TRANSITIONS.get(s, ())]
        if refused:
            raise IllegalTransition(f"{', '.join(refused)} → {to_state} is not an allowed order status change")
        allowed = tuple(s for s in allowed if s in only_from)
    if not allowed:
        raise IllegalTransition(f"no order status may change to {to_state}")
    before = order.status
    order_keys, order_columns, column_of = _order_columns()
    row = db.session.execute(  # a Core statement on the orders table (no ORM bulk-update machinery)
        sa.update(_orders).where(_orders.c.id == order.id, _orders.c.status.in_(allowed))
        .values({column_of[key]: value for key, value in (("status", to_state), *values.items())})
        .returning(*order_columns)
        .execution_options(**{ORDER_IDS_OPTION: (order.id,)})  # the sales aggregates: which order moved
    ).first()
    if row is None:
        db.session.expire(order)
        return False
    # the row as the UPDATE left it (read under its lock): the order is fresh without another SELECT
    for key, value in zip(order_keys, row, strict=True):
        set_committed_value(order, key, value)
    actor_id = getattr(actor, "id", None)
    db.session.execute(_INSERT_EVENTS, dict(order_id=order.id, from_status=before if before in allowed else None,
                                            to_status=to_state, actor_id=actor_id, note=note, created_at=utcnow(),
                                            actor_label=label or getattr(actor, "role", None) or "system"))
    if mail:
        _mail_status(order)
    if to_state == S.PAID:
        _alert_order(order.shop, order)
    elif (to_state == S.CANCELLED and before != S.PENDING_PAYMENT  # an unpaid hold was never announced
          and not (actor is not None and order.shop.owner_id == actor_id)):  # nor is the shop's own cancel
        alerts.alert_shop(order.shop, AlertKind.CANCEL, number=order_number(order.id), reason=note,
                          link=external_url("orders.seller_order", order_id=order.id))
    return True


def _mail_status(order: Order) -> None:
    checkout = order.checkout
    review_links = []
    if order.status == S.DELIVERED:  # one signed link per product: reviewing needs no account
        seen = set()
        for line in order.lines:
            if line.product_id is not None and line.product_id not in seen:
                seen.add(line.product_id)
                review_links.append({"title": line.title, "link": reviews.review_url(order.id, line.product_id)})
    queue_mail(db.session, order.email, "order_status", checkout.locale,
               number=order_number(order.id), status=order.status, labels=STATUS_LABELS.get(order.status),
               shop=order.shop.name, total=format_vnd(order.total), carrier=order.carrier,
               tracking=order.tracking_number, refunded=format_vnd(order.refunded_amount or 0),
               reason=order.cancel_reason if order.status == S.CANCELLED else None,
               link=checkout_url(checkout), review_links=review_links)


def can_manage_order(user, order: Order) -> bool:
    return can_handle_orders(user, order.shop)


def is_shop_side(user, order: Order) -> bool:
    """The user handles the order as the shop itself (its owner), not as an admin looking on."""
    return getattr(user, "id", None) is not None and order.shop.owner_id == user.id


def _require_manager(user, order: Order) -> None:
    if not can_manage_order(user, order):
        raise NotAllowed(_("Bạn không quản lý đơn hàng này."))


def get_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("Không tìm thấy đơn hàng."))
    return order


def ship_order(user, order: Order, carrier: str, tracking_number: str) -> Order:
    _require_manager(user, order)
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidInput(_("Cần đơn vị vận chuyển và mã vận đơn."), field="tracking_number")
    if not transition(order, S.SHIPPED, user, carrier=carrier[:80], tracking_number=tracking_number[:80],
                      shipped_at=utcnow()):
        raise Conflict(_("Đơn hàng không ở trạng thái chờ giao."))
    record(user, "order.ship", "order", order.id, after={"carrier": carrier, "tracking": tracking_number})
    return order


def deliver_order(user, order: Order) -> Order:
    """Delivered; a cash-on-delivery order counts as paid now (commission booked)."""
    _require_manager(user, order)
    now = utcnow()
    values = {"delivered_at": now}
    if not registry.get(order.payment_method).prepaid:  # paid on delivery: paid now
        values.update(paid_at=now, commission=commission_for(order))
    if not transition(order, S.DELIVERED, user, **values):
        raise Conflict(_("Chỉ đơn đang giao mới có thể xác nhận đã giao."))
    reviews.count_sold(order)  # "đã bán" on cards: delivered units
    if "paid_at" in values:
        ledger.post_sale(order)  # the shop has the cash: only the commission is owed, by the shop
    record(user, "order.deliver", "order", order.id)
    return order


def complete_order(user, order: Order) -> Order:
    """The buyer confirms receipt (or an admin closes it)."""
    is_buyer = user is not None and getattr(user, "is_authenticated", False) and order.buyer_id == user.id
    if not (is_buyer or getattr(user, "role", None) == "admin"):
        raise NotAllowed(_("Bạn không thể hoàn tất đơn này."))
    if not transition(order, S.COMPLETED, user):
        raise Conflict(_("Chỉ đơn đã giao mới hoàn tất được."))
    return order


def cancel_reason_text(code: str | None, note: str | None) -> str:
    """The reason a shop gives for cancelling: one of ``CANCEL_REASONS`` and/or a free text ("other" and
    no code need the text). Raises InvalidInput when there is none. Stored in Vietnamese (the source
    language), the label first: "Hết hàng — men bị nứt"."""
    note = " ".join((note or "").split())[:CANCEL_NOTE_MAX]
    if code is not None and code not in CANCEL_REASONS:
        raise InvalidInput(_("Hãy chọn lý do hủy trong danh sách."), field="reason_code")
    if (code is None or code == "other") and not note:
        raise InvalidInput(_("Hãy cho khách biết lý do hủy đơn."), field="reason")
    if code is None or code == "other":
        return note
    label = CANCEL_REASONS[code][0]
    return f"{label} — {note}" if note else label


def cancel_order(user, order: Order, reason: str | None = None, code: str | None = None) -> Order:
    """Cancel before shipping, with a reason (``cancel_reason_text``: required); stock returns; the buyer
    is mailed the reason. An order paid online is refunded in the same step (what is left of it, through
    its payment method with an idempotency key): if the provider refuses, the caller rolls back and
    nothing is cancelled."""
    _require_manager(user, order)
    text = cancel_reason_text(code, reason)
    to_refund = refundable_amount(order) if registry.get(order.payment_method).prepaid else 0
    if not transition(order, S.CANCELLED, user, note=text, cancelled_at=utcnow(), cancel_reason=text):
        raise Conflict(_("Đơn hàng không thể hủy ở trạng thái này."))
    return_stock(order)
    record(user, "order.cancel", "order", order.id, note=text)
    if to_refund:
        refund_order(user, order, to_refund, text)
    return order


# --- the buyer's side: cancel before shipping, look an order up, saved addresses -------------------

BUYER_CANCELLABLE = (S.AWAITING_SHIPMENT, S.PENDING_PAYMENT)  # not paid yet and not shipped


def buyer_may_cancel(order: Order) -> bool:
    return order.status in BUYER_CANCELLABLE


def buyer_cancel_order(buyer, order: Order, reason: str | None = None) -> Order:
    """The buyer (signed in, or a guest holding the order's signed link) cancels before the shop ships and
    before anything was paid: stock returns and the shop is told (its cancellation alert). The caller checked who asks."""
    if not transition(order, S.CANCELLED, buyer, label="shopper" if getattr(buyer, "id", None) else "guest",
                      note=reason, only_from=BUYER_CANCELLABLE, cancelled_at=utcnow()):
        raise Conflict(_("Đơn hàng đã được giao cho đơn vị vận chuyển hoặc đã thanh toán nên không tự hủy được; "
                         "vui lòng liên hệ cửa hàng."))
    return_stock(order)
    record(buyer, "order.buyer_cancel", "order", order.id, note=reason)
    # the shop is told by ``transition``'s cancellation alert (with the reason): one mail, or the digest
    return order


def parse_order_code(text: str | None) -> int | None:
    """"CLN-000123", "cln 123", "123" → 123; None otherwise."""
    digits = "".join((text or "").split()).upper().removeprefix("CLN").lstrip("-#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    number = int(digits)
    return number if number > 0 else None


def lookup_order(phone: str | None, code: str | None) -> Order | None:
    """The order with this code placed with this phone number; None for any mismatch (the caller answers
    every miss the same way, so nobody learns which codes or phones exist)."""
    number = parse_order_code(code)
    if number is None or not phone:
        return None
    return db.session.scalar(sa.select(Order).where(Order.id == number, Order.phone == phone))


MAX_SAVED_ADDRESSES = 10


def saved_addresses(user) -> list[SavedAddress]:
    return list(db.session.scalars(sa.select(SavedAddress).where(SavedAddress.user_id == user.id)
                                   .order_by(SavedAddress.last_used_at.desc(), SavedAddress.id.desc())))


def get_saved_address(user, address_id: int | None) -> SavedAddress:
    """The user's own saved address; NotFound (404) for anyone else's or none."""
    item = db.session.get(SavedAddress, address_id) if address_id else None
    if item is None or item.user_id != user.id:
        raise NotFound(_("Không tìm thấy địa chỉ."))
    return item


def save_address(user, address: Address, province_code: str) -> SavedAddress:
    """Remember a delivery address for a signed-in buyer (the same one again only moves it first)."""
    fields = dict(recipient_name=address.recipient_name[:120], phone=address.phone, province_code=province_code,
                  ward=address.ward[:120], street=address.street[:255])
    existing = db.session.scalar(sa.select(SavedAddress).where(
        SavedAddress.user_id == user.id, *[getattr(SavedAddress, k) == v for k, v in fields.items()]))
    if existing is not None:
        existing.last_used_at = utcnow()
        db.session.flush()
        return existing
    mine = saved_addresses(user)
    for old in mine[MAX_SAVED_ADDRESSES - 1:]:  # keep the most recent ones
        db.session.delete(old)
    item = SavedAddress(user_id=user.id, **fields)
    db.session.add(item)
    db.session.flush()
    return item


def delete_saved_address(user, address_id: int | None) -> None:
    db.session.delete(get_saved_address(user, address_id))
    db.session.flush()


def release_checkout(checkout: Checkout, to_state: str, label: str, note: str | None = None) -> list[int]:
    """Card payment expired or failed: pending orders end and their held stock returns (once)."""
    released = []
    for order in checkout.orders:
        if transition(order, to_state, None, label=label, note=note, only_from=(S.PENDING_PAYMENT,),
                      cancelled_at=utcnow()):
            return_stock(order)
            released.append(order.id)
    return released


# --- money: commission, refunds (the ledger's lines: marketplace.ledger) ----------------------------------------------------------

def commission_for(order: Order) -> int:
    percent = int(current_app.config["PLATFORM_COMMISSION_PERCENT"])
    return (order.subtotal * percent + 50) // 100


def refundable_amount(order: Order) -> int:
    if not order.paid_at:
        return 0
    return max(order.total - (order.refunded_amount or 0), 0)


def refund_order(user, order: Order, amount: int, reason: str | None = None) -> Refund:
    """Refund all or part of one shop's order. Never above paid minus earlier refunds (checked in the
    database with a conditional UPDATE). The order's payment method refunds it, with an idempotency key
    derived from the order's state (card: through the provider, perhaps pending; cash on delivery:
    recorded at once for a manual bank transfer)."""
    _require_manager(user, order)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput(_("Số tiền hoàn phải là số đồng nguyên dương."), field="amount")
    if not order.paid_at:
        raise Conflict(_("Đơn chưa được thanh toán nên chưa thể hoàn tiền."))
    before = order.refunded_amount or 0
    if amount > order.total - before:
        raise InvalidInput(_("Chỉ có thể hoàn tối đa %(amount)s.", amount=format_vnd(order.total - before)),
                           field="amount")
    # The rule, in the database: only from the state this request decided on (``== before``: a refund
    # committed since → 409, reload) and never above what was paid. Mutation testing: given ``== before``
    # and the check above, ``refunded + amount <= total`` always holds, so dropping or weakening it
    # (``-`` for ``+``) is an equivalent mutant; it stays so that the UPDATE states the rule by itself
    # (tests/orders/test_refund_races.py fails when both conditions go). ``synchronize_session=None`` for
    # ``False`` is equivalent too (the order is expired below).
    result = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.refunded_amount + amount <= Order.total,
                               Order.refunded_amount == before)
        .values(refunded_amount=Order.refunded_amount + amount).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("Đơn vừa được hoàn tiền bởi người khác, vui lòng tải lại trang."))
    # The key is the same for a retry of this very request (rolled back, e.g. the provider did not answer)
    # and new once a refund was booked since, even one that failed and gave its amount back (same ``before``).
    booked = db.session.scalar(sa.select(sa.func.count()).select_from(Refund).where(Refund.order_id == order.id))
    key = f"refund-{order.id}-{booked}-{before}-{amount}"
    refund = Refund(order_id=order.id, shop_id=order.shop_id, amount=amount, method=order.payment_method,
                    reason=(reason or "")[:300] or None, idempotency_key=key, actor_id=getattr(user, "id", None))
    db.session.add(refund)
    try:
        db.session.flush()
    except IntegrityError:  # the same refund booked by a concurrent request: one refund, this one a 409
        raise Conflict(_("Đơn vừa được hoàn tiền bởi người khác, vui lòng tải lại trang.")) from None
    checkout = order.checkout
    result = registry.get(order.payment_method).refund(RefundRequest(
        order_id=order.id, shop_id=order.shop_id, checkout_id=checkout.id, payment_id=checkout.payment_intent_id,
        amount=amount, idempotency_key=key))
    if result.refund_id is not None:
        refund.stripe_refund_id = result.refund_id
    apply_refund_result(refund, result.status)
    record(user, "order.refund", "order", order.id, after={"amount": amount, "method": refund.method})
    db.session.expire(order)
    return refund


def apply_refund_result(refund: Refund, status: str | None) -> bool:
    """The payment method's final word on one of our refunds; True when it changed something here (once)."""
    if status == RefundState.SUCCEEDED:
        return mark_refund_succeeded(refund)
    if status == RefundState.FAILED:
        return mark_refund_failed(refund)
    return False


def mark_refund_succeeded(refund: Refund) -> bool:
    result = db.session.execute(
        sa.update(Refund).where(Refund.id == refund.id, Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.SUCCEEDED).execution_options(synchronize_session=False)
    )
    db.session.expire(refund)
    if result.rowcount != 1:
        return False
    ledger.post_refund(refund)  # who paid the buyer back, and the commission / withheld tax reversed
    order = db.session.get(Order, refund.order_id)
    db.session.refresh(order)
    succeeded = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.SUCCEEDED))
    if succeeded >= order.total:
        was_sold = order.status in S.DELIVERED_STATES
        if transition(order, S.REFUNDED, None, label="refund") and was_sold:
            reviews.count_sold(order, -1)  # refunded in full after delivery: no longer counted as sold
    else:
        _mail_status(order)
    return True


def mark_refund_failed(refund: Refund) -> bool:
    """A refund that failed gives its amount back to the refundable balance (once)."""
    previous = refund.status
    result = db.session.execute(
        sa.update(Refund).where(Refund.id == refund.id, Refund.status.in_((RefundStatus.PENDING, RefundStatus.SUCCEEDED)))
        .values(status=RefundStatus.FAILED).execution_options(synchronize_session=False)
    )
    db.session.expire(refund)
    if result.rowcount != 1:
        return False
    db.session.execute(sa.update(Order).where(Order.id == refund.order_id)
                       .values(refunded_amount=Order.refunded_amount - refund.amount)
                       .execution_options(synchronize_session=False))
    if previous == RefundStatus.SUCCEEDED:
        ledger.void_refund(refund)  # it was booked: the correction is a mirror entry
    log.warning("refund %s for order %s failed (was %s): ops must follow up", refund.id, refund.order_id, previous)
    return True
