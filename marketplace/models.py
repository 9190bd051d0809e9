"""Every model in one place (for migrations, ``flask shell`` and tests)."""
from marketplace.accounts.models import Role, User  # noqa: F401
from marketplace.catalog.models import (  # noqa: F401
    Category,
    CraftVillage,
    IpKind,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    Shop,
    ShopStatus,
    Variant,
)
from marketplace.core.audit import AuditEntry  # noqa: F401,E402
from marketplace.orders.models import Checkout, Order, OrderLine, OrderStatus, PaymentMethod  # noqa: F401,E402
from marketplace.shops.models import ConsentMethod, ShopConsent  # noqa: F401,E402
