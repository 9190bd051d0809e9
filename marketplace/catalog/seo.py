"""Sharing and search engines: the head tags of every page (canonical, hreflang, Open Graph, Twitter card) and
the JSON-LD documents (Product, Organization, BreadcrumbList). Templates call these through Jinja globals
(``seo_tags``, ``jsonld``, ``product_jsonld``, ``breadcrumb_jsonld``, ``organization_jsonld``, ``absolute_url``,
``og_image``); every URL they write is absolute."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import current_app, request, url_for
from markupsafe import Markup, escape

from marketplace.core.templating import current_lang, localized
from marketplace.media.storage import image_url

SITE_NAME = "Chợ Làng Nghề"
OG_LOCALES = {"vi": "vi_VN", "en": "en_GB"}
# Query arguments that name a different page of the same address (kept in the canonical URL).
CANONICAL_ARGS = ("page", "category")


def absolute_url(url: str) -> str:
    """``url`` made absolute against the current request's host (already absolute: unchanged)."""
    if url.startswith(("http://", "https://")):
        return url
    return request.host_url.rstrip("/") + "/" + url.lstrip("/")


def og_image(image, size: int = 1600) -> str | None:
    """The absolute URL of a photo's JPEG derivative (None without a photo or while it is being processed)."""
    if image is None or image.processing:
        return None
    return absolute_url(image_url(image, size, "jpg"))


def canonical_url() -> str | None:
    """This page's address without the language switch or other view options (None on a page with no route)."""
    if request.endpoint is None or request.url_rule is None:
        return None
    base = url_for(request.endpoint, **(request.view_args or {}), _external=True)
    kept = {k: request.args[k] for k in CANONICAL_ARGS if request.args.get(k) and request.args.get(k) != "1"}
    return f"{base}?{urlencode(kept)}" if kept else base


def _with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def seo_tags(title, description, *, image: str | None = None, kind: str = "website",
             canonical: str | None = None) -> Markup:
    """canonical + hreflang alternates (vi, en, x-default) + Open Graph + Twitter card tags for a page."""
    url = canonical or canonical_url()
    lang = current_lang()
    title, description = (title or "").strip(), (description or "").strip()
    image = image or absolute_url(url_for("static", filename="img/og-default.png"))
    lines = []
    if url:
        lines.append(f'<link rel="canonical" href="{escape(url)}">')
        for code in current_app.config["LANGUAGES"]:
            lines.append(f'<link rel="alternate" hreflang="{escape(code)}" href="{escape(_with_lang(url, code))}">')
        lines.append(f'<link rel="alternate" hreflang="x-default" href="{escape(url)}">')
    meta = [
        ("og:site_name", SITE_NAME), ("og:type", kind), ("og:title", title), ("og:description", description),
        ("og:url", url), ("og:image", image), ("og:locale", OG_LOCALES.get(lang, lang)),
    ]
    meta += [("og:locale:alternate", OG_LOCALES.get(code, code))
             for code in current_app.config["LANGUAGES"] if code != lang]
    for prop, value in meta:
        if value:
            lines.append(f'<meta property="{prop}" content="{escape(value)}">')
    for name, value in (("twitter:card", "summary_large_image"), ("twitter:title", title),
                        ("twitter:description", description), ("twitter:image", image)):
        lines.append(f'<meta name="{name}" content="{escape(value)}">')
    return Markup("\n  ".join(lines))


def jsonld(data: dict) -> Markup:
    """A ``<script type="application/ld+json">`` block; ``<``, ``>`` and ``&`` escaped so no text ends it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">{text}</script>')


def _availability(product) -> str:
    in_stock = any(v.stock > 0 for v in product.variants)
    return "https://schema.org/InStock" if in_stock else "https://schema.org/OutOfStock"


def product_jsonld(product, rating_count: int = 0, rating_average: float | None = None) -> dict:
    """schema.org Product: offers in VND (integer prices), availability from stock, brand = the shop;
    aggregateRating only when the product has reviews."""
    url = url_for("catalog.product_detail", product_id=product.id, slug=product.slug, _external=True)
    images = [u for u in (og_image(img) for img in product.images) if u]
    prices = [v.price for v in product.variants]
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": url + "#product",
        "name": localized(product, "title"),
        "description": localized(product, "description") or localized(product, "title"),
        "url": url,
        "category": product.category,
        "brand": {"@type": "Brand", "name": localized(product.shop, "name"),
                  "url": url_for("catalog.shop_detail", slug=product.shop.slug, _external=True)},
    }
    if images:
        data["image"] = images
    if product.variants:
        data["sku"] = product.variants[0].sku
    if product.materials:
        data["material"] = localized(product, "materials")
    seller = {"@type": "Organization", "name": localized(product.shop, "name")}
    if len(prices) == 1:
        data["offers"] = {"@type": "Offer", "price": prices[0], "priceCurrency": "VND",
                          "availability": _availability(product), "url": url, "seller": seller}
    elif prices:
        data["offers"] = {"@type": "AggregateOffer", "lowPrice": min(prices), "highPrice": max(prices),
                          "offerCount": len(prices), "priceCurrency": "VND",
                          "availability": _availability(product), "url": url, "seller": seller}
    if rating_count:
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": rating_average,
                                   "reviewCount": rating_count, "bestRating": 5, "worstRating": 1}
    return data


def breadcrumb_jsonld(*items: tuple[str, str]) -> dict:
    """schema.org BreadcrumbList from (name, URL) pairs, home first."""
    crumbs = [(SITE_NAME, url_for("catalog.home", _external=True)), *items]
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [{"@type": "ListItem", "position": n, "name": name, "item": absolute_url(link)}
                            for n, (name, link) in enumerate(crumbs, start=1)],
    }


def organization_jsonld() -> dict:
    home = url_for("catalog.home", _external=True)
    return {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": SITE_NAME,
        "url": home,
        "logo": absolute_url(url_for("static", filename="img/favicon.svg")),
        "areaServed": "VN",
        "description": "Sàn thương mại điện tử của các làng nghề Hà Nội",
    }


def register(app) -> None:
    app.jinja_env.globals.update(
        seo_tags=seo_tags, jsonld=jsonld, product_jsonld=product_jsonld, breadcrumb_jsonld=breadcrumb_jsonld,
        organization_jsonld=organization_jsonld, absolute_url=absolute_url, og_image=og_image,
    )
