"""What the API's write operations take: one table per request body, read by the OpenAPI document
(``Body.schema``) and by the views (``Body.check``), so the document says exactly what is enforced.

The limits come from the services and the models (``catalog.services.TEXT_FIELDS``, ``MAX_VARIANTS``,
``core.money``, the columns' lengths), never restated here. The check is strict where the HTML forms are
forgiving: a field of the wrong JSON type, a blank required text, a number out of range or an unknown key
is a 400 naming the field, before any service runs. Text may hold tab, newline and carriage return but no
other control character (``core.inputs`` refuses those for every request; the document says so).

The API does not take OCOP certificates: their evidence (number, issuer, dates checked against today) is
entered on the seller pages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import Category
from marketplace.core.inputs import MAX_ID
from marketplace.core.money import MAX_PRICE, MIN_PRICE
from marketplace.errors import InvalidInput
from marketplace.orders.models import Order

_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"  # no control character but tab, newline and carriage return
NOT_BLANK_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"  # ... and at least one non-space
SKU_PATTERN = r"^[A-Za-z0-9._-]*$"
QUERY_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # a query string or path holds no control character at all


@dataclass(frozen=True)
class Field:
    kind: str  # "text" | "integer" | "choice" | "list"
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    not_blank: bool = False
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    items: Body | None = None
    max_items: int | None = None
    description: str = ""

    def schema(self) -> dict:
        if self.kind == "text":
            out: dict[str, Any] = {"type": "string", "pattern": self.pattern or (
                NOT_BLANK_PATTERN if self.not_blank else TEXT_PATTERN)}
            if self.max_length is not None:
                out["maxLength"] = self.max_length
        elif self.kind == "integer":
            out = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "choice":
            out = {"type": "string", "enum": list(self.choices)}
        else:
            out = {"type": "array", "items": self.items.schema(), "maxItems": self.max_items}
        if self.nullable:
            out["nullable"] = True
        if self.description:
            out["description"] = self.description
        return out

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused (English, like the API's other messages), or None."""
        if value is None:
            return None if self.nullable else "must not be null"
        if self.kind in ("text", "choice"):
            if not isinstance(value, str):
                return "must be a string"
            if self.kind == "choice":
                return None if value in self.choices else "must be one of: " + ", ".join(self.choices)
            if self.max_length is not None and len(value) > self.max_length:
                return f"must be at most {self.max_length} characters"
            if self.pattern == SKU_PATTERN:
                return None if all(c.isascii() and (c.isalnum() or c in "._-") for c in value) else \
                    "may hold only letters, digits, '.', '_' and '-'"
            if self.not_blank and not value.strip():
                return "must not be blank"
            return None
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return "must be an integer"
            return None if self.minimum <= value <= self.maximum else \
                f"must be between {self.minimum} and {self.maximum}"
        if not isinstance(value, list):
            return "must be a list"
        if len(value) > self.max_items:
            return f"must hold at most {self.max_items} items"
        return None


@dataclass(frozen=True)
class Body:
    name: str
    fields: dict[str, Field]
    description: str = ""
    extra: dict = field(default_factory=dict)

    def schema(self) -> dict:
        out = {"type": "object", "properties": {k: f.schema() for k, f in self.fields.items()},
               "additionalProperties": False}
        required = [k for k, f in self.fields.items() if f.required]
        if required:
            out["required"] = required
        if self.description:
            out["description"] = self.description
        return out

    def check(self, data: Any, prefix: str = "") -> dict:
        """``data`` as this body allows it, or ``InvalidInput`` (400) naming the first bad field."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{prefix.rstrip('-') or 'body'} must be a JSON object", field=prefix.rstrip("-") or "body")
        for key in data:
            if key not in self.fields:
                raise InvalidInput(f"Unknown field {key!r}", field=f"{prefix}{key}")
        for key, spec in self.fields.items():
            if key not in data:
                if spec.required:
                    raise InvalidInput(f"{key} is required", field=f"{prefix}{key}")
                continue
            problem = spec.problem(data[key])
            if problem:
                raise InvalidInput(f"{key} {problem}", field=f"{prefix}{key}")
            if spec.kind == "list" and data[key] is not None:
                for index, item in enumerate(data[key]):
                    spec.items.check(item, f"{prefix}{key}-{index}-")
        return dict(data)


def _column_length(column) -> int:
    return column.property.columns[0].type.length


def _text(max_length: int, **kw) -> Field:
    return Field("text", max_length=max_length, **kw)


_ID = {"minimum": 1, "maximum": MAX_ID}
_VARIANT_NAME = _text(catalog_services.VARIANT_NAME_MAX, nullable=True,
                      description="Blank or absent: the default name (“Tiêu chuẩn”)")
_SKU = Field("text", max_length=catalog_services.SKU_MAX, pattern=SKU_PATTERN, nullable=True,
             description="Unique across the marketplace (409 when taken); blank or absent: one is made up")
_PRICE = Field("integer", minimum=MIN_PRICE, maximum=MAX_PRICE, description="đồng")
_STOCK = Field("integer", minimum=0, maximum=catalog_services.MAX_STOCK)

VARIANT_CREATE = Body("VariantInput", {
    "name": _VARIANT_NAME, "sku": _SKU, "price": replace(_PRICE, required=True),
    "stock": replace(_STOCK, description="Absent: 0"),
})
VARIANT_UPDATE = Body("VariantUpdate", {"name": _VARIANT_NAME, "sku": _SKU, "price": _PRICE, "stock": _STOCK},
                      description="Only the fields present change")


def _product_fields(*, create: bool) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for key, max_length in catalog_services.TEXT_FIELDS.items():
        if key.startswith("ocop_"):
            continue
        required = key in ("title_vi", "description_vi")
        fields[key] = _text(max_length, required=required and create, not_blank=required, nullable=not required)
    fields["category"] = Field("choice", choices=tuple(Category.CHOICES),
                               description="Absent: the craft of the shop's village" if create else "")
    fields["weight_grams"] = Field("integer", minimum=1, maximum=catalog_services.MAX_WEIGHT_GRAMS, nullable=True)
    fields["ip_protection_id"] = Field(
        "integer", **_ID, nullable=True,
        description="A geographical indication or collective mark of the shop's village (409 otherwise)")
    return fields


PRODUCT_CREATE = Body("ProductInput", {
    "shop_id": Field("integer", **_ID, description="Needed when you have several shops (404 if not yours)"),
    **_product_fields(create=True),
    "variants": Field("list", items=VARIANT_CREATE, max_items=catalog_services.MAX_VARIANTS),
}, description="A new draft product; variants are optional (a product needs one before it is published)")
PRODUCT_UPDATE = Body("ProductUpdate", _product_fields(create=False), description="Only the fields present change")
STOCK = Body("StockInput", {"stock": replace(_STOCK, required=True)})
SHIP = Body("ShipInput", {
    "carrier": _text(_column_length(Order.carrier), required=True, not_blank=True),
    "tracking_number": _text(_column_length(Order.tracking_number), required=True, not_blank=True),
})
BODIES = (PRODUCT_CREATE, PRODUCT_UPDATE, VARIANT_CREATE, VARIANT_UPDATE, STOCK, SHIP)

# multipart/form-data: the photo upload (the files' content is checked by marketplace.media, not by a schema)
PHOTOS_FORM = {
    "type": "object", "required": ["photos"],
    "properties": {
        "photos": {"type": "array", "minItems": 1, "maxItems": catalog_services.MAX_PHOTOS,
                   "items": {"type": "string", "format": "binary"}},
        "alt_text": {"type": "string", "maxLength": catalog_services.MAX_ALT_LENGTH, "pattern": TEXT_PATTERN},
    },
}
