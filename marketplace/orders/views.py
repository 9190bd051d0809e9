"""Checkout, the shopper's orders, the artisan's order queue, refunds, ledger and reviews."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.permissions import login_required_any, public, role_required
from marketplace.cart import services as cart_services
from marketplace.catalog.models import Product
from marketplace.core.templating import current_lang
from marketplace.errors import DomainError, OutOfStock
from marketplace.extensions import db
from marketplace.orders import addresses, bp, services
from marketplace.orders.forms import CheckoutForm, EmptyForm, PayoutForm, RefundForm, ReplyForm, ReviewForm, ShipForm
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderStatus, PaymentMethod, Refund, Review
from marketplace.shops.access import handled_shops_clause
from marketplace.shops.models import Shop
from marketplace.shops.services import owned_shops

TOKEN_KEY = "checkout_token"


def _stripe_enabled() -> bool:
    from marketplace.payments import stripe_gateway

    return stripe_gateway.enabled()


def _start_payment(checkout: Checkout):
    from marketplace.payments import services as payments
    from marketplace.payments.stripe_gateway import PaymentGatewayError

    try:
        stripe_session = payments.start_session(checkout)
        db.session.commit()
    except PaymentGatewayError as exc:
        db.session.rollback()
        flash(_("Chưa mở được trang thanh toán thẻ: %(msg)s Hàng được giữ 30 phút, bấm “Thanh toán” để thử lại.",
                msg=exc.message), "error")
        return redirect(services.checkout_url(checkout), 303)
    return redirect(stripe_session["url"], 303)


@bp.route("/checkout", methods=["GET", "POST"])
@public
def checkout():
    cart = cart_services.build_cart(cart_services.cart_items())
    signed_in = current_user.is_authenticated
    form = CheckoutForm(require_email=not signed_in, stripe_enabled=_stripe_enabled())
    if request.method == "GET":
        if not cart.lines:
            return redirect(url_for("cart.view"), 303)
        session[TOKEN_KEY] = uuid.uuid4().hex
        form.token.data = session[TOKEN_KEY]
        form.province.data = form.province.data or addresses.HANOI_CODE
        if signed_in:
            form.recipient_name.data = current_user.name
            form.email.data = current_user.email
            form.phone.data = current_user.phone
        return render_template("orders/checkout.html", form=form, cart=cart,
                               hanoi_wards=addresses.wards(addresses.HANOI_CODE))
    token = (form.token.data or "")[:64]
    existing = services.find_checkout(token) if token else None
    if existing is not None:  # double submit: the first one's orders
        return _after_checkout(existing)
    if not form.validate():
        return render_template("orders/checkout.html", form=form, cart=cart,
                               hanoi_wards=addresses.wards(addresses.HANOI_CODE)), 400
    if cart.problems or not cart.lines:
        flash(_("Giỏ hàng đã thay đổi, vui lòng kiểm tra lại."), "error")
        return redirect(url_for("cart.view"), 303)
    address = services.Address(
        recipient_name=form.recipient_name.data.strip(), phone=form.normalized_phone,
        province=addresses.province_name(form.province.data), ward=form.official_ward, street=form.street.data.strip(),
        email=(form.email.data or "").strip() or None, note=(form.note.data or "").strip() or None)
    items = cart.items()
    try:
        placed = services.place_checkout(current_user, items, address, form.payment_method.data, token,
                                         locale=current_lang())
        cart_services.remove_items(current_user, items)
        db.session.commit()
    except IntegrityError:  # the same token committed by a concurrent request
        db.session.rollback()
        placed = services.find_checkout(token)
        if placed is None:
            abort(409)
    except OutOfStock as exc:
        db.session.rollback()
        form.form_errors.append(exc.message + " " + _("Chưa có sản phẩm nào bị trừ kho; vui lòng sửa giỏ hàng."))
        return render_template("orders/checkout.html", form=form, cart=cart,
                               hanoi_wards=addresses.wards(addresses.HANOI_CODE)), 409
    session.pop(TOKEN_KEY, None)
    return _after_checkout(placed)


def _after_checkout(placed: Checkout):
    if placed.payment_method == PaymentMethod.STRIPE and any(o.status == OrderStatus.PENDING_PAYMENT for o in placed.orders):
        return _start_payment(placed)
    flash(_("Đã đặt hàng. Cảm ơn bạn!"), "success")
    return redirect(services.checkout_url(placed), 303)


@bp.route("/orders/c/<token>")
@public
def checkout_view(token: str):
    placed = services.checkout_from_token(token)
    return render_template("orders/checkout_view.html", checkout=placed, token=token, form=EmptyForm(),
                           stripe_enabled=_stripe_enabled())


@bp.route("/orders/c/<token>/pay", methods=["POST"])
@public
def pay(token: str):
    placed = services.checkout_from_token(token)
    if not _stripe_enabled() or placed.payment_method != PaymentMethod.STRIPE or not any(
            o.status == OrderStatus.PENDING_PAYMENT for o in placed.orders):
        flash(_("Đơn hàng này không chờ thanh toán."), "warning")
        return redirect(services.checkout_url(placed), 303)
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
    return render_template("orders/order.html", order=order, events=_events(order), form=EmptyForm())


@bp.route("/account/orders/<int:order_id>/complete", methods=["POST"])
@login_required_any
def complete(order_id: int):
    order = services.get_order(order_id)
    services.complete_order(current_user, order)
    db.session.commit()
    flash(_("Cảm ơn bạn đã xác nhận đã nhận hàng."), "success")
    return redirect(url_for("orders.detail", order_id=order.id), 303)


def _events(order: Order):
    return db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).all()


# --- artisan ---------------------------------------------------------------------------------------

def _managed_order(order_id: int) -> Order:
    order = services.get_order(order_id)
    if not services.can_manage_order(current_user, order):
        abort(404)
    return order


@bp.route("/seller/orders")
@role_required("artisan", "admin")
def seller_queue():
    status = request.args.get("status")
    query = sa.select(Order).order_by(Order.id.desc()).limit(200)
    query = query.where(Order.shop_id.in_(sa.select(Shop.id).where(handled_shops_clause(current_user))))
    if status in OrderStatus.CHOICES:
        query = query.where(Order.status == status)
    orders = db.session.scalars(query.options(sa.orm.selectinload(Order.lines), sa.orm.joinedload(Order.shop))).all()
    return render_template("orders/seller_queue.html", orders=orders, status=status)


@bp.route("/seller/orders/<int:order_id>")
@role_required("artisan", "admin")
def seller_order(order_id: int):
    order = _managed_order(order_id)
    return _seller_page(order)


def _seller_page(order, ship_form=None, refund_form=None, status=200):
    refunds = db.session.scalars(sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    return render_template("orders/seller_order.html", order=order, events=_events(order), refunds=refunds,
                           ship_form=ship_form or ShipForm(), refund_form=refund_form or RefundForm(),
                           form=EmptyForm(), refundable=services.refundable_amount(order)), status


@bp.route("/seller/orders/<int:order_id>/ship", methods=["POST"])
@role_required("artisan", "admin")
def ship(order_id: int):
    order = _managed_order(order_id)
    form = ShipForm()
    if not form.validate():
        return _seller_page(order, ship_form=form, status=400)
    try:
        services.ship_order(current_user, order, form.carrier.data, form.tracking_number.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("orders.seller_order", order_id=order_id), 303)
    db.session.commit()
    flash(_("Đã ghi nhận giao cho đơn vị vận chuyển."), "success")
    return redirect(url_for("orders.seller_order", order_id=order_id), 303)


def _simple_action(order_id: int, action, done: str):
    order = _managed_order(order_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        action(order)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("orders.seller_order", order_id=order_id), 303)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("orders.seller_order", order_id=order_id), 303)


@bp.route("/seller/orders/<int:order_id>/deliver", methods=["POST"])
@role_required("artisan", "admin")
def deliver(order_id: int):
    return _simple_action(order_id, lambda o: services.deliver_order(current_user, o), _("Đã ghi nhận giao hàng thành công."))


@bp.route("/seller/orders/<int:order_id>/cancel", methods=["POST"])
@role_required("artisan", "admin")
def cancel(order_id: int):
    reason = (request.form.get("reason") or "").strip()[:300] or None
    return _simple_action(order_id, lambda o: services.cancel_order(current_user, o, reason),
                          _("Đã hủy đơn, hàng đã được trả về kho."))


@bp.route("/seller/orders/<int:order_id>/refund", methods=["POST"])
@role_required("artisan", "admin")
def refund(order_id: int):
    order = _managed_order(order_id)
    form = RefundForm()
    if not form.validate():
        return _seller_page(order, refund_form=form, status=400)
    try:
        services.refund_order(current_user, order, form.amount.data, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        form.amount.errors = list(form.amount.errors) + [exc.message]
        return _seller_page(services.get_order(order_id), refund_form=form, status=exc.status_code)
    db.session.commit()
    flash(_("Đã ghi nhận hoàn tiền."), "success")
    return redirect(url_for("orders.seller_order", order_id=order_id), 303)


@bp.route("/seller/statement")
@role_required("artisan", "admin")
def statement():
    shops = owned_shops(current_user)
    return render_template("orders/statement.html", statements=[services.shop_statement(s) for s in shops])


@bp.route("/admin/ledger", methods=["GET", "POST"])
@role_required("admin")
def ledger():
    form = PayoutForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            shop = db.session.get(Shop, form.shop_id.data) or abort(404)
            try:
                services.record_payout(current_user, shop, form.amount.data, form.reference.data)
                db.session.commit()
                flash(_("Đã ghi nhận chi trả."), "success")
                return redirect(url_for("orders.ledger"), 303)
            except DomainError as exc:
                db.session.rollback()
                form.amount.errors = list(form.amount.errors) + [exc.message]
        status = 400
    shops = db.session.scalars(sa.select(Shop).order_by(Shop.id)).all()
    return render_template("orders/ledger.html", statements=[services.shop_statement(s) for s in shops],
                           form=form), status


# --- reviews ---------------------------------------------------------------------------------------

@bp.route("/products/<int:product_id>/reviews", methods=["POST"])
@login_required_any
def review(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = ReviewForm()
    target = url_for("catalog.product_detail", product_id=product.id)
    if not form.validate():
        flash(_("Chọn từ 1 đến 5 sao."), "error")
        return redirect(target, 303)
    try:
        services.add_review(current_user, product, int(form.rating.data), form.body.data)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Bạn đã đánh giá sản phẩm này."), "error")
        return redirect(target, 303)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target, 303)
    flash(_("Cảm ơn bạn đã đánh giá."), "success")
    return redirect(target, 303)


@bp.route("/reviews/<int:review_id>/reply", methods=["POST"])
@role_required("artisan", "admin")
def reply(review_id: int):
    item = db.session.get(Review, review_id) or abort(404)
    form = ReplyForm()
    target = url_for("catalog.product_detail", product_id=item.product_id)
    if not form.validate():
        flash(_("Nhập nội dung trả lời."), "error")
        return redirect(target, 303)
    try:
        services.reply_review(current_user, item, form.reply.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target, 303)
    flash(_("Đã gửi trả lời."), "success")
    return redirect(target, 303)
