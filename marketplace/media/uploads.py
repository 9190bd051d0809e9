"""Several photos for one product in one request (the seller's photo form and the API): all or nothing.

Every file's header is checked first, against the per-photo cap and the request's budget
(``media/staging.py``), before any file is decoded; then each is decoded and added through
``catalog.services.add_photo`` in the request's one transaction. Any refusal stores nothing: the rows roll
back with the unit of work, and the derivatives are only written to storage when the transaction commits.
"""
from __future__ import annotations

from flask_babel import gettext as _

from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import Product
from marketplace.errors import InvalidInput
from marketplace.media.images import ImageRejected, check_uploads


class PhotosRefused(InvalidInput):
    """Some of the files cannot be stored; ``lines`` names each file and why. Nothing was stored."""

    def __init__(self, lines: list[str], code: str = "photos_refused", status_code: int = 400):
        super().__init__("; ".join(lines), field="photos")
        self.lines = lines
        self.code = code
        self.status_code = status_code


def add_photos(actor, product: Product, items: list[tuple[str, bytes]], alt_text=None) -> int:
    """Add every ``(file name, bytes)`` to ``product``, or none (raises ``PhotosRefused``/``InvalidInput``)."""
    if not items:
        raise InvalidInput(_("Hãy chọn ít nhất một ảnh."), field="photos")
    room = catalog_services.MAX_PHOTOS - len(product.images)
    if len(items) > room:
        raise InvalidInput(_("Tối đa %(n)s ảnh cho một sản phẩm. Hãy xoá bớt ảnh cũ.", n=catalog_services.MAX_PHOTOS),
                           field="photos")
    _headers, refused = check_uploads(items)  # may raise ImageBudgetExceeded: nothing decoded yet
    if refused:
        raise PhotosRefused(refused)
    for name, data in items:
        try:
            catalog_services.add_photo(actor, product, data, alt_text)
        except ImageRejected as exc:  # found while decoding (a truncated file): the whole request rolls back
            raise PhotosRefused([f"{name}: {exc.message}"], exc.code) from None
    return len(items)
