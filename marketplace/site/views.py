"""Site-wide routes: health check, robots.txt and sitemap."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, jsonify, render_template, url_for

from marketplace.accounts.permissions import public
from marketplace.catalog.models import (
    PENDING_KEY_PREFIX,
    CraftVillage,
    Product,
    ProductImage,
    product_slug,
    visible_products_clause,
)
from marketplace.catalog.seo import absolute_url
from marketplace.extensions import db
from marketplace.media.storage import image_url
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


# Private areas search engines are asked to leave alone (robots.txt); everything else public may be crawled.
ROBOTS_DISALLOW = ("/account", "/admin", "/api/", "/assisted", "/cart", "/checkout", "/evidence", "/favourites",
                   "/officials", "/orders", "/payments", "/reviews", "/search/suggest", "/seller", "/healthz")


@bp.get("/robots.txt")
@public
def robots():
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines += ["", f"Sitemap: {url_for('site.sitemap', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


def _lastmod(value) -> str | None:
    return value.strftime("%Y-%m-%d") if value else None


@bp.get("/sitemap.xml")
@public
def sitemap():
    """Every public page with its last change (``lastmod``, a date) and, for products, its photos."""
    visible = visible_products_clause()
    newest = sa.func.max(Product.updated_at)
    catalog_changed = db.session.scalar(sa.select(newest).where(visible))
    entries = [{"loc": url_for("catalog.home", _external=True), "lastmod": _lastmod(catalog_changed)},
               {"loc": url_for("catalog.villages", _external=True), "lastmod": None},
               {"loc": url_for("catalog.products", _external=True), "lastmod": _lastmod(catalog_changed)}]
    by_village = dict(db.session.execute(
        sa.select(Shop.village_id, newest).join(Product, Product.shop_id == Shop.id).where(visible)
        .group_by(Shop.village_id)).all())
    for vid, slug, created in db.session.execute(
            sa.select(CraftVillage.id, CraftVillage.slug, CraftVillage.created_at).order_by(CraftVillage.slug)):
        changed = max(d for d in (created, by_village.get(vid)) if d)
        entries.append({"loc": url_for("catalog.village_detail", slug=slug, _external=True),
                        "lastmod": _lastmod(changed)})
    by_shop = dict(db.session.execute(sa.select(Product.shop_id, newest).where(visible).group_by(Product.shop_id)).all())
    for sid, slug, created in db.session.execute(
            sa.select(Shop.id, Shop.slug, Shop.created_at).where(Shop.status == ShopStatus.ACTIVE).order_by(Shop.slug)):
        changed = max(d for d in (created, by_shop.get(sid)) if d)
        entries.append({"loc": url_for("catalog.shop_detail", slug=slug, _external=True),
                        "lastmod": _lastmod(changed)})
    images: dict[int, list] = {}
    for image in db.session.scalars(
            sa.select(ProductImage).join(Product, Product.id == ProductImage.product_id)
            .where(visible, ~ProductImage.storage_key.startswith(PENDING_KEY_PREFIX))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)):
        images.setdefault(image.product_id, []).append(image)
    for pid, title, updated in db.session.execute(
            sa.select(Product.id, Product.title_vi, Product.updated_at).where(visible).order_by(Product.id)):
        entries.append({
            "loc": url_for("catalog.product_detail", product_id=pid, slug=product_slug(title),
                           _external=True),
            "lastmod": _lastmod(updated),
            "images": [{"loc": absolute_url(image_url(img, 1600, "jpg")), "title": title} for img in images.get(pid, ())],
        })
    xml = render_template("sitemap.xml", entries=entries)
    return Response(xml, mimetype="application/xml")


@bp.get("/privacy")
@public
def privacy():
    return render_template("site/privacy.html")
