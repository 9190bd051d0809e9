"""Public pages: home, village directory and handbook, product list and detail, shop pages."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from marketplace.accounts.permissions import public
from marketplace.catalog import bp, queries
from marketplace.catalog.models import Category, Product, Recognition
from marketplace.core.cache import anonymous_page, cached_fragment
from marketplace.core.pagination import choice_arg, page_arg
from marketplace.core.replica import reads_replica
from marketplace.extensions import db


def _page_or_404(result):
    if result.page > 1 and result.page > result.pages:
        abort(404)
    return result


def _product_grid(name: str, template: str = "catalog/_product_grid.html", **criteria):
    """A listing's product grid (count, cards, pager) — or the template wrapping it — rendered once per
    catalog version. The template sees ``result`` and the criteria."""
    per_page = current_app.config["PER_PAGE"]
    page = page_arg(request.args.get("page"))

    def render():
        result = _page_or_404(queries.visible_products(page=page, per_page=per_page, **criteria))
        return render_template(template, result=result, **criteria)

    key = (request.path, template, tuple(sorted(criteria.items())), page, per_page)
    return cached_fragment(name, key, render)


@bp.get("/")
@public
@anonymous_page
@reads_replica
def home():
    def render():
        villages = queries.featured_villages(8)
        newest = queries.visible_products(sort="newest", page=1, per_page=12)
        return render_template("catalog/_home_body.html", villages=villages, products=newest.items)

    return render_template("catalog/home.html", body=cached_fragment("home", (), render))


@bp.get("/villages")
@public
@anonymous_page
@reads_replica
def villages():
    category = choice_arg(request.args.get("category"), Category.CHOICES)
    recognition = choice_arg(request.args.get("recognition"), Recognition.CHOICES)
    all_communes = queries.communes()
    commune = choice_arg(request.args.get("commune"), all_communes)
    rows = queries.villages_directory(category=category, commune=commune, recognition=recognition)
    return render_template(
        "catalog/villages.html",
        rows=rows,
        communes=all_communes,
        filters={"category": category, "commune": commune, "recognition": recognition},
    )


@bp.get("/villages/<slug>")
@public
@anonymous_page
@reads_replica
def village_detail(slug: str):
    village = queries.village_by_slug(slug)
    if village is None:
        abort(404)
    grid = _product_grid("village-grid", village_id=village.id)
    return render_template(
        "catalog/village_detail.html",
        village=village,
        shops=queries.village_shops(village.id),
        grid=grid,
        badges=queries.village_badges(village.id),
    )


@bp.get("/products")
@public
@anonymous_page
@reads_replica
def products():
    category = choice_arg(request.args.get("category"), Category.CHOICES)
    sort = choice_arg(request.args.get("sort"), queries.SORTS, queries.DEFAULT_SORT)
    body = _product_grid("products", "catalog/_products_body.html", category=category, sort=sort)
    return render_template("catalog/products.html", body=body, category=category)


@bp.get("/products/<int:product_id>")
@bp.get("/products/<int:product_id>-<slug>")
@public
@anonymous_page
@reads_replica
def product_detail(product_id: int, slug: str | None = None):
    """The canonical address is ``/products/<id>-<slug>``; the bare id and a stale or wrong slug answer 301
    to it (``url_for("catalog.product_detail", product_id=…)`` builds the canonical one, see ``_product_slug``)."""
    product = queries.product_for_page(product_id)
    if product is None:
        abort(404)
    if slug != product.slug:  # the query string (a language switch, a campaign tag) is kept
        target = url_for("catalog.product_detail", product_id=product.id, slug=product.slug)
        query = request.query_string.decode("latin-1")
        return redirect(f"{target}?{query}" if query else target, code=301)
    return render_template("catalog/product_detail.html", product=product)


@bp.url_defaults
def _product_slug(endpoint: str, values: dict) -> None:
    """``url_for("catalog.product_detail", product_id=…)`` without a slug gets the product's (from the
    session's identity map when the page already loaded it, else one primary-key read); an unknown id keeps
    the bare address (404)."""
    if endpoint != "catalog.product_detail" or values.get("slug") or "product_id" not in values:
        return
    product_id = values["product_id"]
    if not isinstance(product_id, int) or not 0 < product_id < 2**31:
        return  # not an id the database could hold: the bare address (404)
    product = db.session.get(Product, product_id)
    if product is not None:
        values["slug"] = product.slug


@bp.get("/shops/<slug>")
@public
@anonymous_page
@reads_replica
def shop_detail(slug: str):
    shop = queries.shop_by_slug(slug)
    if shop is None:
        abort(404)
    grid = _product_grid("shop-grid", shop_id=shop.id)
    return render_template("catalog/shop_detail.html", shop=shop, grid=grid,
                           shop_cover=queries.cover_photo(shop_id=shop.id))
