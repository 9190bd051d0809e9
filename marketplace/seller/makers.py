"""The shop's makers (artisans with a face): list, add, edit (portrait through the photo pipeline), delete.
Another shop's maker answers 404 (``makers.services.maker_for_seller``)."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.core import uow
from marketplace.makers import services
from marketplace.makers.models import HonourTitle, Maker
from marketplace.media.images import ACCEPT_MIMETYPES
from marketplace.seller import bp
from marketplace.seller.context import SELLER_ROLES, invalid_input, require_shop, shop_args
from marketplace.shops.models import Shop


def _portrait_upload() -> tuple[str, bytes] | None:
    upload = request.files.get("portrait")
    if upload is None or not upload.filename:
        return None
    return upload.filename[:80], upload.read()


def _values(maker: Maker | None) -> dict:
    if maker is None:
        return {}
    return {k: "" if getattr(maker, k) is None else str(getattr(maker, k)) for k in services.FIELDS}


def _render_form(shop: Shop, maker: Maker | None, values: dict, errors: dict, status: int = 200):
    return render_template("seller/maker_form.html", shop=shop, maker=maker, values=values, errors=errors,
                           titles=HonourTitle.LABELS, accept=ACCEPT_MIMETYPES, args=shop_args(shop)), status


def _errors_of(exc) -> dict:
    errors = dict((exc.details or {}).get("errors") or {})
    errors.setdefault(exc.field or "form", exc.message)
    return errors


@bp.get("/makers")
@role_required(*SELLER_ROLES)
def makers():
    shop = require_shop()
    return render_template("seller/makers.html", shop=shop, makers=services.shop_makers(shop.id),
                           titles=HonourTitle.LABELS, args=shop_args(shop))


@bp.route("/makers/new", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def maker_new():
    shop = require_shop()
    if request.method == "GET":
        return _render_form(shop, None, {}, {})
    with uow.field_errors() as outcome:
        maker = services.create_maker(current_user, shop, request.form, _portrait_upload())
    if (exc := invalid_input(outcome)) is not None:
        return _render_form(shop, None, request.form.to_dict(), _errors_of(exc), 400)
    return uow.done(_("Đã thêm nghệ nhân %(name)s.", name=maker.name), url_for("seller.makers", **shop_args(shop)))


@bp.route("/makers/<int:maker_id>/edit", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def maker_edit(maker_id: int):
    maker = services.maker_for_seller(current_user, maker_id)
    shop = maker.shop
    if request.method == "GET":
        return _render_form(shop, maker, _values(maker), {})
    with uow.field_errors() as outcome:
        services.update_maker(current_user, maker, request.form, _portrait_upload())
    if (exc := invalid_input(outcome)) is not None:
        maker = services.maker_for_seller(current_user, maker_id)
        return _render_form(shop, maker, request.form.to_dict(), _errors_of(exc), 400)
    return uow.done(_("Đã lưu hồ sơ nghệ nhân."), url_for("seller.makers", **shop_args(shop)))


@bp.post("/makers/<int:maker_id>/delete")
@role_required(*SELLER_ROLES)
def maker_delete(maker_id: int):
    maker = services.maker_for_seller(current_user, maker_id)
    back = url_for("seller.makers", **shop_args(maker.shop))
    services.delete_maker(current_user, maker)
    return uow.done(_("Đã xoá nghệ nhân."), back)
