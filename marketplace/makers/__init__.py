"""Makers with a face and provenance QR codes: the public maker profile (``/makers/<id>``), the short QR
address of every product (``/q/<code>``), and what the catalog pages show of them (template globals).
The seller's pages (makers, label sheets, the village poster) live in ``marketplace/seller``."""
from flask import Blueprint, Flask

bp = Blueprint("makers", __name__)


def init_app(app: Flask) -> None:
    app.add_template_global(services.village_makers, "village_makers")
    app.add_template_global(services.village_makers_of, "village_makers_of")
    app.add_template_global(codes.encode, "qr_code_of")
    app.add_template_global(HonourTitle.LABELS, "HONOUR_LABELS")


from marketplace.makers import codes, services, views  # noqa: E402,F401
from marketplace.makers.models import HonourTitle  # noqa: E402
