"""Site-wide routes: health check and sitemap."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, jsonify, render_template, url_for

from marketplace.accounts.permissions import public
from marketplace.catalog.models import CraftVillage, Product, visible_products_clause
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus
from marketplace.site import bp


@bp.get("/healthz")
@public
def healthz():
    try:  # its own connection: a failed check leaves the request's session untouched
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        database = "ok"
    except Exception:  # the point of a health check is to report, not to raise
        database = "error"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status


@bp.get("/sitemap.xml")
@public
def sitemap():
    urls = [url_for("catalog.home", _external=True), url_for("catalog.villages", _external=True),
            url_for("catalog.products", _external=True)]
    for (slug,) in db.session.execute(sa.select(CraftVillage.slug).order_by(CraftVillage.slug)):
        urls.append(url_for("catalog.village_detail", slug=slug, _external=True))
    for (slug,) in db.session.execute(
        sa.select(Shop.slug).where(Shop.status == ShopStatus.ACTIVE).order_by(Shop.slug)
    ):
        urls.append(url_for("catalog.shop_detail", slug=slug, _external=True))
    for (pid,) in db.session.execute(sa.select(Product.id).where(visible_products_clause()).order_by(Product.id)):
        urls.append(url_for("catalog.product_detail", product_id=pid, _external=True))
    xml = render_template("sitemap.xml", urls=urls)
    return Response(xml, mimetype="application/xml")


@bp.get("/privacy")
@public
def privacy():
    return render_template("site/privacy.html")
