"""The shop's side of an OCOP claim: attach the certificate's evidence (a PDF or a photo) for an official to
check (``catalog/claims.py``). Works without JavaScript (one multipart form on the product editor)."""
from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.permissions import role_required
from marketplace.catalog import claims
from marketplace.core import uow
from marketplace.seller import bp
from marketplace.seller.context import SELLER_ROLES, load_product, shop_args


def _editor(product_id: int, **_kw) -> str:
    product = load_product(product_id)
    return url_for("seller.product_edit", product_id=product_id, **shop_args(product.shop)) + "#ocop-evidence"


@bp.post("/products/<int:product_id>/ocop-evidence")
@role_required(*SELLER_ROLES)
@uow.error_redirect(_editor)
def ocop_evidence(product_id: int):
    product = load_product(product_id)
    upload = request.files.get("evidence")
    data = upload.read() if upload and upload.filename else b""
    claims.attach_ocop_evidence(current_user, product, data)
    return uow.done(_("Đã gửi bằng chứng. Cán bộ quản lý sẽ đối chiếu; kết quả được báo qua thư."),
                    _editor(product_id))
