"""The catalog: craft villages, IP records, products, variants and images (shops live in
``marketplace.shops.models``)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from marketplace.core.text import slugify
from marketplace.core.time import add_months, today_vn, utcnow
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus

# storage_key of a photo whose derivatives a worker has not made yet ("pending:<sha256 of the upload>"); the
# colon never occurs in a storage key, so such a key is never served or deleted from storage.
PENDING_KEY_PREFIX = "pending:"


class Category:
    """Craft categories shared by villages and products (keys match the village data file)."""

    LABELS = {
        "ceramics": ("Gốm sứ", "Ceramics"),
        "textiles": ("Dệt may, lụa", "Textiles and silk"),
        "lacquer": ("Sơn mài, khảm trai", "Lacquer and inlay"),
        "woodwork": ("Đồ gỗ, tượng gỗ", "Woodwork"),
        "bamboo_rattan": ("Mây tre đan", "Bamboo and rattan"),
        "metalwork": ("Đồ đồng, kim khí", "Metalwork"),
        "paper_printing": ("Giấy, quạt, tranh", "Paper, fans and prints"),
        "embroidery": ("Thêu ren", "Embroidery"),
        "food": ("Đặc sản ẩm thực", "Food specialities"),
        "incense": ("Hương, nhang", "Incense"),
        "toys": ("Đồ chơi dân gian", "Folk toys"),
        "jewelry": ("Trang sức, kim hoàn", "Jewellery"),
        "other": ("Nghề khác", "Other crafts"),
    }
    CHOICES = tuple(LABELS)


class Recognition:
    NONE = "none"
    CRAFT_VILLAGE = "lang_nghe"
    TRADITIONAL = "lang_nghe_truyen_thong"
    LABELS = {
        NONE: ("Chưa công nhận", "Not recognized"),
        CRAFT_VILLAGE: ("Làng nghề", "Craft village"),
        TRADITIONAL: ("Làng nghề truyền thống", "Traditional craft village"),
    }
    CHOICES = tuple(LABELS)
    RECOGNIZED = (CRAFT_VILLAGE, TRADITIONAL)


class IpKind:
    COLLECTIVE_MARK = "collective_mark"
    CERTIFICATION_MARK = "certification_mark"
    GEOGRAPHICAL_INDICATION = "geographical_indication"
    OTHER = "other"
    LABELS = {
        COLLECTIVE_MARK: ("Nhãn hiệu tập thể", "Collective mark"),
        CERTIFICATION_MARK: ("Nhãn hiệu chứng nhận", "Certification mark"),
        GEOGRAPHICAL_INDICATION: ("Chỉ dẫn địa lý", "Geographical indication"),
        OTHER: ("Văn bằng khác", "Other protection"),
    }
    CHOICES = tuple(LABELS)
    # Collective and certification marks: 10 years from the grant, renewable (Law on IP, art. 93(6));
    # a geographical indication is protected indefinitely (art. 93(7)); "other" carries the typed expiry.
    MARKS = (COLLECTIVE_MARK, CERTIFICATION_MARK)
    MARK_TERM_MONTHS = 120
    # What the plan's IP target counts (targets.md): marks and geographical indications. An "other" record is
    # kept and shown, labelled as not counted.
    COUNTED = (COLLECTIVE_MARK, CERTIFICATION_MARK, GEOGRAPHICAL_INDICATION)


class ClaimStatus:
    """A self-declared OCOP certificate or IP protection, until an official checks its evidence."""

    DECLARED = "declared"
    VERIFIED = "verified"
    REJECTED = "rejected"
    LABELS = {
        DECLARED: ("Đang chờ xác minh", "Awaiting verification"),
        VERIFIED: ("Đã xác minh", "Verified"),
        REJECTED: ("Bị từ chối", "Rejected"),
    }
    CHOICES = tuple(LABELS)


class ProductStatus:
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"
    CHOICES = (DRAFT, ACTIVE, ARCHIVED)


OCOP_VALIDITY_MONTHS = 36
# The fields of an OCOP claim: changing any of them makes it a new claim (status back to "declared").
OCOP_FIELDS = ("ocop_stars", "ocop_certificate_number", "ocop_issuer", "ocop_issued_on", "ocop_expires_on")


def ocop_max_expiry(issued_on: date) -> date:
    """The latest expiry an OCOP certificate issued on ``issued_on`` can carry (36 months)."""
    return add_months(issued_on, OCOP_VALIDITY_MONTHS)


def ip_default_expiry(kind: str, granted_on: date | None) -> date | None:
    """The expiry a protection of ``kind`` granted on ``granted_on`` carries when none is typed."""
    if kind in IpKind.MARKS and granted_on is not None:
        return add_months(granted_on, IpKind.MARK_TERM_MONTHS)
    return None


class CraftVillage(db.Model):
    __tablename__ = "craft_villages"
    __table_args__ = (
        sa.CheckConstraint("recognition IN ('none','lang_nghe','lang_nghe_truyen_thong')", name="recognition_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    # The register's stable code (idempotent import key); defaults to the slug.
    code: Mapped[str] = mapped_column(
        sa.String(80), unique=True, default=lambda ctx: ctx.get_current_parameters().get("slug"))
    name_vi: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(160))
    commune_vi: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    former_district_vi: Mapped[str | None] = mapped_column(sa.String(120))
    # Why the post-2025 commune is unknown, when it is.
    commune_note: Mapped[str | None] = mapped_column(sa.String(300))
    craft_vi: Mapped[str] = mapped_column(sa.String(200))
    craft_en: Mapped[str | None] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    recognition: Mapped[str] = mapped_column(sa.String(32), default=Recognition.NONE, index=True)
    recognition_decision: Mapped[str | None] = mapped_column(sa.String(80))
    recognition_year: Mapped[int | None] = mapped_column(sa.Integer)
    tourism: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    notable_products: Mapped[str | None] = mapped_column(sa.Text)
    story_vi: Mapped[str | None] = mapped_column(sa.Text)
    story_en: Mapped[str | None] = mapped_column(sa.Text)
    sources: Mapped[str | None] = mapped_column(sa.Text)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    shops: Mapped[list[Shop]] = relationship(back_populates="village")
    ip_protections: Mapped[list[IpProtection]] = relationship(back_populates="village")
    images: Mapped[list[VillageImage]] = relationship(
        back_populates="village", order_by="(VillageImage.position, VillageImage.id)", cascade="all, delete-orphan"
    )

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def __repr__(self) -> str:
        return f"<CraftVillage {self.slug}>"


class VillageImage(db.Model):
    """A photo of a village (the register's photos; stored through ``marketplace.media``)."""

    __tablename__ = "village_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("craft_villages.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    alt_text: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    village: Mapped[CraftVillage] = relationship(back_populates="images")


class IpProtection(db.Model):
    __tablename__ = "ip_protections"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('collective_mark','certification_mark','geographical_indication','other')", name="kind_valid"
        ),
        sa.CheckConstraint("status IN ('declared','verified','rejected')", name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200))
    registration_number: Mapped[str | None] = mapped_column(sa.String(80))
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    granted_on: Mapped[date | None] = mapped_column(sa.Date)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("craft_villages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(16), default=ClaimStatus.DECLARED, server_default="declared",
                                        index=True)
    evidence_key: Mapped[str | None] = mapped_column(sa.String(200))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    review_note: Mapped[str | None] = mapped_column(sa.Text)

    village: Mapped[CraftVillage | None] = relationship(back_populates="ip_protections")

    @property
    def is_verified(self) -> bool:
        return self.status == ClaimStatus.VERIFIED

    def dates_valid_on(self, day: date) -> bool:
        """The date half of ``valid_on``: granted on or before ``day`` and not expired."""
        return bool(self.granted_on and self.granted_on <= day and (self.expires_on is None or self.expires_on >= day))

    def valid_on(self, day: date | None = None, verified_only: bool = True) -> bool:
        """Python twin of ``ip_valid_clause`` (a test keeps them equal)."""
        day = day or today_vn()
        return (not verified_only or self.is_verified) and self.dates_valid_on(day)

    @property
    def counts_for_plan(self) -> bool:
        """Whether this kind of protection counts toward the plan's IP indicator (``IpKind.COUNTED``)."""
        return self.kind in IpKind.COUNTED

    @property
    def state(self) -> str:
        """"valid", "pending" (declared, in date), "rejected" or "expired" (out of date) — for pages."""
        if self.status == ClaimStatus.REJECTED:
            return "rejected"
        if not self.dates_valid_on(today_vn()):
            return "expired"
        return "valid" if self.is_verified else "pending"


class Variant(db.Model):
    __tablename__ = "variants"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="price_positive"),
        sa.CheckConstraint("stock >= 0", name="stock_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))  # English for tourists; ``name`` is the fallback
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    price: Mapped[int] = mapped_column(sa.Integer)
    stock: Mapped[int] = mapped_column(sa.Integer, default=0)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def name_vi(self) -> str:  # ``localized(variant, "name")``
        return self.name


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    alt_text: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def processing(self) -> bool:
        """Uploaded, derivatives not made yet (a background job): pages show a "processing" placeholder."""
        return self.storage_key.startswith(PENDING_KEY_PREFIX)


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft','active','archived')", name="status_valid"),
        sa.CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 3 AND 5", name="ocop_stars_valid"),
        sa.CheckConstraint("ocop_status IN ('declared','verified','rejected')", name="ocop_status_valid"),
        sa.Index("ix_products_status_published", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    title_vi: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str | None] = mapped_column(sa.String(200))
    description_vi: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    materials: Mapped[str | None] = mapped_column(sa.String(300))
    technique: Mapped[str | None] = mapped_column(sa.String(300))
    dimensions: Mapped[str | None] = mapped_column(sa.String(120))
    weight_grams: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), default=ProductStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    ocop_stars: Mapped[int | None] = mapped_column(sa.SmallInteger)
    ocop_certificate_number: Mapped[str | None] = mapped_column(sa.String(80))
    ocop_issuer: Mapped[str | None] = mapped_column(sa.String(200))
    ocop_issued_on: Mapped[date | None] = mapped_column(sa.Date)
    ocop_expires_on: Mapped[date | None] = mapped_column(sa.Date)  # always stored (see normalize_ocop)
    ocop_status: Mapped[str] = mapped_column(sa.String(16), default=ClaimStatus.DECLARED, server_default="declared")
    ocop_evidence_key: Mapped[str | None] = mapped_column(sa.String(200))
    ocop_reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ocop_reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    ocop_review_note: Mapped[str | None] = mapped_column(sa.Text)
    ip_protection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ip_protections.id"), index=True)
    # English for tourists (0012_h16seo_contact_english); the Vietnamese columns are the fallback.
    materials_en: Mapped[str | None] = mapped_column(sa.String(300))
    technique_en: Mapped[str | None] = mapped_column(sa.String(300))
    ocop_issuer_en: Mapped[str | None] = mapped_column(sa.String(200))
    # Who made it: one of the shop's makers (marketplace/makers), set by makers.services.set_product_maker.
    maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("makers.id", ondelete="SET NULL"), index=True)
    # Social proof, kept by ``orders.services`` in the same transaction as the review or the delivery
    # (cards show them with no extra query): reviews and their star sum, units delivered ("đã bán").
    rating_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    sold_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    shop: Mapped[Shop] = relationship(back_populates="products")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="(Variant.position, Variant.id)", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="(ProductImage.position, ProductImage.id)", cascade="all, delete-orphan"
    )
    ip_protection: Mapped[IpProtection | None] = relationship()
    maker = relationship("Maker")  # marketplace.makers.models

    # Loaded in the same SELECT as the product: list pages sort and show prices without N+1.
    min_price = column_property(
        sa.select(sa.func.min(Variant.price)).where(Variant.product_id == id).correlate_except(Variant).scalar_subquery()
    )
    total_stock = column_property(
        sa.select(sa.func.coalesce(sa.func.sum(Variant.stock), 0))
        .where(Variant.product_id == id)
        .correlate_except(Variant)
        .scalar_subquery(),
        deferred=False,
    )

    @property
    def rating_average(self) -> float | None:
        """Average stars to one decimal (None before the first review)."""
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def is_visible(self) -> bool:
        return self.is_active and self.shop is not None and self.shop.is_active

    @property
    def village(self) -> CraftVillage:
        return self.shop.village

    @property
    def ocop_expiry(self) -> date | None:
        """The stored expiry (what ``normalize_ocop`` keeps at most issue + 36 months); before the first flush,
        the same value computed."""
        if self.ocop_issued_on is None:
            return self.ocop_expires_on
        cap = ocop_max_expiry(self.ocop_issued_on)
        return min(self.ocop_expires_on, cap) if self.ocop_expires_on else cap

    def ocop_dates_valid_on(self, day: date) -> bool:
        """The date half of the rule: 3–5 stars and issued ≤ ``day`` ≤ expiry."""
        expiry = self.ocop_expiry
        return bool(self.ocop_stars and 3 <= self.ocop_stars <= 5 and self.ocop_issued_on and expiry
                    and self.ocop_issued_on <= day <= expiry)

    def ocop_valid_on(self, day: date | None = None, verified_only: bool = True) -> bool:
        """The one OCOP rule, Python twin of ``ocop_valid_clause`` (a test keeps them equal): 3–5 stars,
        issued ≤ ``day`` ≤ expiry, and verified by an official unless ``verified_only`` is False."""
        day = day or today_vn()
        return (not verified_only or self.ocop_status == ClaimStatus.VERIFIED) and self.ocop_dates_valid_on(day)

    @property
    def ocop_state(self) -> str | None:
        """None (no certificate), "valid" (verified, in date), "pending" (declared, in date), "rejected" or
        "expired" (out of date) — what pages show."""
        if not self.ocop_stars:
            return None
        if self.ocop_status == ClaimStatus.REJECTED:
            return "rejected"
        if not self.ocop_dates_valid_on(today_vn()):
            return "expired"
        return "valid" if self.ocop_status == ClaimStatus.VERIFIED else "pending"

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    # ``localized(product, "materials")`` etc.: the Vietnamese columns carry no suffix.
    @property
    def materials_vi(self) -> str | None:
        return self.materials

    @property
    def technique_vi(self) -> str | None:
        return self.technique

    @property
    def ocop_issuer_vi(self) -> str | None:
        return self.ocop_issuer

    @property
    def slug(self) -> str:
        """The URL slug: the Vietnamese title, diacritics folded (``/products/<id>-<slug>``)."""
        return product_slug(self.title_vi)


def product_slug(title_vi: str | None) -> str:
    """The slug of a product's canonical address, from its Vietnamese title (``Product.slug``)."""
    return slugify(title_vi or "", max_length=80)


def normalize_ocop(product: Product) -> None:
    """Keep the stored expiry honest: issue + 36 months when none is typed, never later than that. The input
    layers refuse a longer expiry with a field error; this is the last guard before the row is written."""
    if product.ocop_issued_on is None:
        return
    cap = ocop_max_expiry(product.ocop_issued_on)
    if product.ocop_expires_on is None or product.ocop_expires_on > cap:
        product.ocop_expires_on = cap


def normalize_ip(ip: IpProtection) -> None:
    """A mark without a typed expiry runs 10 years from the grant; a geographical indication never expires."""
    if ip.kind == IpKind.GEOGRAPHICAL_INDICATION:
        ip.expires_on = None
    elif ip.expires_on is None:
        ip.expires_on = ip_default_expiry(ip.kind, ip.granted_on)


@sa.event.listens_for(Product, "before_insert")
@sa.event.listens_for(Product, "before_update")
def _product_before_write(mapper, connection, target: Product) -> None:
    normalize_ocop(target)


@sa.event.listens_for(IpProtection, "before_insert")
@sa.event.listens_for(IpProtection, "before_update")
def _ip_before_write(mapper, connection, target: IpProtection) -> None:
    normalize_ip(target)


def ocop_valid_clause(day: date, verified_only: bool = True):
    """SQL criteria for a product whose OCOP certificate counts on ``day``: 3–5 stars, issued ≤ day ≤ expiry
    (the stored expiry, see ``normalize_ocop``), verified unless ``verified_only`` is False. Same rule as
    ``Product.ocop_valid_on``."""
    clause = sa.and_(
        Product.ocop_stars.between(3, 5),
        Product.ocop_issued_on.is_not(None), Product.ocop_issued_on <= day,
        Product.ocop_expires_on.is_not(None), Product.ocop_expires_on >= day,
    )
    if verified_only:
        clause = sa.and_(clause, Product.ocop_status == ClaimStatus.VERIFIED)
    return clause


def ip_valid_clause(day: date, verified_only: bool = True):
    """SQL criteria for an IP protection that counts on ``day``: verified (unless ``verified_only`` is False),
    granted on or before ``day``, not expired. Same rule as ``IpProtection.valid_on``."""
    clause = sa.and_(
        IpProtection.granted_on.is_not(None), IpProtection.granted_on <= day,
        sa.or_(IpProtection.expires_on.is_(None), IpProtection.expires_on >= day),
    )
    if verified_only:
        clause = sa.and_(clause, IpProtection.status == ClaimStatus.VERIFIED)
    return clause


def visible_products_clause():
    """SQL criteria for products a shopper may see: active products of active shops."""
    return sa.and_(
        Product.status == ProductStatus.ACTIVE,
        Product.shop_id.in_(sa.select(Shop.id).where(Shop.status == ShopStatus.ACTIVE)),
    )


class ImportRun(db.Model):
    """A bulk import handed to a background job (``REDIS_URL`` set): its files until it is done, its plan, and
    its progress, shown to the artisan at ``/seller/import/<id>`` (catalog/importer.py, ``run_import_job``)."""

    __tablename__ = "import_runs"
    __table_args__ = (
        sa.CheckConstraint("status IN ('queued','running','failed','done','refused')", name="import_status_valid"),
    )

    QUEUED, RUNNING, FAILED, DONE, REFUSED = "queued", "running", "failed", "done", "refused"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    all_or_nothing: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    csv_data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # dropped once done or refused
    zip_data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    plan: Mapped[str | None] = mapped_column(sa.Text)  # JSON: the valid products, in order (set once)
    errors: Mapped[str | None] = mapped_column(sa.Text)  # JSON: {CSV line: [messages]}
    total_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_products: Mapped[int] = mapped_column(sa.Integer, default=0)
    done_products: Mapped[int] = mapped_column(sa.Integer, default=0)  # created so far (resume point)
    photos: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_ids: Mapped[str] = mapped_column(sa.Text, default="[]")  # JSON list of product ids, in plan order
    message: Mapped[str | None] = mapped_column(sa.Text)  # why the last attempt failed
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    shop: Mapped[Shop] = relationship()
