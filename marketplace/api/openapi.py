"""The OpenAPI 3 document, generated from the URL map and the ``@operation`` notes on the views.

Every rule under ``/api/v1`` is included, also those of other areas (the officials' ``/api/v1/stats/*``):
a view with ``@operation`` is described fully; one without gets a generic JSON operation.
"""
from __future__ import annotations

import re

from apispec import APISpec
from flask import Flask, current_app
from werkzeug.routing import IntegerConverter

from marketplace.api import bodies
from marketplace.catalog.models import Category, CraftVillage
from marketplace.core.inputs import MAX_ID

API_PREFIX = "/api/v1"
NULLABLE_STR = {"type": "string", "nullable": True}
NULLABLE_INT = {"type": "integer", "nullable": True}


def operation(*, summary: str, tag: str, response: str | None = None, params=(), body: str | None = None,
              form: dict | None = None, status: int = 200, not_found: bool = False, description: str = ""):
    """Describe a view for the OpenAPI document (kept on the function, read by ``build_spec``). ``body`` names a
    JSON schema (``bodies.py``); ``form`` is the schema of a ``multipart/form-data`` body."""

    def decorator(view):
        view.openapi = {"summary": summary, "tag": tag, "response": response, "params": params, "body": body,
                        "form": form, "status": status, "not_found": not_found, "description": description}
        return view

    return decorator


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str] | None = None, **props) -> dict:
    schema = {"type": "object", "properties": props}
    schema["required"] = list(props) if required is None else required
    return schema


SCHEMAS: dict[str, dict] = {
    "Error": _obj(error=_obj(["status", "code", "message"], status={"type": "integer"}, code={"type": "string"},
                             message={"type": "string"}, field={"type": "string"}, details={"type": "object"})),
    "Image": _obj(url=NULLABLE_STR, thumbnail_url=NULLABLE_STR, width={"type": "integer"},
                  height={"type": "integer"}, alt=NULLABLE_STR, processing={"type": "boolean"}),
    "ShopRef": _obj(id={"type": "integer"}, slug={"type": "string"}, name={"type": "string"},
                    verified={"type": "boolean"}),
    "VillageRef": _obj(id={"type": "integer"}, slug={"type": "string"}, name_vi={"type": "string"},
                       name_en=NULLABLE_STR),
    "Ocop": {**_obj(stars={"type": "integer", "minimum": 3, "maximum": 5}, valid={"type": "boolean"},
                    expires_on={"type": "string", "format": "date", "nullable": True}), "nullable": True},
    "ProductSummary": _obj(
        id={"type": "integer"}, title_vi={"type": "string"}, title_en=NULLABLE_STR, category={"type": "string"},
        status={"type": "string", "enum": ["draft", "active", "archived"]},
        min_price={"type": "integer", "nullable": True, "description": "đồng"},
        currency={"type": "string", "enum": ["VND"]}, in_stock={"type": "boolean"}, ocop=_ref("Ocop"),
        shop=_ref("ShopRef"), village=_ref("VillageRef"), images={"type": "array", "items": _ref("Image")},
        url={"type": "string"}),
    "Variant": _obj(id={"type": "integer"}, name={"type": "string"}, sku={"type": "string"},
                    price={"type": "integer", "description": "đồng"}, stock={"type": "integer", "minimum": 0}),
    "IpProtection": {**_obj(kind={"type": "string"}, name={"type": "string"}, registration_number=NULLABLE_STR,
                            holder=NULLABLE_STR), "nullable": True},
    "ProductDetail": {"allOf": [_ref("ProductSummary"), _obj(
        description_vi={"type": "string"}, description_en=NULLABLE_STR, materials=NULLABLE_STR,
        technique=NULLABLE_STR, dimensions=NULLABLE_STR, weight_grams=NULLABLE_INT,
        published_at={"type": "string", "format": "date-time", "nullable": True},
        variants={"type": "array", "items": _ref("Variant")}, ip_protection=_ref("IpProtection"))]},
    "Village": _obj(
        ["id", "slug", "name_vi", "name_en", "category", "recognition", "url"],
        id={"type": "integer"}, slug={"type": "string"}, name_vi={"type": "string"}, name_en=NULLABLE_STR,
        commune_vi=NULLABLE_STR, craft_vi={"type": "string"}, craft_en=NULLABLE_STR, category={"type": "string"},
        recognition={"type": "string"}, recognition_year=NULLABLE_INT, tourism={"type": "boolean"},
        latitude={"type": "number", "nullable": True}, longitude={"type": "number", "nullable": True},
        url={"type": "string"}, product_count={"type": "integer"}),
    "VillageDetail": {"allOf": [_ref("Village"), _obj(
        story_vi=NULLABLE_STR, story_en=NULLABLE_STR, notable_products=NULLABLE_STR,
        ip_protections={"type": "array", "items": _obj(kind={"type": "string"}, name={"type": "string"},
                                                        registration_number=NULLABLE_STR)},
        shops={"type": "array", "items": _ref("ShopRef")}, ocop_best_stars=NULLABLE_INT,
        ocop_products={"type": "integer"})]},
    "Shop": {"allOf": [_ref("ShopRef"), _obj(
        village=_ref("VillageRef"), maker_name=NULLABLE_STR, story=NULLABLE_STR, shipping_fee={"type": "integer"},
        free_shipping_over=NULLABLE_INT, url={"type": "string"})]},
    "Order": _obj(
        id={"type": "integer"}, status={"type": "string"}, payment_method={"type": "string"},
        subtotal={"type": "integer"}, shipping_fee={"type": "integer"}, total={"type": "integer"},
        created_at={"type": "string", "nullable": True}, shipped_at={"type": "string", "nullable": True},
        delivered_at={"type": "string", "nullable": True}, carrier=NULLABLE_STR, tracking_number=NULLABLE_STR,
        ship_to=_obj(name=NULLABLE_STR, phone=NULLABLE_STR, province=NULLABLE_STR, ward=NULLABLE_STR,
                     street=NULLABLE_STR),
        lines={"type": "array", "items": _obj(title={"type": "string"}, variant_name={"type": "string"},
                                               sku=NULLABLE_STR, unit_price={"type": "integer"},
                                               quantity={"type": "integer"})}),
    "VillageList": _obj(items={"type": "array", "items": _ref("Village")}, total={"type": "integer"}),
    # request bodies: marketplace/api/bodies.py (the same tables the views check)
    **{body.name: body.schema() for body in bodies.BODIES},
}
for _name, _item in (("ProductPage", "ProductSummary"), ("ShopPage", "Shop"), ("OrderPage", "Order")):
    SCHEMAS[_name] = _obj(items={"type": "array", "items": _ref(_item)}, page={"type": "integer"},
                          per_page={"type": "integer"}, total={"type": "integer"}, pages={"type": "integer"},
                          next=NULLABLE_STR)

# Other areas' /api/v1 routes: their query parameters (the views do not carry @operation notes). The
# officials' filters are forgiving (shared with their HTML pages): what they ignore is said, not refused.
_COMMUNE_LENGTH = CraftVillage.commune_vi.property.columns[0].type.length
_STATS_FILTERS = [("commune", "string", f"Commune name (Vietnamese); longer than {_COMMUNE_LENGTH} characters: "
                   "ignored (no commune filter)", {"pattern": bodies.QUERY_TEXT_PATTERN}),
                  ("category", "string", "Craft category: " + ", ".join(Category.CHOICES) + "; anything else is "
                   "ignored (no category filter)", {"pattern": bodies.QUERY_TEXT_PATTERN})]
FOREIGN_PARAMS = {"officials.api_indicators": _STATS_FILTERS, "officials.api_villages": _STATS_FILTERS}
FOREIGN_SUMMARIES = {"officials.api_indicators": "Plan 282 indicators: value, target 2030, on track",
                     "officials.api_villages": "Per-village statistics (officials only)"}

ERROR_TEXT = {400: "Invalid input", 401: "Missing or invalid bearer token", 403: "Not allowed",
              404: "Not found", 409: "Conflict with the current state", 413: "Request body too large",
              429: "Too many requests"}


def _error_response(status: int) -> dict:
    return {"description": ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _ref("Error")}}}


_VARIABLE = re.compile(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_]+)>")


def _path_and_params(rule) -> tuple[str, list[dict]]:
    params = []

    def repl(match):
        name = match.group(1)
        if isinstance(rule._converters.get(name), IntegerConverter):
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        else:
            schema = {"type": "string", "pattern": "^[a-z0-9-]{1,120}$"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _VARIABLE.sub(repl, rule.rule), params


def _operation_for(rule, method: str, view) -> dict:
    note = getattr(view, "openapi", None)
    secured = getattr(view, "openapi_security", False)
    _, path_params = _path_and_params(rule)
    if note is None:  # another area's JSON route: documented from what the route map knows
        doc = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
        params = list(path_params) + [
            {"name": name, "in": "query", "required": False, "description": description,
             "schema": {"type": typ, **extra}} for name, typ, description, extra in FOREIGN_PARAMS.get(rule.endpoint, [])]
        responses = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                     "400": _error_response(400), "404": _error_response(404), "429": _error_response(429)}
        op = {"summary": FOREIGN_SUMMARIES.get(rule.endpoint, doc), "tags": [rule.endpoint.split(".")[0]],
              "operationId": rule.endpoint.replace(".", "_"), "parameters": params, "responses": responses}
        access = getattr(view, "access", ("public",))
        if "public" not in access:
            op["security"] = [{"sessionCookie": []}]
            op["description"] = "Signed-in session of: " + ", ".join(access) + "."
            responses["401"] = _error_response(401)
            responses["403"] = _error_response(403)
        return op
    params = list(path_params)
    for name, typ, description, extra in note["params"]:
        params.append({"name": name, "in": "query", "required": False, "description": description,
                       "schema": {"type": typ, **extra}})
    success = {"description": "OK" if note["status"] == 200 else "Created"}
    if note["response"]:
        success["content"] = {"application/json": {"schema": _ref(note["response"])}}
    responses = {str(note["status"]): success, "400": _error_response(400), "429": _error_response(429)}
    if note["not_found"] or path_params:
        responses["404"] = _error_response(404)
    op = {"summary": note["summary"], "tags": [note["tag"]], "operationId": rule.endpoint.split(".", 1)[-1],
          "parameters": params, "responses": responses}
    if note["description"]:
        op["description"] = note["description"]
    if note["body"]:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(note["body"])}}}
        responses["413"] = _error_response(413)
    elif note["form"]:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": note["form"]}}}
        responses["413"] = _error_response(413)
    if secured:
        op["security"] = [{"bearerAuth": []}]
        responses["401"] = _error_response(401)
        responses["403"] = _error_response(403)
        responses["404"] = _error_response(404)  # another artisan's row looks like no row
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            responses["409"] = _error_response(409)
    return op


def api_rules(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(API_PREFIX + "/") and rule.endpoint not in ("api.openapi_json", "api.docs"):
            yield rule


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="Chợ Làng Nghề API", version="1.0.0", openapi_version="3.0.3",
        info={"description": "The public catalog of Hanoi's craft villages (read, no authentication) and an "
                             "artisan's own listings and orders (write, `Authorization: Bearer <token>`; create a "
                             "token with `flask users token <email>`). Prices are whole đồng (VND). Errors have "
                             "the shape `{\"error\": {\"status\", \"code\", \"message\", \"field\"?}}`."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("sessionCookie", {"type": "apiKey", "in": "cookie", "name": "session"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    paths: dict[str, dict] = {}
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        path, _ = _path_and_params(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation_for(rule, method, view)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def current_spec() -> dict:
    cached = current_app.extensions.get("api_openapi")
    if cached is None:
        cached = current_app.extensions["api_openapi"] = build_spec(current_app)
    return cached
