"""/api/v1: the public catalog (read) and an artisan's own listings and orders (write, bearer token).

Writes call the same services as the HTML views (``marketplace.catalog.services``,
``marketplace.orders.services``); nothing here restates a rule.
"""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import g, jsonify, request, url_for

from marketplace.accounts.permissions import public
from marketplace.api import bodies, bp, serializers
from marketplace.api.auth import token_required
from marketplace.api.openapi import operation
from marketplace.catalog import queries
from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import Category, CraftVillage, Product, Recognition
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.extensions import db
from marketplace.media.uploads import add_photos
from marketplace.orders import services as order_services
from marketplace.orders.models import Order, OrderStatus
from marketplace.search import backend as search_backend
from marketplace.search import services as search_services
from marketplace.shops.models import Shop, ShopStatus
from marketplace.shops.services import owned_shops

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 24
MAX_QUERY_LENGTH = 200
SLUG_LENGTH = CraftVillage.slug.property.columns[0].type.length
COMMUNE_LENGTH = CraftVillage.commune_vi.property.columns[0].type.length


# --- argument parsing: strict (400 with the field), unlike the forgiving HTML pages ----------------

def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:  # int() would take " 5", "5_0", "٥"
        raise InvalidInput(f"{name} must be an integer", field=name)
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", field=name)
    return value


def _text_arg(name: str, max_length: int) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise InvalidInput(f"{name} must be at most {max_length} characters", field=name)
    return raw


def _choice_arg(name: str, choices) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidInput(f"{name} must be one of: {', '.join(choices)}", field=name)
    return raw


def _paging() -> tuple[int, int]:
    return _int_arg("page", 1, 1, 10_000), _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)


def _page_body(items: list, page: int, per_page: int, total: int) -> dict:
    pages = max(1, -(-total // per_page))
    nxt = None
    if page < pages:
        args = request.args.to_dict(flat=True)
        args.update(page=page + 1, per_page=per_page)
        nxt = url_for(request.endpoint, **(request.view_args or {}), **args)
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages, "next": nxt}


def _json_body(spec: bodies.Body) -> dict:
    """The request's JSON object, checked against ``spec`` (the table the OpenAPI document shows)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object", field="body")
    return spec.check(body)


@contextmanager
def _state_refusals(refusals: dict):
    """A service's ``InvalidInput`` on a field the request body has already been checked for is about the
    data it meets (a SKU already taken, the 30th variant, another village's IP protection, a product not
    ready for sale), not about the request: answered with the status ``refusals`` names for that field
    (``"sku"`` also covers ``"variants-3-sku"``). Any other ``InvalidInput`` stays a 400."""
    try:
        yield
    except InvalidInput as exc:
        name = (exc.field or "").rsplit("-", 1)[-1]
        error = refusals.get(name)
        if error is None:
            raise
        raise error(exc.message, field=exc.field, details=exc.details) from exc


# --- read: the public catalog ----------------------------------------------------------------------

def _product_list_params():
    return [
        ("q", "string", "Search text; diacritics optional (`gom bat trang` finds `gốm Bát Tràng`)",
         {"maxLength": MAX_QUERY_LENGTH, "pattern": bodies.QUERY_TEXT_PATTERN}),
        ("category", "string", "Craft category", {"enum": list(Category.CHOICES)}),
        ("village", "string", "Village slug (404 when there is no such village)",
         {"maxLength": SLUG_LENGTH, "pattern": bodies.QUERY_TEXT_PATTERN}),
        ("ocop", "integer", "Only products with a valid OCOP certificate of this many stars or more",
         {"minimum": 3, "maximum": 5}),
        ("price", "string", "Price band", {"enum": list(search_backend.PRICE_BAND_KEYS)}),
        ("sort", "string", "Order (default: relevance with q, newest without)",
         {"enum": list(search_backend.SORTS)}),
        ("page", "integer", "Page number", {"minimum": 1, "maximum": 10000}),
        ("per_page", "integer", "Items per page", {"minimum": 1, "maximum": MAX_PER_PAGE}),
    ]


@bp.get("/products")
@public
@operation(summary="Search and list products for sale (the same search and filters as /search)", tag="catalog",
           params=_product_list_params(), response="ProductPage", not_found=True)
def products():
    text = _text_arg("q", MAX_QUERY_LENGTH) or ""
    category = _choice_arg("category", Category.CHOICES)
    sort = _choice_arg("sort", search_backend.SORTS) or "relevance"
    price = _choice_arg("price", search_backend.PRICE_BAND_KEYS)
    ocop = _int_arg("ocop", None, 3, 5)
    page, per_page = _paging()
    village = None
    village_slug = _text_arg("village", SLUG_LENGTH)
    if village_slug:
        village = search_services.village_by_slug(village_slug)
        if village is None:
            raise NotFound("No such village", field="village")
    filters = search_services.clean_filters(category=category, village_id=village.id if village else None,
                                            ocop=ocop, price=price)
    result = search_services.search_products(text, filters, sort=sort, page=page, per_page=per_page, facets=False)
    items = [serializers.product_summary(p) for p in search_services.load_products(result.ids)]
    return jsonify(_page_body(items, page, per_page, result.total))


@bp.get("/products/<int:product_id>")
@public
@operation(summary="One product with its variants", tag="catalog", response="ProductDetail", not_found=True)
def product(product_id: int):
    row = queries.product_for_page(product_id)
    if row is None:
        raise NotFound("No such product", field="product_id")
    return jsonify(serializers.product_detail(row))


@bp.get("/villages")
@public
@operation(summary="Craft villages, with the number of products on sale", tag="catalog", response="VillageList",
           params=[("category", "string", "Craft category", {"enum": list(Category.CHOICES)}),
                   ("recognition", "string", "Official recognition", {"enum": list(Recognition.CHOICES)}),
                   ("commune", "string", "Commune name (Vietnamese)",
                    {"maxLength": COMMUNE_LENGTH, "pattern": bodies.QUERY_TEXT_PATTERN})])
def villages():
    category = _choice_arg("category", Category.CHOICES)
    recognition = _choice_arg("recognition", Recognition.CHOICES)
    commune = (_text_arg("commune", COMMUNE_LENGTH) or "").strip() or None
    rows = queries.villages_directory(category=category, commune=commune, recognition=recognition)
    return jsonify({"items": [serializers.village_json(v, n) for v, n in rows], "total": len(rows)})


@bp.get("/villages/<slug>")
@public
@operation(summary="One craft village: story, IP protections, shops", tag="catalog", response="VillageDetail",
           not_found=True)
def village(slug: str):
    row = queries.village_by_slug(slug)
    if row is None:
        raise NotFound("No such village", field="slug")
    return jsonify(serializers.village_detail(row, queries.village_shops(row.id), queries.village_badges(row.id)))


@bp.get("/shops")
@public
@operation(summary="Active shops", tag="catalog", response="ShopPage",
           params=[("village", "string", "Village slug (no such village: no shops)",
                    {"maxLength": SLUG_LENGTH, "pattern": bodies.QUERY_TEXT_PATTERN}),
                   ("page", "integer", "Page number", {"minimum": 1, "maximum": 10000}),
                   ("per_page", "integer", "Items per page", {"minimum": 1, "maximum": MAX_PER_PAGE})])
def shops():
    page, per_page = _paging()
    criteria = [Shop.status == ShopStatus.ACTIVE]
    village_slug = _text_arg("village", SLUG_LENGTH)
    if village_slug:
        criteria.append(Shop.village_id.in_(sa.select(CraftVillage.id).where(CraftVillage.slug == village_slug)))
    total = db.session.scalar(sa.select(sa.func.count(Shop.id)).where(*criteria)) or 0
    stmt = (sa.select(Shop).where(*criteria).options(sa.orm.joinedload(Shop.village))
            .order_by(Shop.verified.desc(), Shop.name, Shop.id).limit(per_page).offset((page - 1) * per_page))
    items = [serializers.shop_json(s) for s in db.session.scalars(stmt)]
    return jsonify(_page_body(items, page, per_page, total))


@bp.get("/shops/<slug>")
@public
@operation(summary="One shop", tag="catalog", response="Shop", not_found=True)
def shop(slug: str):
    row = queries.shop_by_slug(slug)
    if row is None:
        raise NotFound("No such shop", field="slug")
    return jsonify(serializers.shop_json(row))


# --- write: an artisan's own listings (bearer token) ----------------------------------------------

def _own_shops(user) -> list[Shop]:
    return owned_shops(user)


def _target_shop(user, body: dict) -> Shop:
    shops = _own_shops(user)
    raw = body.get("shop_id")
    if raw is not None:
        chosen = next((s for s in shops if isinstance(raw, int) and s.id == raw), None)
        if chosen is None:
            raise NotFound("No such shop of yours", field="shop_id")
        return chosen
    if len(shops) == 1:
        return shops[0]
    if not shops:  # the account's state, not the request, is what is missing: 409
        raise Conflict("Create a shop first", field="shop_id")
    raise Conflict("You have several shops: give shop_id", field="shop_id")


def _own_product(product_id: int) -> Product:
    return catalog_services.product_for_seller(g.api_user, product_id)


@bp.get("/me/products")
@token_required("artisan")
@operation(summary="My products (every status)", tag="seller", response="ProductPage",
           params=[("page", "integer", "Page number", {"minimum": 1, "maximum": 10000}),
                   ("per_page", "integer", "Items per page", {"minimum": 1, "maximum": MAX_PER_PAGE})])
def my_products():
    page, per_page = _paging()
    shop_ids = [s.id for s in _own_shops(g.api_user)] or [-1]
    criteria = [Product.shop_id.in_(shop_ids)]
    total = db.session.scalar(sa.select(sa.func.count(Product.id)).where(*criteria)) or 0
    stmt = (sa.select(Product).where(*criteria).options(*queries.card_options()).order_by(Product.id.desc())
            .limit(per_page).offset((page - 1) * per_page))
    items = [serializers.product_summary(p) for p in db.session.scalars(stmt).unique()]
    return jsonify(_page_body(items, page, per_page, total))


@bp.post("/me/products")
@token_required("artisan")
@operation(summary="Create a draft product (optionally with variants)", tag="seller", body="ProductInput",
           response="ProductDetail", status=201)
def create_my_product():
    body = _json_body(bodies.PRODUCT_CREATE)
    shop = _target_shop(g.api_user, body)
    variants = body.pop("variants", None) or []
    _refuse_repeated_skus([v.get("sku") for v in variants])
    with _state_refusals({"sku": Conflict, "ip_protection_id": Conflict}):
        row = catalog_services.create_product(g.api_user, shop, body, variants=variants)
    return jsonify(serializers.product_detail(row)), 201


def _refuse_repeated_skus(skus: list) -> None:
    """Two new variants with one SKU (SKUs are stored upper-case): a conflict, like a SKU already taken."""
    seen = set()
    for index, sku in enumerate(skus):
        key = (sku or "").strip().upper()
        if key and key in seen:
            raise Conflict("This SKU is given twice", field=f"variants-{index}-sku")
        seen.add(key)


@bp.get("/me/products/<int:product_id>")
@token_required("artisan")
@operation(summary="One of my products", tag="seller", response="ProductDetail", not_found=True)
def my_product(product_id: int):
    return jsonify(serializers.product_detail(_own_product(product_id)))


@bp.patch("/me/products/<int:product_id>")
@token_required("artisan")
@operation(summary="Change some fields of my product", tag="seller", body="ProductUpdate",
           response="ProductDetail", not_found=True)
def update_my_product(product_id: int):
    body = _json_body(bodies.PRODUCT_UPDATE)
    with _state_refusals({"ip_protection_id": Conflict}):
        row = catalog_services.update_product(g.api_user, _own_product(product_id), body, partial=True)
    return jsonify(serializers.product_detail(row))


@bp.post("/me/products/<int:product_id>/publish")
@token_required("artisan")
@operation(summary="Put my product on sale", tag="seller", response="ProductDetail", not_found=True)
def publish_my_product(product_id: int):
    with _state_refusals({"title_vi": Conflict, "description_vi": Conflict, "variants": Conflict, "photos": Conflict}):
        row = catalog_services.publish_product(g.api_user, _own_product(product_id))
    return jsonify(serializers.product_detail(row))


@bp.post("/me/products/<int:product_id>/unpublish")
@token_required("artisan")
@operation(summary="Take my product off sale (back to draft)", tag="seller", response="ProductDetail",
           not_found=True)
def unpublish_my_product(product_id: int):
    row = catalog_services.unpublish_product(g.api_user, _own_product(product_id))
    return jsonify(serializers.product_detail(row))


@bp.post("/me/products/<int:product_id>/photos")
@token_required("artisan")
@operation(summary="Add photos to my product, all or none", tag="seller", response="ProductDetail", status=201,
           not_found=True, form=bodies.PHOTOS_FORM,
           description="`multipart/form-data`: `photos` (one or more JPEG, PNG or WebP files) and optional "
                       "`alt_text`. Every header is checked before any decoding: a file that is refused, or files "
                       "over the request's budget (`MAX_IMAGES_PER_REQUEST`, `MAX_IMAGE_PIXELS_PER_REQUEST`: 413), "
                       "store nothing.")
def add_my_photos(product_id: int):
    items = [(f.filename or "photo", f.read()) for f in request.files.getlist("photos") if f]
    product = _own_product(product_id)
    add_photos(g.api_user, product, items, request.form.get("alt_text"))
    return jsonify(serializers.product_detail(product)), 201


@bp.post("/me/products/<int:product_id>/variants")
@token_required("artisan")
@operation(summary="Add a variant (name, price, stock, optional sku)", tag="seller", body="VariantInput",
           response="Variant", status=201, not_found=True)
def add_my_variant(product_id: int):
    body = _json_body(bodies.VARIANT_CREATE)
    with _state_refusals({"sku": Conflict, "variants": Conflict}):  # variants: the product has 30 already
        variant = catalog_services.add_variant(g.api_user, _own_product(product_id), body)
    return jsonify(serializers.variant_json(variant)), 201


@bp.patch("/me/products/<int:product_id>/variants/<int:variant_id>")
@token_required("artisan")
@operation(summary="Change a variant", tag="seller", body="VariantUpdate", response="Variant", not_found=True)
def update_my_variant(product_id: int, variant_id: int):
    body = _json_body(bodies.VARIANT_UPDATE)
    variant = catalog_services.variant_for_seller(g.api_user, _own_product(product_id), variant_id)
    with _state_refusals({"sku": Conflict}):
        variant = catalog_services.update_variant(g.api_user, variant, body)
    return jsonify(serializers.variant_json(variant))


@bp.put("/me/products/<int:product_id>/variants/<int:variant_id>/stock")
@token_required("artisan")
@operation(summary="Set a variant's stock", tag="seller", body="StockInput", response="Variant", not_found=True)
def set_my_stock(product_id: int, variant_id: int):
    body = _json_body(bodies.STOCK)
    variant = catalog_services.variant_for_seller(g.api_user, _own_product(product_id), variant_id)
    variant = catalog_services.set_stock(g.api_user, variant, body["stock"])
    return jsonify(serializers.variant_json(variant))


# --- write: an artisan's orders (bearer token) -----------------------------------------------------

def _own_order(order_id: int):
    order = order_services.get_order(order_id)
    if not order_services.can_manage_order(g.api_user, order):
        raise NotFound("No such order", field="order_id")  # another shop's order looks like no order
    return order


@bp.get("/me/orders")
@token_required("artisan")
@operation(summary="Orders to my shops, newest first", tag="seller", response="OrderPage",
           params=[("status", "string", "Only orders in this state",
                    {"enum": ["pending_payment", "awaiting_shipment", "paid", "shipped", "delivered", "completed",
                              "cancelled", "expired", "refunded", "needs_review"]}),
                   ("page", "integer", "Page number", {"minimum": 1, "maximum": 10000}),
                   ("per_page", "integer", "Items per page", {"minimum": 1, "maximum": MAX_PER_PAGE})])
def my_orders():
    status = _choice_arg("status", OrderStatus.CHOICES)
    page, per_page = _paging()
    shop_ids = [s.id for s in _own_shops(g.api_user)] or [-1]
    criteria = [Order.shop_id.in_(shop_ids)]
    if status:
        criteria.append(Order.status == status)
    total = db.session.scalar(sa.select(sa.func.count(Order.id)).where(*criteria)) or 0
    stmt = (sa.select(Order).where(*criteria).options(sa.orm.selectinload(Order.lines)).order_by(Order.id.desc())
            .limit(per_page).offset((page - 1) * per_page))
    items = [serializers.order_json(o) for o in db.session.scalars(stmt)]
    return jsonify(_page_body(items, page, per_page, total))


@bp.get("/me/orders/<int:order_id>")
@token_required("artisan")
@operation(summary="One order to my shop", tag="seller", response="Order", not_found=True)
def my_order(order_id: int):
    return jsonify(serializers.order_json(_own_order(order_id)))


@bp.post("/me/orders/<int:order_id>/ship")
@token_required("artisan")
@operation(summary="Hand the order to a carrier (awaiting shipment → shipped)", tag="seller", body="ShipInput",
           response="Order", not_found=True)
def ship_my_order(order_id: int):
    body = _json_body(bodies.SHIP)
    carrier, tracking = body["carrier"], body["tracking_number"]
    order = order_services.ship_order(g.api_user, _own_order(order_id), carrier, tracking)
    return jsonify(serializers.order_json(order))


@bp.post("/me/orders/<int:order_id>/deliver")
@token_required("artisan")
@operation(summary="Confirm delivery (shipped → delivered; a COD order counts as paid)", tag="seller",
           response="Order", not_found=True)
def deliver_my_order(order_id: int):
    order = order_services.deliver_order(g.api_user, _own_order(order_id))
    return jsonify(serializers.order_json(order))
