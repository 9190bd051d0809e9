"""Cart and favourites pages. Every step works without JavaScript (plain forms, redirects)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import login_required_any, public
from marketplace.cart import bp, services
from marketplace.cart.models import Favourite
from marketplace.catalog.models import Product
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.core.urls import next_or
from marketplace.extensions import db
from marketplace.shops.models import Shop


def _int(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _safe_next(default: str) -> str:
    return next_or(request.form.get("next"), default)


def _back() -> str:
    return _safe_next(url_for("cart.view"))


def _stepper(value) -> tuple[int, int] | None:
    """"12:3" (variant 12 → quantity 3) from a stepper button; None when absent or malformed."""
    vid, _sep, qty = str(value or "").partition(":")
    vid, qty = parse_id(vid), _int(qty)
    if vid is None or qty is None:
        return None
    return vid, max(0, min(qty, services.MAX_QTY))


@bp.route("/cart")
@public
def view():
    cart = services.build_cart(services.cart_items(), services.default_destination(current_user))
    return render_template("cart/cart.html", cart=cart)


@bp.route("/cart/add", methods=["POST"])
@public
@uow.error_redirect(_back)
def add():
    variant_id = parse_id(request.form.get("variant_id"))
    quantity = _int(request.form.get("quantity"), 1)
    if not variant_id or quantity is None:
        return uow.done(_("Vui lòng chọn phân loại và số lượng."), _back(), "error")
    requested = services.cart_items().get(variant_id, 0) + quantity
    kept = services.add_item(current_user, variant_id, quantity)
    if request.form.get("buy_now"):  # "Mua ngay": straight to checkout
        if kept < requested:
            flash(_("Chỉ còn %(n)s sản phẩm, giỏ hàng đã được điều chỉnh.", n=kept), "warning")
        return redirect(url_for("orders.checkout"), 303)
    if kept < requested:
        flash(_("Chỉ còn %(n)s sản phẩm, giỏ hàng đã được điều chỉnh.", n=kept), "warning")
    else:
        flash(_("Đã thêm vào giỏ hàng."), "success")
    return redirect(url_for("cart.view"), 303)


@bp.route("/cart/update", methods=["POST"])
@public
@uow.error_redirect("cart.view")
def update():
    remove = parse_id(request.form.get("remove"))
    stepped = _stepper(request.form.get("set"))
    changed = False
    if remove:
        services.set_quantity(current_user, remove, 0)
        changed = True
    elif stepped is not None:  # a − / + button (works without JavaScript)
        vid, qty = stepped
        kept = services.set_quantity(current_user, vid, qty)
        if kept < qty:
            flash(_("Chỉ còn %(n)s sản phẩm, giỏ hàng đã được điều chỉnh.", n=kept), "warning")
        changed = True
    else:
        for key, value in request.form.items():
            if not key.startswith("qty-"):
                continue
            vid, qty = parse_id(key[4:]), _int(value)
            if vid is None or qty is None or qty < 0:
                flash(_("Số lượng không hợp lệ."), "error")
                continue
            kept = services.set_quantity(current_user, vid, min(qty, services.MAX_QTY))
            if kept < qty:
                flash(_("Chỉ còn %(n)s sản phẩm, giỏ hàng đã được điều chỉnh.", n=kept), "warning")
            changed = True
    if changed:
        flash(_("Đã cập nhật giỏ hàng."), "success")
    return redirect(url_for("cart.view"), 303)


@bp.route("/account/favourites")
@login_required_any
def favourites():
    products = db.session.scalars(
        sa.select(Product).join(Favourite, Favourite.product_id == Product.id)
        .where(Favourite.user_id == current_user.id).order_by(Favourite.id.desc())
    ).all()
    shops = db.session.scalars(
        sa.select(Shop).join(Favourite, Favourite.shop_id == Shop.id)
        .where(Favourite.user_id == current_user.id).order_by(Favourite.id.desc())
    ).all()
    return render_template("cart/favourites.html", products=[p for p in products if p.is_visible],
                           shops=[s for s in shops if s.is_active])


@bp.route("/favourites/product/<int:product_id>", methods=["POST"])
@login_required_any
def toggle_product(product_id: int):
    saved = services.toggle_favourite(current_user, product_id=product_id)
    return uow.done(_("Đã lưu vào yêu thích.") if saved else _("Đã bỏ khỏi yêu thích."),
                    _safe_next(url_for("cart.favourites")))


@bp.route("/favourites/shop/<int:shop_id>", methods=["POST"])
@login_required_any
def toggle_shop(shop_id: int):
    saved = services.toggle_favourite(current_user, shop_id=shop_id)
    return uow.done(_("Đã lưu vào yêu thích.") if saved else _("Đã bỏ khỏi yêu thích."),
                    _safe_next(url_for("cart.favourites")))
