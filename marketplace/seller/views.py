"""Seller pages: parse the request → load and authorize → call the catalog services → redirect (the unit of
work commits when the view returns; ``core/uow.py``).

Every product, variant and photo is loaded through ``product_for_seller`` & co., which raise ``NotFound``
for anything the signed-in user may not manage: another artisan's ids give 404.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import (
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from marketplace.accounts.permissions import role_required
from marketplace.catalog import services
from marketplace.catalog.models import (
    Category,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
)
from marketplace.core import uow
from marketplace.core.inputs import parse_id
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.makers import services as maker_services
from marketplace.media.images import ACCEPT_MIMETYPES
from marketplace.media.uploads import PhotosRefused, add_photos
from marketplace.orders.models import MessageAuthor, Order, OrderMessage, OrderStatus
from marketplace.seller import bp
from marketplace.seller.context import (
    SELLER_ROLES,
    current_shop,
    invalid_input,
    load_product,
    require_shop,
    shop_args,
)
from marketplace.shops import alerts
from marketplace.shops import services as shop_services
from marketplace.shops.models import Shop

DIGITIZED_MIN_DESCRIPTION = 30
NEW_VARIANT_ROWS = 2


# --- helpers --------------------------------------------------------------------------------------

@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    limit_mb = (current_app.config["MAX_CONTENT_LENGTH"] or 0) // (1024 * 1024)
    return render_template("seller/too_large.html", limit_mb=limit_mb, back=request.referrer), 413


def village_ips(shop: Shop) -> list[IpProtection]:
    return list(db.session.scalars(
        sa.select(IpProtection).where(IpProtection.village_id == shop.village_id).order_by(IpProtection.name)
    ))


# --- dashboard and list ---------------------------------------------------------------------------

@bp.get("/")
@role_required(*SELLER_ROLES)
def dashboard():
    shop = current_shop()
    if shop is None:
        return render_template("seller/no_shop.html")
    threshold = alerts.low_stock_threshold(shop)
    counts = dict(db.session.execute(
        sa.select(Product.status, sa.func.count(Product.id)).where(Product.shop_id == shop.id).group_by(Product.status)
    ).all())
    low_stock = db.session.execute(
        sa.select(Variant, Product)
        .join(Product, Variant.product_id == Product.id)
        .where(Product.shop_id == shop.id, Product.status == ProductStatus.ACTIVE, Variant.stock <= threshold)
        .order_by(Variant.stock, Product.id, Variant.id)
        .limit(50)
    ).all()
    drafts = list(db.session.scalars(
        sa.select(Product).where(Product.shop_id == shop.id, Product.status == ProductStatus.DRAFT)
        .options(selectinload(Product.images), selectinload(Product.variants))
        .order_by(Product.updated_at.desc(), Product.id.desc()).limit(20)
    ))
    digitized = digitized_count(shop.id)
    return render_template(
        "seller/dashboard.html", shop=shop, counts=counts, low_stock=low_stock, drafts=drafts,
        digitized=digitized, threshold=threshold, args=shop_args(shop), work=work_counts(shop.id, threshold),
    )


TO_SHIP = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PAID)


def work_counts(shop_id: int, threshold: int) -> dict[str, int]:
    """The dashboard's "to ship", "new messages" and "low stock" counts, in one statement."""
    to_ship = (sa.select(sa.func.count(Order.id)).where(Order.shop_id == shop_id, Order.status.in_(TO_SHIP))
               .scalar_subquery())
    unread = (sa.select(sa.func.count(OrderMessage.id))
              .where(OrderMessage.shop_id == shop_id, OrderMessage.author == MessageAuthor.BUYER,
                     OrderMessage.read_at.is_(None)).scalar_subquery())
    low = (sa.select(sa.func.count(Variant.id)).join(Product, Variant.product_id == Product.id)
           .where(Product.shop_id == shop_id, Product.status == ProductStatus.ACTIVE, Variant.stock <= threshold)
           .scalar_subquery())
    row = db.session.execute(sa.select(to_ship.label("to_ship"), unread.label("messages"), low.label("low_stock"))).one()
    return {"to_ship": row.to_ship or 0, "messages": row.messages or 0, "low_stock": row.low_stock or 0}


@bp.post("/alerts")
@role_required(*SELLER_ROLES)
def alert_settings():
    shop = require_shop()
    with uow.field_errors() as outcome:
        shop_services.update_alert_settings(current_user, shop, request.form.get("low_stock_threshold"),
                                            bool(request.form.get("alert_digest")))
    back = url_for("seller.dashboard", **shop_args(shop))
    if (exc := invalid_input(outcome)) is not None:
        return uow.done(exc.message, back, "error")
    return uow.done(_("Đã lưu cách nhận thông báo."), back)


def digitized_count(shop_id: int) -> int:
    """Active products with at least one photo and a real description (not a placeholder)."""
    has_photo = sa.exists().where(ProductImage.product_id == Product.id)
    return db.session.scalar(
        sa.select(sa.func.count(Product.id)).where(
            Product.shop_id == shop_id,
            Product.status == ProductStatus.ACTIVE,
            has_photo,
            sa.func.length(sa.func.trim(Product.description_vi)) >= DIGITIZED_MIN_DESCRIPTION,
        )
    ) or 0


@bp.get("/products")
@role_required(*SELLER_ROLES)
def products():
    shop = require_shop()
    status = request.args.get("status")
    stmt = (
        sa.select(Product).where(Product.shop_id == shop.id)
        .options(selectinload(Product.images), selectinload(Product.variants))
        .order_by(Product.updated_at.desc(), Product.id.desc())
    )
    if status in ProductStatus.CHOICES:
        stmt = stmt.where(Product.status == status)
    else:
        status = None
    items = list(db.session.scalars(stmt))
    return render_template("seller/products.html", shop=shop, items=items, status=status, args=shop_args(shop))


# --- product editor -------------------------------------------------------------------------------

def product_values(product: Product) -> dict:
    values = {key: getattr(product, key) for key in services.PRODUCT_FIELDS}
    for key in ("ocop_issued_on", "ocop_expires_on"):
        values[key] = values[key].isoformat() if isinstance(values[key], date) else ""
    values["maker_id"] = product.maker_id
    for key, value in list(values.items()):
        values[key] = "" if value is None else str(value)
    return values


def form_variant_rows(product: Product | None) -> list[dict]:
    """Variant rows as the form sends them: ``variants-<n>-id|name|sku|price|stock|delete``."""
    rows = []
    known = {v.id: v for v in product.variants} if product is not None else {}
    for n in range(services.MAX_VARIANTS + NEW_VARIANT_ROWS):
        prefix = f"variants-{n}-"
        if not any(k.startswith(prefix) for k in request.form):
            continue
        raw_id = request.form.get(prefix + "id", type=int)
        if raw_id is not None and not services.valid_id(raw_id):
            raise NotFound(_("Không tìm thấy phân loại."))
        row = {
            "index": n,
            "variant": known.get(raw_id) if raw_id else None,
            "name": request.form.get(prefix + "name", ""),
            "name_en": request.form.get(prefix + "name_en", ""),
            "sku": request.form.get(prefix + "sku", ""),
            "price": request.form.get(prefix + "price", ""),
            "stock": request.form.get(prefix + "stock", ""),
            "delete": bool(request.form.get(prefix + "delete")),
        }
        if raw_id and row["variant"] is None:
            raise NotFound(_("Không tìm thấy phân loại."))
        if row["variant"] is None and not any(row[k].strip() for k in ("name", "sku", "price", "stock")):
            continue  # an empty "new variant" row
        rows.append(row)
    return rows


def variant_rows_for(product: Product | None, extra: int = NEW_VARIANT_ROWS) -> list[dict]:
    rows = []
    if product is not None:
        for n, v in enumerate(product.variants):
            rows.append({"index": n, "variant": v, "name": v.name, "name_en": v.name_en or "", "sku": v.sku,
                         "price": f"{v.price}",
                         "stock": str(v.stock), "delete": False})
    start = len(rows)
    for n in range(start, start + (extra if rows else max(extra, 1) + 1)):
        rows.append({"index": n, "variant": None, "name": "", "name_en": "", "sku": "", "price": "", "stock": "",
                     "delete": False})
    return rows


def render_editor(shop: Shop, product: Product | None, values: dict, rows: list[dict], errors: dict, status: int = 200):
    # renumber rows so the form's indices stay contiguous, and keep blank rows for new variants
    blank = sum(1 for r in rows if r["variant"] is None and not r["price"])
    for _i in range(max(0, NEW_VARIANT_ROWS - blank)):
        rows.append({"index": None, "variant": None, "name": "", "name_en": "", "sku": "", "price": "", "stock": "",
                     "delete": False})
    remapped_errors = dict(errors)
    for new_index, row in enumerate(rows):
        old = row["index"]
        if old is not None and old != new_index:
            for field in ("name", "name_en", "sku", "price", "stock"):
                message = errors.get(f"variants-{old}-{field}")
                remapped_errors.pop(f"variants-{old}-{field}", None)
                if message:
                    remapped_errors[f"variants-{new_index}-{field}"] = message
        row["index"] = new_index
    return render_template(
        "seller/product_form.html", shop=shop, product=product, values=values, rows=rows,
        errors=remapped_errors, categories=Category.LABELS, ips=village_ips(shop),
        args=shop_args(shop), max_photos=services.MAX_PHOTOS, makers=maker_services.shop_makers(shop.id),
        accept=ACCEPT_MIMETYPES,
    ), status


def _collect_errors(shop: Shop, product: Product | None, rows: list[dict]) -> tuple[dict, dict]:
    clean, errors = services.clean_product_data(shop, request.form, current=product)
    seen_skus: set[str] = set()
    for row in rows:
        if row["delete"]:
            continue
        vclean, verrors = services.clean_variant_data(
            {"name": row["name"], "name_en": row["name_en"], "sku": row["sku"], "price": row["price"],
             "stock": row["stock"]}
        )
        sku = vclean.get("sku")
        if sku and "sku" not in verrors:
            own_id = row["variant"].id if row["variant"] is not None else None
            if sku in seen_skus or services._sku_taken(sku, exclude_id=own_id):
                verrors["sku"] = _("Mã SKU này đã được dùng.")
            seen_skus.add(sku)
        errors.update({f"variants-{row['index']}-{k}": v for k, v in verrors.items()})
    return clean, errors


def _apply_rows(product: Product, rows: list[dict]) -> None:
    data_of = lambda r: {"name": r["name"], "name_en": r["name_en"], "sku": r["sku"], "price": r["price"],  # noqa: E731
                         "stock": r["stock"]}
    for row in rows:
        if row["variant"] is not None and not row["delete"]:
            services.update_variant(current_user, row["variant"], data_of(row))
        elif row["variant"] is None and not row["delete"]:
            services.add_variant(current_user, product, data_of(row))
    for row in rows:
        if row["variant"] is not None and row["delete"]:
            services.delete_variant(current_user, row["variant"])


def _domain_error_to_field(exc: InvalidInput, rows: list[dict]) -> dict:
    errors = dict((exc.details or {}).get("errors") or {})
    if isinstance(exc, PhotosRefused):
        errors["photos"] = exc.message
    if not errors:
        errors[exc.field or "form"] = exc.message
    errors["form"] = exc.message  # also at the top, in case the field has no place of its own
    return errors


def _uploaded_photos() -> list[tuple[str, bytes]]:
    """Photos sent with the product form itself (multipart; no JavaScript needed)."""
    return [(f.filename[:80], f.read()) for f in request.files.getlist("photos") if f and f.filename]


@bp.route("/products/new", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def product_new():
    shop = require_shop()
    if request.method == "GET":
        values = {"category": shop.village.category if shop.village else ""}
        return render_editor(shop, None, values, variant_rows_for(None), {})
    rows = form_variant_rows(None)
    _clean, errors = _collect_errors(shop, None, rows)
    values = request.form.to_dict()
    if errors:
        return render_editor(shop, None, values, rows, errors, 400)
    photos = _uploaded_photos()
    with uow.field_errors() as outcome:
        product = services.create_product(current_user, shop, request.form)
        maker_services.set_product_maker(current_user, product, request.form.get("maker_id"))
        _apply_rows(product, rows)
        if photos:
            add_photos(current_user, product, photos, request.form.get("alt_text"))
        if request.form.get("action") == "publish":
            services.publish_product(current_user, product)
    if (exc := invalid_input(outcome)) is not None:
        return render_editor(shop, None, values, rows, _domain_error_to_field(exc, rows), 400)
    message = _("Đã lưu sản phẩm.") if product.status == ProductStatus.DRAFT else _("Đã lưu và đăng bán sản phẩm.")
    if not product.images:
        return uow.done(message, url_for("seller.photos", product_id=product.id))
    return uow.done(message, url_for("seller.product_edit", product_id=product.id))


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def product_edit(product_id: int):
    product = load_product(product_id)
    shop = product.shop
    if request.method == "GET":
        return render_editor(shop, product, product_values(product), variant_rows_for(product), {})
    rows = form_variant_rows(product)
    _clean, errors = _collect_errors(shop, product, rows)
    values = request.form.to_dict()
    if errors:
        return render_editor(shop, product, values, rows, errors, 400)
    photos = _uploaded_photos()
    with uow.field_errors() as outcome:
        services.update_product(current_user, product, request.form)
        if "maker_id" in request.form:
            maker_services.set_product_maker(current_user, product, request.form.get("maker_id"))
        _apply_rows(product, rows)
        if photos:
            add_photos(current_user, product, photos, request.form.get("alt_text"))
        if request.form.get("action") == "publish":
            services.publish_product(current_user, product)
    if (exc := invalid_input(outcome)) is not None:
        product = load_product(product_id)
        rows = form_variant_rows(product)
        return render_editor(shop if product is None else product.shop, product, values, rows,
                             _domain_error_to_field(exc, rows), 400)
    return uow.done(_("Đã lưu thay đổi."), url_for("seller.product_edit", product_id=product.id))


def _status_action(product_id: int, action, done_message: str):
    product = load_product(product_id)
    with uow.field_errors() as outcome:
        action(current_user, product)
    back = url_for("seller.product_edit", product_id=product_id)
    if (exc := invalid_input(outcome)) is not None:
        return uow.done(exc.message, back, "error")
    return uow.done(done_message, back)


@bp.post("/products/<int:product_id>/publish")
@role_required(*SELLER_ROLES)
def product_publish(product_id: int):
    return _status_action(product_id, services.publish_product, _("Sản phẩm đã được đăng bán."))


@bp.post("/products/<int:product_id>/unpublish")
@role_required(*SELLER_ROLES)
def product_unpublish(product_id: int):
    return _status_action(product_id, services.unpublish_product, _("Sản phẩm đã ẩn khỏi chợ (bản nháp)."))


@bp.post("/products/<int:product_id>/archive")
@role_required(*SELLER_ROLES)
def product_archive(product_id: int):
    return _status_action(product_id, services.archive_product, _("Sản phẩm đã được lưu trữ."))


@bp.post("/products/<int:product_id>/duplicate")
@role_required(*SELLER_ROLES)
def product_duplicate(product_id: int):
    product = load_product(product_id)
    copy = services.duplicate_product(current_user, product)
    return uow.done(_("Đã tạo bản sao (bản nháp). Hãy sửa tên và đăng bán khi sẵn sàng."),
                    url_for("seller.product_edit", product_id=copy.id))


def _bulk_rows(shop: Shop) -> list:
    return db.session.execute(
        sa.select(Variant, Product).join(Product, Variant.product_id == Product.id)
        .where(Product.shop_id == shop.id, Product.status != ProductStatus.ARCHIVED)
        .order_by(Product.title_vi, Product.id, Variant.position, Variant.id).limit(services.MAX_BULK_VARIANTS)
    ).all()


@bp.route("/products/bulk", methods=["GET", "POST"])
@role_required(*SELLER_ROLES)
def bulk_edit():
    """Price and stock of many variants in one form (all or nothing)."""
    shop = require_shop()
    errors: dict = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        changes: dict[int, dict] = {}
        for key in request.form:
            field, _sep, raw_id = key.partition("-")
            if field not in ("price", "stock") or not _sep:
                continue
            variant_id = parse_id(raw_id)
            if variant_id is None:
                raise NotFound(_("Không tìm thấy phân loại."))
            changes.setdefault(variant_id, {})[field] = request.form[key]
        with uow.field_errors() as outcome:
            changed = services.bulk_update_variants(current_user, shop, changes)
        if (exc := invalid_input(outcome)) is None:
            return uow.done(_("Đã cập nhật %(n)s phân loại.", n=changed), url_for("seller.bulk_edit", **shop_args(shop)))
        errors = dict((exc.details or {}).get("errors") or {"form": exc.message})
    return render_template("seller/bulk_edit.html", shop=shop, rows=_bulk_rows(shop), errors=errors, values=values,
                           args=shop_args(shop)), (400 if errors else 200)


@bp.post("/products/<int:product_id>/variants/<int:variant_id>/delete")
@role_required(*SELLER_ROLES)
def variant_delete(product_id: int, variant_id: int):
    product = load_product(product_id)
    variant = services.variant_for_seller(current_user, product, variant_id)
    with uow.field_errors() as outcome:
        services.delete_variant(current_user, variant)
    back = url_for("seller.product_edit", product_id=product_id)
    if (exc := invalid_input(outcome)) is not None:
        return uow.done(exc.message, back, "error")
    return uow.done(_("Đã xoá phân loại."), back)


@bp.post("/products/<int:product_id>/variants/<int:variant_id>/stock")
@role_required(*SELLER_ROLES)
def variant_stock(product_id: int, variant_id: int):
    product = load_product(product_id)
    variant = services.variant_for_seller(current_user, product, variant_id)
    with uow.field_errors() as outcome:
        services.set_stock(current_user, variant, request.form.get("stock", ""))
    if (exc := invalid_input(outcome)) is not None:
        message, category = exc.message, "error"
    else:
        message, category = _("Đã cập nhật tồn kho: %(name)s — %(n)s.", name=variant.name, n=variant.stock), "success"
    target = request.form.get("next")
    if target == "products":
        return uow.done(message, url_for("seller.products", **shop_args(product.shop)), category)
    if target == "edit":
        return uow.done(message, url_for("seller.product_edit", product_id=product_id), category)
    return uow.done(message, url_for("seller.dashboard", **shop_args(product.shop)), category)

