"""/search (works fully without JavaScript) and /search/suggest (JSON for the search box)."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request

from marketplace.accounts.permissions import public
from marketplace.core.pagination import choice_arg, page_arg
from marketplace.extensions import limiter
from marketplace.search import bp, services
from marketplace.search.vocabulary import PRICE_BANDS, PRICE_LABELS, SORTS

FACET_VILLAGES_SHOWN = 12


@bp.get("/search")
@public
def results():
    args = request.args
    q = services.parse_query(args.get("q", "")).text if "q" in args else ""
    village = services.village_by_slug(args.get("village"))
    filters = services.clean_filters(
        category=args.get("category"),
        village_id=village.id if village else None,
        ocop=args.get("ocop"),
        price=args.get("price"),
    )
    sort = choice_arg(args.get("sort"), SORTS, "relevance")
    page = page_arg(args.get("page"))
    result = services.search_products(q, filters, sort=sort, page=page, per_page=current_app.config["PER_PAGE"])
    products = services.load_products(result.ids)
    village_facets = result.facets.get("village", [])[:FACET_VILLAGES_SHOWN]
    villages = services.village_names([vid for vid, _ in village_facets] + ([village.id] if village else []))
    return render_template(
        "search/results.html",
        q=q,
        result=result,
        products=products,
        filters=filters,
        village=village,
        villages=villages,
        village_facets=[(villages[vid], n) for vid, n in village_facets if vid in villages],
        price_labels=PRICE_LABELS,
        price_bands=PRICE_BANDS,
        sort=sort,
    )


@bp.get("/search/suggest")
@public
@limiter.limit(lambda: current_app.config["SEARCH_SUGGEST_RATE_LIMIT"])
def suggest():
    q = request.args.get("q", "")
    response = jsonify({"query": services.parse_query(q).text, "suggestions": services.suggest(q)})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response

