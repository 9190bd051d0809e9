"""Photo management for one product: upload (several at once, from the phone's camera), alt text,
reorder (the first photo is the cover), delete. Works without JavaScript."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.catalog import services
from marketplace.core import uow
from marketplace.media.images import ACCEPT_MIMETYPES, delete_derivatives
from marketplace.media.uploads import PhotosRefused, add_photos
from marketplace.seller import bp
from marketplace.seller.context import SELLER_ROLES, invalid_input, load_product, shop_args


@bp.route("/products/<int:product_id>/photos", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def photos(product_id: int):
    product = load_product(product_id)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        # One unit: every header is checked against the request's budget before any decoding, and a refused
        # file stores nothing, not even the others (media/uploads.py).
        items = [(f.filename[:80], f.read()) for f in request.files.getlist("photos") if f and f.filename]
        with uow.field_errors() as outcome:
            added = add_photos(current_user, product, items, request.form.get("alt_text"))
        if (exc := invalid_input(outcome)) is None:
            return uow.done(_("Đã thêm %(n)s ảnh.", n=added), url_for("seller.photos", product_id=product.id))
        product = load_product(product_id)
        if len(items) > 1:
            errors.append(_("Chưa lưu ảnh nào trong lần gửi này."))
        errors.extend(exc.lines if isinstance(exc, PhotosRefused) else [exc.message])
        status = outcome.status
    return render_template(
        "seller/photos.html", product=product, shop=product.shop, errors=errors, accept=ACCEPT_MIMETYPES,
        max_photos=services.MAX_PHOTOS, args=shop_args(product.shop),
    ), status


@bp.post("/products/<int:product_id>/photos/<int:image_id>")
@role_required(*SELLER_ROLES)
def photo_update(product_id: int, image_id: int):
    product = load_product(product_id)
    image = services.image_for_seller(current_user, product, image_id)
    with uow.field_errors() as outcome:
        services.update_photo(current_user, image, request.form.get("alt_text"))
    back = url_for("seller.photos", product_id=product_id)
    if (exc := invalid_input(outcome)) is not None:
        return uow.done(exc.message, back, "error")
    return uow.done(_("Đã lưu mô tả ảnh."), back)


@bp.post("/products/<int:product_id>/photos/<int:image_id>/move")
@role_required(*SELLER_ROLES)
def photo_move(product_id: int, image_id: int):
    product = load_product(product_id)
    image = services.image_for_seller(current_user, product, image_id)
    offset = {"up": -1, "down": 1, "first": -services.MAX_PHOTOS}.get(request.form.get("direction"), 0)
    services.move_photo(current_user, image, offset)
    return uow.done(None, url_for("seller.photos", product_id=product_id))


@bp.post("/products/<int:product_id>/photos/<int:image_id>/delete")
@role_required(*SELLER_ROLES)
def photo_delete(product_id: int, image_id: int):
    product = load_product(product_id)
    image = services.image_for_seller(current_user, product, image_id)
    unused_key = services.delete_photo(current_user, image)
    if unused_key:
        uow.commit_early("the photo's files are deleted only once no stored row can point at them")
        delete_derivatives(unused_key)
    return uow.done(_("Đã xoá ảnh."), url_for("seller.photos", product_id=product_id))
