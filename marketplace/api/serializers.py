"""Rows → JSON-ready dicts. The shapes are described in ``openapi.SCHEMAS`` (a test keeps them honest)."""
from __future__ import annotations

from flask import url_for

from marketplace.media.storage import image_url


def _image(image) -> dict:
    if image.processing:  # derivatives not made yet (background job): no URL until they exist
        return {"url": None, "thumbnail_url": None, "width": image.width, "height": image.height,
                "alt": image.alt_text, "processing": True}
    return {"url": image_url(image, 800), "thumbnail_url": image_url(image, 320), "width": image.width,
            "height": image.height, "alt": image.alt_text, "processing": False}


def village_ref(village) -> dict:
    return {"id": village.id, "slug": village.slug, "name_vi": village.name_vi, "name_en": village.name_en}


def shop_ref(shop) -> dict:
    return {"id": shop.id, "slug": shop.slug, "name": shop.name, "verified": bool(shop.verified)}


def product_summary(product) -> dict:
    expiry = product.ocop_expiry
    return {
        "id": product.id,
        "title_vi": product.title_vi,
        "title_en": product.title_en,
        "category": product.category,
        "status": product.status,
        "min_price": product.min_price,
        "currency": "VND",
        "in_stock": bool(product.total_stock),
        "ocop": None if not product.ocop_stars else {
            "stars": product.ocop_stars, "valid": product.ocop_valid_on(),
            "expires_on": expiry.isoformat() if expiry else None,
        },
        "shop": shop_ref(product.shop),
        "village": village_ref(product.shop.village),
        "images": [_image(i) for i in product.images],
        "url": url_for("catalog.product_detail", product_id=product.id, _external=True),
    }


def variant_json(variant) -> dict:
    return {"id": variant.id, "name": variant.name, "sku": variant.sku, "price": variant.price, "stock": variant.stock}


def product_detail(product) -> dict:
    body = product_summary(product)
    ip = product.ip_protection
    body.update({
        "description_vi": product.description_vi or "",
        "description_en": product.description_en,
        "materials": product.materials,
        "technique": product.technique,
        "dimensions": product.dimensions,
        "weight_grams": product.weight_grams,
        "published_at": product.published_at.isoformat() + "Z" if product.published_at else None,
        "variants": [variant_json(v) for v in product.variants],
        "ip_protection": None if ip is None else {
            "kind": ip.kind, "name": ip.name, "registration_number": ip.registration_number, "holder": ip.holder,
        },
    })
    return body


def village_json(village, product_count: int | None = None) -> dict:
    body = village_ref(village)
    body.update({
        "commune_vi": village.commune_vi,
        "craft_vi": village.craft_vi,
        "craft_en": village.craft_en,
        "category": village.category,
        "recognition": village.recognition,
        "recognition_year": village.recognition_year,
        "tourism": bool(village.tourism),
        "latitude": village.latitude,
        "longitude": village.longitude,
        "url": url_for("catalog.village_detail", slug=village.slug, _external=True),
    })
    if product_count is not None:
        body["product_count"] = product_count
    return body


def village_detail(village, shops, badges) -> dict:
    body = village_json(village)
    body.update({
        "story_vi": village.story_vi,
        "story_en": village.story_en,
        "notable_products": village.notable_products,
        "ip_protections": [{"kind": p.kind, "name": p.name, "registration_number": p.registration_number}
                           for p in village.ip_protections],
        "shops": [shop_ref(s) for s in shops],
        "ocop_best_stars": badges.get("ocop_best"),
        "ocop_products": badges.get("ocop_products", 0),
    })
    return body


def shop_json(shop) -> dict:
    body = shop_ref(shop)
    body.update({
        "village": village_ref(shop.village),
        "maker_name": shop.maker_name,
        "story": shop.story,
        "shipping_fee": shop.shipping_fee,
        "free_shipping_over": shop.free_shipping_over,
        "url": url_for("catalog.shop_detail", slug=shop.slug, _external=True),
    })
    return body


def order_json(order) -> dict:
    """A seller's view of an order: what to pack and where to send it."""
    return {
        "id": order.id,
        "status": order.status,
        "payment_method": order.payment_method,
        "subtotal": order.subtotal,
        "shipping_fee": order.shipping_fee,
        "total": order.total,
        "created_at": order.created_at.isoformat() + "Z" if order.created_at else None,
        "shipped_at": order.shipped_at.isoformat() + "Z" if order.shipped_at else None,
        "delivered_at": order.delivered_at.isoformat() + "Z" if order.delivered_at else None,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "ship_to": {"name": order.recipient_name, "phone": order.phone, "province": order.province,
                    "ward": order.ward, "street": order.street},
        "lines": [{"title": line.title, "variant_name": line.variant_name, "sku": line.sku,
                   "unit_price": line.unit_price, "quantity": line.quantity} for line in order.lines],
    }
