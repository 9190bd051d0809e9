"""What every seller page starts from: the roles that may open them, the shop the page is about (``?shop=``
keeps an official or admin on an assisted shop), and the product being edited. Shared by ``views``,
``photos`` and ``importing``; who may manage a shop is ``marketplace.shops.access``."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.catalog import services
from marketplace.catalog.models import Product
from marketplace.core.uow import Outcome
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.seller import bp
from marketplace.shops import services as shop_services
from marketplace.shops.access import is_owner
from marketplace.shops.models import Shop

SELLER_ROLES = ("artisan", "official", "admin")


def current_shop() -> Shop | None:
    """The shop the page is about: ``?shop=<id>`` when the user may manage it, else their own shop."""
    wanted = request.values.get("shop", type=int)
    if wanted is not None:
        shop = db.session.get(Shop, wanted) if services.valid_id(wanted) else None
        if not services.can_manage(current_user, shop):
            raise NotFound(_("Không tìm thấy cửa hàng."))
        return shop
    return shop_services.shop_of(current_user)


def shop_args(shop: Shop) -> dict:
    """Query args that keep a non-owner (official/admin helping a shop) on the same shop."""
    return {} if is_owner(current_user, shop) else {"shop": shop.id}


def require_shop() -> Shop:
    shop = current_shop()
    if shop is None:
        flash(_("Bạn cần mở cửa hàng trước khi đăng sản phẩm."), "warning")
        raise _Redirect(url_for("seller.dashboard"))
    return shop


class _Redirect(Exception):
    def __init__(self, location: str):
        self.location = location


@bp.errorhandler(_Redirect)
def _redirect(exc: _Redirect):
    return redirect(exc.location)


def load_product(product_id: int) -> Product:
    return services.product_for_seller(current_user, product_id)


def invalid_input(outcome: Outcome) -> InvalidInput | None:
    """The ``InvalidInput`` a service raised inside ``uow.field_errors()`` (already rolled back), for the page
    to show; any other refusal (not found, not allowed) answers as the error page, as if it were not caught."""
    if outcome.error is None or isinstance(outcome.error, InvalidInput):
        return outcome.error
    raise outcome.error
