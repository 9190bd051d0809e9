"""Every model in one place (for migrations, ``flask shell`` and tests)."""
from marketplace.accounts.models import Role, User  # noqa: F401
from marketplace.api.models import ApiToken  # noqa: F401,E402
from marketplace.cart.models import CartItem, Favourite  # noqa: F401,E402
from marketplace.catalog.models import (  # noqa: F401,E402
    Category,
    ClaimStatus,
    CraftVillage,
    ImportRun,
    IpKind,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    Variant,
    VillageImage,
)
from marketplace.core.audit import AuditEntry  # noqa: F401,E402
from marketplace.core.outbox import OutboxMail  # noqa: F401,E402
from marketplace.ledger.models import LedgerLine, Payout, PayoutAccount, PayoutBatch  # noqa: F401,E402
from marketplace.makers.models import Maker, QrScan  # noqa: F401,E402
from marketplace.media.models import PendingImage  # noqa: F401,E402
from marketplace.officials.models import (  # noqa: F401,E402
    CraftRecognition,
    ExternalPresence,
    IndicatorBaseline,
    RecognitionDecision,
    RecordedValue,
    SalesDay,
    SalesMonth,
    StatSnapshot,
    TourRoute,
    TourRouteStop,
)
from marketplace.orders.models import (  # noqa: F401,E402
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    OrderMessage,
    OrderStatus,
    Review,
    SavedAddress,
)
from marketplace.payments.models import BankTransaction, ProcessedEvent, Refund  # noqa: F401,E402
from marketplace.search.models import SearchDirty, SearchDocument, SearchTerm  # noqa: F401,E402
from marketplace.shops.models import ConsentMethod, Shop, ShopAlert, ShopConsent, ShopStatus  # noqa: F401,E402
