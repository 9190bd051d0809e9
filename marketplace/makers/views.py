"""Public pages: a maker's profile and the short address of a product's QR code."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for

from marketplace.accounts.permissions import public
from marketplace.catalog.models import Product, visible_products_clause
from marketplace.core.cache import anonymous_page
from marketplace.core.replica import reads_replica
from marketplace.extensions import db
from marketplace.makers import bp, codes, services


@bp.get("/makers/<int:maker_id>")
@public
@anonymous_page
@reads_replica
def profile(maker_id: int):
    maker = services.public_maker(maker_id)
    if maker is None:
        abort(404)
    return render_template("makers/profile.html", maker=maker, products=services.maker_products(maker.id))


@bp.get("/q/<code>")
@public
def scan(code: str):
    """Count the scan and send the visitor to the product's current address (302: the code is permanent,
    the address may change with the title)."""
    product_id = codes.decode(code)
    if product_id is None:
        abort(404)
    visible = db.session.scalar(
        db.select(Product.id).where(Product.id == product_id, visible_products_clause()))
    if visible is None:
        abort(404)
    services.count_scan(product_id)
    return redirect(url_for("catalog.product_detail", product_id=product_id), code=302)
