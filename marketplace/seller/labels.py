"""Provenance labels (A4, 24 a sheet; PDF or print-ready HTML) for one product or the whole shop, and the
village poster (A4, a QR to the village page). The sheets themselves are ``makers/labels.py``."""
from __future__ import annotations

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _

from marketplace.accounts.permissions import role_required
from marketplace.makers import labels, services
from marketplace.seller import bp
from marketplace.seller.context import SELLER_ROLES, load_product, require_shop, shop_args
from marketplace.shops.models import Shop


def _with_price() -> bool:
    return request.args.get("price") == "1"


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"})


def _print_page(shop: Shop, items: list[labels.Label], title: str):
    return render_template("seller/labels_print.html", shop=shop, labels=items, title=title,
                           per_sheet=labels.PER_SHEET)


@bp.get("/labels")
@role_required(*SELLER_ROLES)
def labels_index():
    """What can be printed: every product's label, the whole shop's sheet, the village poster; scan counts."""
    shop = require_shop()
    products = labels.label_products(shop)
    return render_template("seller/labels.html", shop=shop, products=products, args=shop_args(shop),
                           scans=services.scan_counts([p.id for p in products]))


@bp.get("/labels/sheet.pdf")
@role_required(*SELLER_ROLES)
def labels_shop_pdf():
    shop = require_shop()
    items = labels.make_labels(labels.label_products(shop), _with_price())
    return _pdf(labels.labels_pdf(items, _("Tem truy xuất — %(shop)s", shop=shop.name)), f"tem-{shop.slug}.pdf")


@bp.get("/labels/sheet")
@role_required(*SELLER_ROLES)
def labels_shop_html():
    shop = require_shop()
    items = labels.make_labels(labels.label_products(shop), _with_price())
    return _print_page(shop, items, _("Tem truy xuất — %(shop)s", shop=shop.name))


def _product_labels(product_id: int):
    product = load_product(product_id)
    items = labels.make_labels(labels.label_products(product.shop, [product.id]), _with_price())
    return product, items * labels.PER_SHEET  # a full sheet of the one product


@bp.get("/products/<int:product_id>/labels.pdf")
@role_required(*SELLER_ROLES)
def labels_product_pdf(product_id: int):
    product, items = _product_labels(product_id)
    return _pdf(labels.labels_pdf(items, product.title_vi), f"tem-san-pham-{product.id}.pdf")


@bp.get("/products/<int:product_id>/labels")
@role_required(*SELLER_ROLES)
def labels_product_html(product_id: int):
    product, items = _product_labels(product_id)
    return _print_page(product.shop, items, product.title_vi)


@bp.get("/poster.pdf")
@role_required(*SELLER_ROLES)
def village_poster():
    shop = require_shop()
    village = shop.village
    url = url_for("catalog.village_detail", slug=village.slug, _external=True)
    data = labels.poster_pdf(
        village_name=_("Làng nghề %(name)s", name=village.name_vi), craft=village.craft_vi, url=url,
        heading=_("Sản phẩm làm tại làng"), call=_("Quét mã để xem làng, nghệ nhân và sản phẩm"))
    return _pdf(data, f"poster-{village.slug}.pdf")
