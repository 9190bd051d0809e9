"""Checkout, the shopper's orders, the artisan's order queue, refunds and reviews (statements: ``ledger``).

Each view runs in the unit of work (``core/uow.py``): it commits when the view returns and rolls back on
any exception; a DomainError becomes a flash + 303 where the view says ``@uow.error_redirect``. The one
early commit is card checkout's, before the payment provider is called."""
from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.accounts.permissions import login_required_any, public, role_required
from marketplace.accounts.phone import normalize_vn_mobile
from marketplace.cart import services as cart_services
from marketplace.catalog import queries as catalog_queries
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.core.outbox import queue_mail
from marketplace.core.pagination import Paged, page_arg
from marketplace.core.templating import current_lang
from marketplace.errors import InvalidInput, OutOfStock
from marketplace.extensions import db, limiter
from marketplace.orders import addresses, bp, messages, reviews, services
from marketplace.orders.forms import (
    CancelForm,
    CheckoutForm,
    EmptyForm,
    LookupForm,
    MessageForm,
    RefundForm,
    ReplyForm,
    ReviewForm,
    ShipForm,
)
from marketplace.orders.models import Checkout, MessageAuthor, Order, OrderEvent, OrderStatus, Review, order_number
from marketplace.payments import registry
from marketplace.payments.gateway import PaymentGatewayError, external_url
from marketplace.payments.models import Refund
from marketplace.shops.access import handled_shops_clause
from marketplace.shops.models import Shop

TOKEN_KEY = "checkout_token"


def _start_payment(checkout: Checkout):
    uow.commit_early("card checkout: the orders and their held stock are committed before the payment "
                     "provider is called (it may fail or be slow; the shopper can pay again from the order page)")
    with uow.field_errors() as outcome:
        location = services.start_payment(checkout)
    if outcome.error is not None:
        if not isinstance(outcome.error, PaymentGatewayError):
            raise outcome.error
        flash(_("Chưa mở được trang thanh toán thẻ: %(msg)s Hàng được giữ 30 phút, bấm “Thanh toán” để thử lại.",
                msg=outcome.error.message), "error")
        return redirect(services.checkout_url(checkout), 303)
    return redirect(location, 303)  # the session id is committed with the view


def _checkout_page(form, cart, status: int = 200):
    return render_template("orders/checkout.html", form=form, cart=cart,
                           hanoi_wards=addresses.wards(addresses.HANOI_CODE)), status


def _fill_address(form, item) -> None:
    """The fields from a saved address (``raw_data`` too: InputRequired reads what was "typed")."""
    for name, value in (("recipient_name", item.recipient_name), ("phone", item.phone),
                        ("province", item.province_code), ("ward", item.ward), ("street", item.street)):
        getattr(form, name).data = value
        getattr(form, name).raw_data = [value]


@bp.route("/checkout", methods=["GET", "POST"])
@public
def checkout():
    signed_in = current_user.is_authenticated
    # Phone only: a guest need not give an e-mail (the order is found again with phone + order code).
    form = CheckoutForm(require_email=False, methods=registry.enabled(current_app.config))
    saved = services.saved_addresses(current_user) if signed_in else []
    form.saved_address.choices = [("", _("Nhập địa chỉ mới (bên dưới)"))] + [
        (str(a.id), f"{a.recipient_name} · {a.phone} · {a.street}, {a.ward}, {addresses.province_name(a.province_code) or ''}")
        for a in saved]
    items = cart_services.cart_items()
    if request.method == "GET":
        if not cart_services.build_cart(items).lines:
            return redirect(url_for("cart.view"), 303)
        session[TOKEN_KEY] = uuid.uuid4().hex
        form.token.data = session[TOKEN_KEY]
        if signed_in:
            form.recipient_name.data = current_user.name
            form.email.data = current_user.email
            form.phone.data = current_user.phone
            if saved:
                _fill_address(form, saved[0])
        form.province.data = form.province.data or addresses.HANOI_CODE
        return _checkout_page(form, cart_services.build_cart(items, form.province.data))[0]
    chosen = None
    if signed_in and form.saved_address.data:  # one of the buyer's own saved addresses (anyone else's: 404)
        chosen = services.get_saved_address(current_user, parse_id(form.saved_address.data))
        _fill_address(form, chosen)
    cart = cart_services.build_cart(items, form.province.data)
    token = (form.token.data or "")[:64]
    existing = services.find_checkout(token) if token else None
    if existing is not None:  # double submit: the first one's orders
        return _after_checkout(existing)
    if not form.validate():
        return _checkout_page(form, cart, 400)
    if cart.problems or not cart.lines:
        return uow.done(_("Giỏ hàng đã thay đổi, vui lòng kiểm tra lại."), url_for("cart.view"), "error")
    address = services.Address(
        recipient_name=form.recipient_name.data.strip(), phone=form.normalized_phone,
        province=addresses.province_name(form.province.data), ward=form.official_ward, street=form.street.data.strip(),
        email=(form.email.data or "").strip() or None, note=(form.note.data or "").strip() or None)
    items = cart.items()
    # A concurrent submit of the same token waits for this one (INSERT … ON CONFLICT DO NOTHING on the
    # token) and then gets its checkout back from place_checkout.
    with uow.field_errors() as outcome:
        placed = services.place_checkout(current_user, items, address, form.payment_method.data, token,
                                         locale=current_lang())
        cart_services.remove_items(current_user, items)
        if signed_in and (chosen is not None or form.save_address.data):
            services.save_address(current_user, address, form.province.data)
    if outcome.error is not None:
        if not isinstance(outcome.error, OutOfStock):
            raise outcome.error
        form.form_errors.append(outcome.error.message + " " +
                                _("Chưa có sản phẩm nào bị trừ kho; vui lòng sửa giỏ hàng."))
        return _checkout_page(form, cart, 409)
    session.pop(TOKEN_KEY, None)
    return _after_checkout(placed)


def _after_checkout(placed: Checkout):
    if not current_user.is_authenticated:
        hold_checkout(placed.id)
    if services.awaiting_payment(placed):
        return _start_payment(placed)
    return uow.done(_("Đã đặt hàng. Cảm ơn bạn!"), services.checkout_url(placed))


@bp.route("/orders/c/<token>")
@public
def checkout_view(token: str):
    placed = services.checkout_from_token(token)
    threads = {order.id: messages.thread(order) for order in placed.orders}
    for order in placed.orders:
        messages.mark_read(order, MessageAuthor.BUYER)
    if placed.buyer_id is None:  # the guest's link: it may join the account signed in now or later
        hold_checkout(placed.id)
        if current_user.is_authenticated and reviews.claim_guest_orders(current_user, [placed.id]):
            flash(_("Đơn hàng đã được thêm vào tài khoản của bạn."), "success")
    return render_template("orders/checkout_view.html", checkout=placed, token=token, form=EmptyForm(),
                           can_pay=services.awaiting_payment(placed), threads=threads, message_form=MessageForm())


def _message_limit() -> str:
    return current_app.config["ORDER_MESSAGE_RATE_LIMIT"]


def _post_message(order: Order, author: str, back: str):
    form = MessageForm()
    if not form.validate():
        return uow.done(" ".join(str(e) for errors in form.errors.values() for e in errors), back, "error")
    with uow.field_errors() as outcome:
        messages.post_message(order, author, form.body.data, current_user if current_user.is_authenticated else None)
    if outcome.error is not None:
        return uow.done(outcome.error.message, back, "error")
    return uow.done(_("Đã gửi tin nhắn."), back)


@bp.route("/orders/c/<token>/<int:order_id>/messages", methods=["POST"])
@public
@limiter.limit(_message_limit, scope="order-message")
def guest_message(token: str, order_id: int):
    placed = services.checkout_from_token(token)
    order = db.session.get(Order, order_id)
    if order is None or order.checkout_id != placed.id:
        abort(404)
    return _post_message(order, MessageAuthor.BUYER, services.checkout_url(placed) + f"#messages-{order.id}")


@bp.route("/orders/c/<token>/cancel/<int:order_id>", methods=["POST"])
@public
def guest_cancel(token: str, order_id: int):
    """The holder of the order's signed link cancels one of its orders before the shop ships it."""
    placed = services.checkout_from_token(token)
    order = next((o for o in placed.orders if o.id == order_id), None)
    if order is None or not EmptyForm().validate():
        abort(404 if order is None else 400)
    with uow.field_errors() as outcome:
        services.buyer_cancel_order(current_user if current_user.is_authenticated else None, order,
                                    (request.form.get("reason") or "").strip()[:300] or None)
    if outcome.error is not None:
        flash(outcome.error.message, "error")
        return redirect(services.checkout_url(placed), 303)
    return uow.done(_("Đã hủy đơn %(n)s, cửa hàng đã được báo.", n=order_number(order.id)), services.checkout_url(placed))


@bp.route("/orders/lookup", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"], scope="order-lookup")
def lookup():
    """Find an order again with the phone number it was placed with and its code (guests have no account).
    Every miss gets the same answer: nobody learns whether a code or a phone exists."""
    form = LookupForm()
    if request.method == "POST" and form.validate():
        order = services.lookup_order(addresses.normalize_phone(form.phone.data), form.code.data)
        if order is not None:
            return redirect(services.checkout_url(order.checkout), 303)
        form.form_errors.append(_("Không tìm thấy đơn hàng với số điện thoại và mã đơn này. Vui lòng kiểm tra lại."))
        return render_template("orders/lookup.html", form=form), 404
    return render_template("orders/lookup.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/orders/c/<token>/pay", methods=["POST"])
@public
def pay(token: str):
    placed = services.checkout_from_token(token)
    if not services.awaiting_payment(placed):
        return uow.done(_("Đơn hàng này không chờ thanh toán."), services.checkout_url(placed), "warning")
    return _start_payment(placed)


# --- shopper ---------------------------------------------------------------------------------------

@bp.route("/account/orders")
@login_required_any
def history():
    orders = db.session.scalars(sa.select(Order).where(Order.buyer_id == current_user.id)
                                .order_by(Order.id.desc()).limit(200)).all()
    return render_template("orders/history.html", orders=orders)


@bp.route("/account/orders/<int:order_id>")
@login_required_any
def detail(order_id: int):
    order = services.get_order(order_id)
    if order.buyer_id != current_user.id and current_user.role != "admin":
        abort(404)
    if order.buyer_id == current_user.id:
        messages.mark_read(order, MessageAuthor.BUYER)
    return render_template("orders/order.html", order=order, events=_events(order), form=EmptyForm(),
                           thread=messages.thread(order), message_form=MessageForm())


@bp.route("/account/orders/<int:order_id>/messages", methods=["POST"])
@login_required_any
@limiter.limit(_message_limit, scope="order-message")
def buyer_message(order_id: int):
    order = services.get_order(order_id)
    if order.buyer_id != current_user.id:
        abort(404)
    return _post_message(order, MessageAuthor.BUYER, url_for("orders.detail", order_id=order.id) + f"#messages-{order.id}")


@bp.route("/account/orders/<int:order_id>/complete", methods=["POST"])
@login_required_any
def complete(order_id: int):
    order = services.get_order(order_id)
    services.complete_order(current_user, order)
    return uow.done(_("Cảm ơn bạn đã xác nhận đã nhận hàng."), url_for("orders.detail", order_id=order.id))


@bp.route("/account/orders/<int:order_id>/cancel", methods=["POST"])
@login_required_any
def buyer_cancel(order_id: int):
    order = services.get_order(order_id)
    if order.buyer_id != current_user.id:
        abort(404)
    if not EmptyForm().validate():
        abort(400)
    with uow.field_errors() as outcome:
        services.buyer_cancel_order(current_user, order, (request.form.get("reason") or "").strip()[:300] or None)
    if outcome.error is not None:
        flash(outcome.error.message, "error")
        return redirect(url_for("orders.detail", order_id=order_id), 303)
    return uow.done(_("Đã hủy đơn %(n)s, cửa hàng đã được báo.", n=order_number(order_id)),
                    url_for("orders.detail", order_id=order_id))


@bp.route("/account/addresses")
@login_required_any
def addresses_page():
    return render_template("orders/addresses.html", items=services.saved_addresses(current_user), form=EmptyForm(),
                           province_name=addresses.province_name)


@bp.route("/account/addresses/<int:address_id>/delete", methods=["POST"])
@login_required_any
def delete_address(address_id: int):
    services.get_saved_address(current_user, address_id)  # anyone else's: 404
    if not EmptyForm().validate():
        abort(400)
    services.delete_saved_address(current_user, address_id)
    return uow.done(_("Đã xóa địa chỉ."), url_for("orders.addresses_page"))


def _events(order: Order):
    return db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).all()


# --- artisan ---------------------------------------------------------------------------------------

def _managed_order(order_id: int) -> Order:
    order = services.get_order(order_id)
    if not services.can_manage_order(current_user, order):
        abort(404)
    return order


_S = OrderStatus
# The queue's tabs: key → (label vi, label en), the statuses it shows (None: all). "to_ship" is the default.
QUEUE_TABS = {
    "to_ship": (("Cần gửi hàng", "To ship"), (_S.AWAITING_SHIPMENT, _S.PAID)),
    "pending_payment": (("Chờ thanh toán", "Awaiting payment"), (_S.PENDING_PAYMENT,)),
    "shipped": (("Đang giao", "Shipped"), (_S.SHIPPED,)),
    "delivered": (("Đã giao", "Delivered"), (_S.DELIVERED, _S.COMPLETED)),
    "closed": (("Đã hủy / hoàn tiền", "Cancelled / refunded"), (_S.CANCELLED, _S.EXPIRED, _S.REFUNDED)),
    "needs_review": (("Cần kiểm tra", "Needs review"), (_S.NEEDS_REVIEW,)),
    "all": (("Tất cả", "All"), None),
}
_CODE = re.compile(r"^(?:CLN)?-?0*(\d{1,9})$", re.IGNORECASE)


class _Page(Paged):
    def __init__(self, page: int, per_page: int, total: int):
        self.page, self.per_page, self.total = page, per_page, total


def _handled_orders():
    return Order.shop_id.in_(sa.select(Shop.id).where(handled_shops_clause(current_user)))


def search_clause(q: str):
    """An order code (CLN-000123, 123) or the buyer's phone (any spelling of a Vietnamese mobile)."""
    q = q.strip()
    found = []
    if (m := _CODE.match(q.replace(" ", ""))) is not None:
        found.append(Order.id == int(m.group(1)))
    phone = normalize_vn_mobile(q)
    if phone:
        found.append(Order.phone == phone)
    return sa.or_(*found) if found else sa.false()


@bp.route("/seller/orders")
@role_required("artisan", "admin")
def seller_queue():
    q = (request.args.get("q") or "").strip()[:40]
    tab = request.args.get("tab") if request.args.get("tab") in QUEUE_TABS else ("all" if q else "to_ship")
    per_page = int(current_app.config["SELLER_ORDERS_PER_PAGE"])
    page = page_arg(request.args.get("page"))
    by_status = dict(db.session.execute(sa.select(Order.status, sa.func.count()).where(_handled_orders())
                                        .group_by(Order.status)).all())
    counts = {key: sum(n for st, n in by_status.items() if statuses is None or st in statuses)
              for key, (_labels, statuses) in QUEUE_TABS.items()}
    query = sa.select(Order).where(_handled_orders())
    statuses = QUEUE_TABS[tab][1]
    if statuses is not None:
        query = query.where(Order.status.in_(statuses))
    if q:
        query = query.where(search_clause(q))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    else:
        total = counts[tab]
    # "To ship": oldest first (the first in is the first out); the others newest first.
    order_by = Order.id.asc() if tab == "to_ship" else Order.id.desc()
    orders = db.session.scalars(query.order_by(order_by).limit(per_page).offset((page - 1) * per_page)
                                .options(sa.orm.selectinload(Order.lines), sa.orm.joinedload(Order.shop))).all()
    return render_template("orders/seller_queue.html", orders=orders, tab=tab, tabs=QUEUE_TABS, counts=counts,
                           q=q, page_obj=_Page(page, per_page, total))


MAX_SLIPS = 100


@bp.route("/seller/orders/slips")
@role_required("artisan", "admin")
def packing_slips():
    ids = [parse_id(v) for v in request.args.getlist("ids")][:MAX_SLIPS]
    if not ids:
        return uow.done(_("Hãy chọn ít nhất một đơn để in phiếu."), url_for("orders.seller_queue"), "warning")
    if any(i is None for i in ids):
        abort(404)
    orders = db.session.scalars(sa.select(Order).where(Order.id.in_(ids), _handled_orders()).order_by(Order.id)
                                .options(sa.orm.selectinload(Order.lines), sa.orm.joinedload(Order.shop))).all()
    if len(orders) != len(set(ids)):
        abort(404)
    return render_template("orders/packing_slips.html", orders=orders)


@bp.route("/seller/orders/<int:order_id>")
@role_required("artisan", "admin")
def seller_order(order_id: int):
    order = _managed_order(order_id)
    if services.is_shop_side(current_user, order):
        messages.mark_read(order, MessageAuthor.SHOP)
    return _seller_page(order)


def _seller_page(order, ship_form=None, refund_form=None, status=200):
    refunds = db.session.scalars(sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    return render_template("orders/seller_order.html", order=order, events=_events(order), refunds=refunds,
                           ship_form=ship_form or ShipForm(), refund_form=refund_form or RefundForm(),
                           form=EmptyForm(), refundable=services.refundable_amount(order),
                           thread=messages.thread(order), message_form=MessageForm()), status


@bp.route("/seller/orders/<int:order_id>/messages", methods=["POST"])
@role_required("artisan", "admin")
@limiter.limit(_message_limit, scope="order-message")
def seller_message(order_id: int):
    order = _managed_order(order_id)
    author = MessageAuthor.SHOP if services.is_shop_side(current_user, order) else MessageAuthor.ADMIN
    return _post_message(order, author, _seller_order_url(order_id) + f"#messages-{order.id}")


def _seller_order_url(order_id: int) -> str:
    return url_for("orders.seller_order", order_id=order_id)


@bp.route("/seller/orders/<int:order_id>/ship", methods=["POST"])
@role_required("artisan", "admin")
@uow.error_redirect(_seller_order_url)
def ship(order_id: int):
    order = _managed_order(order_id)
    form = ShipForm()
    if not form.validate():
        return _seller_page(order, ship_form=form, status=400)
    services.ship_order(current_user, order, form.carrier.data, form.tracking_number.data)
    return uow.done(_("Đã ghi nhận giao cho đơn vị vận chuyển."), _seller_order_url(order_id))


def _action_order(order_id: int) -> Order:
    """The managed order of a button-only action (CSRF-checked form with no fields)."""
    order = _managed_order(order_id)
    if not EmptyForm().validate():
        abort(400)
    return order


@bp.route("/seller/orders/<int:order_id>/deliver", methods=["POST"])
@role_required("artisan", "admin")
@uow.error_redirect(_seller_order_url)
def deliver(order_id: int):
    services.deliver_order(current_user, _action_order(order_id))
    return uow.done(_("Đã ghi nhận giao hàng thành công."), _seller_order_url(order_id))


@bp.route("/seller/orders/<int:order_id>/cancel", methods=["GET", "POST"])
@role_required("artisan", "admin")
def cancel(order_id: int):
    """A separate confirmation step: the reason (list + free text) is required; the buyer is told it."""
    order = _managed_order(order_id)
    form = CancelForm()
    refundable = services.refundable_amount(order) if registry.get(order.payment_method).prepaid else 0
    if request.method == "POST":
        if not form.validate():
            abort(400)
        code = form.reason_code.data or None
        with uow.field_errors() as outcome:
            services.cancel_order(current_user, order, form.reason.data, code)
        if outcome.error is None:
            return uow.done(_("Đã hủy đơn, hàng đã được trả về kho."), _seller_order_url(order_id))
        if not isinstance(outcome.error, InvalidInput):
            return uow.done(outcome.error.message, _seller_order_url(order_id), "error")
        form.form_errors.append(outcome.error.message)
        order = services.get_order(order_id)
        return render_template("orders/cancel.html", order=order, form=form, refundable=refundable,
                               reasons=services.CANCEL_REASONS), 400
    return render_template("orders/cancel.html", order=order, form=form, refundable=refundable,
                           reasons=services.CANCEL_REASONS)


@bp.route("/seller/orders/<int:order_id>/refund", methods=["POST"])
@role_required("artisan", "admin")
def refund(order_id: int):
    order = _managed_order(order_id)
    form = RefundForm()
    if not form.validate():
        return _seller_page(order, refund_form=form, status=400)
    with uow.field_errors() as outcome:
        services.refund_order(current_user, order, form.amount.data, form.reason.data)
    if outcome.error is not None:  # shown under the amount, whichever field the error names
        form.amount.errors = list(form.amount.errors) + [outcome.error.message]
        return _seller_page(services.get_order(order_id), refund_form=form, status=outcome.status)
    return uow.done(_("Đã ghi nhận hoàn tiền."), _seller_order_url(order_id))


# --- reviews ---------------------------------------------------------------------------------------

def _product_url(product_id: int) -> str:
    return url_for("catalog.product_detail", product_id=product_id)


def _reviewed_product_url(review_id: int) -> str:
    item = db.session.get(Review, review_id)
    return _product_url(item.product_id) if item is not None else url_for("catalog.products")


@bp.route("/products/<int:product_id>/reviews", methods=["POST"])
@login_required_any
def review(product_id: int):
    """A refused review re-renders the product page with the typed text and the reason (never lost)."""
    product = catalog_queries.product_for_page(product_id) or abort(404)
    form = ReviewForm()
    error, status = None, 400
    if form.validate():
        with uow.field_errors() as outcome:
            reviews.add_review(current_user, product, int(form.rating.data), form.body.data,
                               order_id=parse_id(request.form.get("order_id")))
        if outcome.error is None:
            return uow.done(_("Cảm ơn bạn đã đánh giá."), _product_url(product.id) + "#reviews")
        error, status = outcome.error.message, outcome.status
    else:
        error = next(iter(form.errors.values()))[0]
    return render_template("catalog/product_detail.html", product=product, review_form=form,
                           review_error=error), status


def _link_page(token: str, form: ReviewForm, status: int = 200, error: str | None = None):
    with uow.field_errors() as outcome:
        order, product = reviews.target_from_token(token)
    if outcome.error is not None:
        return render_template("orders/review_link.html", problem=outcome.error.message,
                               expired=isinstance(outcome.error, reviews.LinkExpired)), outcome.status
    done = db.session.scalar(sa.select(Review).where(Review.order_id == order.id, Review.product_id == product.id))
    if done is not None:
        return render_template("orders/review_link.html", product=product, order=order, review=done,
                               problem=_("Sản phẩm này của đơn hàng đã được đánh giá. Cảm ơn bạn!")), 409
    if order.status not in OrderStatus.DELIVERED_STATES:
        return render_template("orders/review_link.html", product=product, order=order,
                               problem=_("Bạn có thể đánh giá sau khi đã nhận hàng.")), 409
    return render_template("orders/review_link.html", product=product, order=order, form=form, error=error), status


@bp.route("/reviews/new/<token>", methods=["GET", "POST"])
@public
def review_link(token: str):
    """The signed link of the "delivered" mail: review without signing in (valid, expired, forged or used:
    each gets a clear page, never an error)."""
    form = ReviewForm()
    if request.method == "GET":
        return _link_page(token, form)
    if not form.validate():
        return _link_page(token, form, 400, next(iter(form.errors.values()))[0])
    with uow.field_errors() as outcome:
        item = reviews.add_review_by_link(token, int(form.rating.data), form.body.data)
    if outcome.error is not None:
        if isinstance(outcome.error, InvalidInput):
            return _link_page(token, form, outcome.status, outcome.error.message)
        return _link_page(token, form)  # used meanwhile, expired, forged: the page says which
    return uow.done(_("Cảm ơn bạn đã đánh giá."), _product_url(item.product_id) + "#reviews")


@bp.route("/reviews/<int:review_id>/reply", methods=["POST"])
@role_required("artisan", "admin")
@uow.error_redirect(_reviewed_product_url)
def reply(review_id: int):
    item = db.session.get(Review, review_id) or abort(404)
    form = ReplyForm()
    if not form.validate():
        return uow.done(_("Nhập nội dung trả lời."), _product_url(item.product_id), "error")
    reviews.reply_review(current_user, item, form.reply.data)
    return uow.done(_("Đã gửi trả lời."), _product_url(item.product_id) + "#reviews")


# --- guest orders join the account ---------------------------------------------------------------------

HELD_KEY = "held_checkouts"


def hold_checkout(checkout_id: int) -> None:
    """This browser placed or opened the checkout's signed link: proof enough to claim it once signed in
    with the same phone or e-mail."""
    held = [c for c in session.get(HELD_KEY, []) if isinstance(c, int) and c != checkout_id]
    session[HELD_KEY] = ([checkout_id] + held)[:20]


def claim_on_login(sender, user, **extra) -> None:
    """flask_login's ``user_logged_in`` (sign-in and sign-up): guest orders this account may claim join it;
    if orders were placed with its e-mail, not yet verified, the owner gets a link that proves it."""
    joined = reviews.claim_guest_orders(user, session.get(HELD_KEY, []))
    if joined:
        flash(ngettext("%(num)d đơn hàng đặt khi chưa đăng nhập đã được thêm vào tài khoản.",
                       "%(num)d đơn hàng đặt khi chưa đăng nhập đã được thêm vào tài khoản.", joined), "success")
    if user.email_verified_at is None and reviews.guest_orders_with_email(user.email):
        queue_mail(db.session, user.email, "orders_claim", user.locale or current_lang(), name=user.name,
                   link=external_url("orders.claim_by_email", token=reviews.email_verify_token(user)))
        flash(_("Có đơn hàng đặt bằng email này khi chưa đăng nhập. Mở thư chúng tôi vừa gửi để xác nhận email "
                "và thêm các đơn đó vào tài khoản."), "info")


@bp.route("/account/orders/claim/<token>")
@public
def claim_by_email(token: str):
    user = reviews.user_for_verify_token(token, User)
    if user is None:
        return render_template("orders/review_link.html", problem=_(
            "Đường dẫn xác nhận không hợp lệ hoặc đã hết hạn. Đăng nhập lại để nhận đường dẫn mới.")), 404
    joined = reviews.verify_email(user)
    message = _("Đã xác nhận email. %(n)s đơn hàng đã được thêm vào tài khoản.", n=joined)
    if current_user.is_authenticated and current_user.id == user.id:
        return uow.done(message, url_for("orders.history"))
    return uow.done(message + " " + _("Mời bạn đăng nhập để xem."), url_for("accounts.login"))
