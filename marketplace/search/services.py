"""What the rest of the app calls to search: results, suggestions, filter values.

``search_products(q, filters, sort, page, per_page)`` is the one entry point for views and the API;
it returns a ``SearchResult`` (ids in rank order, scores, total, facets, did_you_mean, fallback).
``load_products(ids)`` turns ids into visible ``Product`` rows in that order (the database has the
last word on visibility, so a stale index can never show a suspended shop's product).

When the engine fails (an unreadable index, a bug) the failure is logged and ``SearchUnavailable``
(503) is raised: a broken engine never looks like "no products". Index maintenance (reindex, check,
sync) is in ``maintenance.py``.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _

from marketplace.catalog.models import Category, CraftVillage, Product, visible_products_clause
from marketplace.catalog.queries import card_options
from marketplace.core.templating import localized
from marketplace.extensions import db
from marketplace.search.analysis import fold_text, words
from marketplace.search.backend import get_backend
from marketplace.search.parsing import MAX_CHARS, parse_query
from marketplace.search.vocabulary import (
    MAX_PER_PAGE,
    OCOP_CHOICES,
    PRICE_BAND_KEYS,
    SORTS,
    SearchResult,
    SearchUnavailable,
)
from marketplace.shops.models import Shop

log = logging.getLogger(__name__)


def _unavailable() -> SearchUnavailable:
    return SearchUnavailable(_("Tìm kiếm tạm thời không hoạt động, vui lòng thử lại."))


def clean_filters(category=None, village_id=None, ocop=None, price=None) -> dict:
    """Keep only whitelisted filter values (anything else is ignored)."""
    out = {}
    if category in Category.CHOICES:
        out["category"] = category
    try:
        if village_id is not None and int(village_id) > 0:
            out["village_id"] = int(village_id)
    except (TypeError, ValueError):
        pass
    try:
        if ocop is not None and int(ocop) in OCOP_CHOICES:
            out["ocop"] = int(ocop)
    except (TypeError, ValueError):
        pass
    if price in PRICE_BAND_KEYS:
        out["price"] = price
    return out


def search_products(q: str | None, filters: dict | None = None, sort: str = "relevance", page: int = 1,
                    per_page: int | None = None, facets: bool = True) -> SearchResult:
    """Search visible products. ``filters``: category, village_id, ocop (3–5: that many stars or more, valid
    today), price (band key). Returns ids in rank order, scores, total, facets, did_you_mean, fallback."""
    per_page = max(1, min(int(per_page or current_app.config["PER_PAGE"]), MAX_PER_PAGE))
    filters = clean_filters(**{k: v for k, v in (filters or {}).items()
                               if k in ("category", "village_id", "ocop", "price")})
    sort = sort if sort in SORTS else "relevance"
    parsed = parse_query(q)
    try:
        return get_backend().search(parsed, filters, sort, max(1, int(page)), per_page, facets=facets)
    except Exception as exc:  # whatever broke in the engine: logged here, shown as "unavailable" (503)
        log.exception("search failed for %r", parsed.text)
        get_backend().forget()  # the next search reopens the index (e.g. once `flask search reindex` repaired it)
        raise _unavailable() from exc


def load_products(ids: list[int]) -> list[Product]:
    """Visible products for ``ids``, in the given order, with what a card shows loaded."""
    if not ids:
        return []
    stmt = sa.select(Product).where(Product.id.in_(ids), visible_products_clause()).options(*card_options())
    rows = {p.id: p for p in db.session.scalars(stmt).unique()}
    return [rows[i] for i in ids if i in rows]


def village_names(ids) -> dict[int, CraftVillage]:
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    return {v.id: v for v in db.session.scalars(sa.select(CraftVillage).where(CraftVillage.id.in_(ids)))}


def village_by_slug(slug: str | None) -> CraftVillage | None:
    if not slug or len(slug) > 80:
        return None
    return db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == slug))


def suggest(q: str | None, limit: int = 8) -> list[dict]:
    """Autocomplete entries for the search box: villages whose name matches, then product titles."""
    text = (q or "")[:MAX_CHARS]
    tokens = words(text)[:6]
    if not tokens or len(fold_text(text).replace(" ", "")) < 2:
        return []
    folded = " ".join(fold_text(t) for t in tokens)
    out = []
    for village in _village_list():
        name = fold_text(village.name_vi)
        if name.startswith(folded) or f" {folded}" in f" {name}":
            out.append({"type": "village", "label": village.name_vi,
                        "url": url_for("catalog.village_detail", slug=village.slug)})
        if len(out) >= 3:
            break
    try:
        ids = get_backend().suggest_ids(tokens[:-1], tokens[-1], limit=limit)
    except Exception as exc:  # as in search_products: never an empty answer for a broken engine
        log.exception("suggest failed for %r", text)
        raise _unavailable() from exc
    for product in load_products(ids):
        out.append({"type": "product", "label": localized(product, "title"),
                    "url": url_for("catalog.product_detail", product_id=product.id)})
    return out[:limit]


def _village_list() -> list[CraftVillage]:
    stmt = (
        sa.select(CraftVillage)
        .where(CraftVillage.id.in_(sa.select(Shop.village_id).where(Shop.status == "active")))
        .order_by(CraftVillage.name_vi)
    )
    return list(db.session.scalars(stmt))


__all__ = [
    "clean_filters",
    "get_backend",
    "load_products",
    "parse_query",
    "search_products",
    "suggest",
    "village_by_slug",
    "village_names",
]
