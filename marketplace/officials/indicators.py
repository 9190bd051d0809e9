"""The Plan-282 indicators, each defined once, here (``../shared/docs/targets.md``).

Everything is read-only aggregate SQL. ``village_facts()`` is one row per village with the facts
the platform-measured indicators need (counts of listings by state, valid OCOP certificates, IP,
fresh external presences, delivered sales); every indicator is a ``SUM``/``COUNT`` over it, the
drill-downs are the same sums ``GROUP BY`` commune or craft category, and the village table reads
the same rows. Recorded indicators read the officials' current (not superseded) entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa

from marketplace.catalog.models import (
    OCOP_VALIDITY_MONTHS,
    CraftVillage,
    IpKind,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    visible_products_clause,
)
from marketplace.core.time import add_months, today_vn
from marketplace.extensions import db
from marketplace.officials.models import ExternalPresence, RecognitionDecision, RecordedValue, current_clause
from marketplace.orders.models import Order, OrderLine, OrderStatus
from marketplace.shops.models import Shop, ShopStatus

PLAN_START = date(2025, 1, 15)
PLAN_END = date(2030, 12, 31)
HORIZON_2050 = date(2050, 12, 31)
PRESENCE_MAX_AGE_MONTHS = 12
MIN_DESCRIPTION_CHARS = 40
PLATFORMS = ("Shopee", "Lazada", "TikTok Shop", "Tiki", "Sendo", "Facebook", "Zalo", "Khác")

PERCENT = "percent"
COUNT = "count"
GROWTH = "growth"


def stats_today() -> date:
    """The day the indicators are measured on: today in Hà Nội (``STATS_AS_OF`` pins it for tests)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("STATS_AS_OF"):
        return current_app.config["STATS_AS_OF"]
    return today_vn()


@dataclass(frozen=True)
class Indicator:
    id: str
    label_vi: str
    label_en: str
    unit: str                      # percent | count | growth (percent a year)
    kind: str                      # platform | recorded
    numerator_vi: str
    denominator_vi: str | None
    target_2030: float | None      # in the unit (30 = 30 %)
    target_text_vi: str
    orientation_2050_vi: str
    definition_vi: str
    definition_en: str
    target_2050: float | None = None
    headline: bool = False
    public: bool = True

    @property
    def line_target(self) -> tuple[float, date] | None:
        """The value and date the on-track line aims at (2030 target, else 2050 orientation)."""
        if self.target_2030 is not None:
            return self.target_2030, PLAN_END
        if self.target_2050 is not None:
            return self.target_2050, HORIZON_2050
        return None


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "ecommerce_participation", "Làng nghề tham gia thương mại điện tử",
        "Craft villages taking part in e-commerce", PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một tin đang bán của cửa hàng đang hoạt động và đã xác minh, "
        "hoặc có hiện diện trên sàn khác với minh chứng không quá 12 tháng",
        "làng nghề được công nhận (làng nghề và làng nghề truyền thống)",
        30, "≥ 30 %", "—",
        "Một làng được tính nếu có ít nhất một cửa hàng đang hoạt động, đã xác minh, có ít nhất một tin đang "
        "bán trên Chợ Làng Nghề; HOẶC cán bộ đã ghi nhận làng có mặt trên sàn thương mại điện tử khác (Shopee, "
        "Lazada, TikTok Shop, cửa hàng Facebook/Zalo…) với minh chứng không cũ hơn 12 tháng. Mẫu số: các làng "
        "nghề được công nhận.",
        "A village counts if at least one active, verified shop of the village has at least one active listing "
        "here, OR an official recorded its presence on another e-commerce platform with evidence not older "
        "than 12 months. Denominator: recognized villages.",
        headline=True,
    ),
    Indicator(
        "online_showcase", "Làng nghề có không gian trưng bày, bán hàng trực tuyến",
        "Villages with an online showcase", PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một tin đang bán (cửa hàng đang hoạt động)",
        "làng nghề được công nhận", None, "—", "50 %",
        "Làng nghề được công nhận có ít nhất một tin đang bán của một cửa hàng đang hoạt động trên Chợ Làng Nghề.",
        "Recognized villages with at least one active listing of an active shop here.",
        target_2050=50,
    ),
    Indicator(
        "digitized_products", "Sản phẩm làng nghề được số hoá", "Craft-village products digitized", COUNT,
        "platform", "tin đang bán có ít nhất một ảnh và mô tả thật (≥ 40 ký tự)", None, 300, "300", "—",
        "Số tin đang bán (sản phẩm đang bán của cửa hàng đang hoạt động, gắn với một làng nghề) có ít nhất "
        "một ảnh và phần mô tả từ 40 ký tự trở lên.",
        "Active listings of active shops (each linked to a village) with at least one photo and a description "
        "of at least 40 characters.",
    ),
    Indicator(
        "ocop_share", "Làng nghề có sản phẩm OCOP", "Villages with OCOP-certified products", PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một sản phẩm đang bán với chứng nhận OCOP 3 sao trở lên còn hiệu lực",
        "làng nghề được công nhận", 50, "> 50 %", "≥ 300 làng",
        "Làng nghề được công nhận có ít nhất một sản phẩm đang bán (cửa hàng đang hoạt động) mang chứng nhận "
        "OCOP từ 3 sao trở lên, chưa hết hạn (hạn ghi trên chứng nhận, hoặc 36 tháng kể từ ngày cấp).",
        "Recognized villages with at least one active product of an active shop holding a valid, unexpired "
        "OCOP certificate of 3 stars or more (expiry as printed, or 36 months after issue).",
    ),
    Indicator(
        "ip_share", "Làng nghề có sản phẩm được bảo hộ sở hữu trí tuệ", "Villages with IP-protected products",
        PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một sản phẩm đang bán gắn nhãn hiệu tập thể, nhãn hiệu chứng nhận "
        "hoặc chỉ dẫn địa lý có số đăng ký",
        "làng nghề được công nhận", 30, "≥ 30 %", "> 50 %",
        "Làng nghề được công nhận có ít nhất một sản phẩm đang bán (cửa hàng đang hoạt động) được bảo hộ bằng "
        "nhãn hiệu tập thể, nhãn hiệu chứng nhận hoặc chỉ dẫn địa lý, có số đăng ký.",
        "Recognized villages with at least one active product of an active shop covered by a collective mark, "
        "certification mark or geographical indication with a registration number.",
    ),
    Indicator(
        "production_growth", "Tăng trưởng giá trị sản xuất", "Growth of production value", GROWTH, "platform",
        "giá trị đơn đã giao từ 01/01 đến hôm nay năm nay", "giá trị đơn đã giao cùng kỳ năm trước",
        10, "10 %/năm", "khoảng 10 %/năm",
        "Chỉ số đại diện: giá trị các dòng đơn hàng đã giao (trạng thái đã giao/hoàn tất, theo ngày giao, trừ "
        "phần đã hoàn tiền; đơn huỷ hoặc hoàn tiền không tính) theo làng và năm dương lịch. Tăng trưởng = giá "
        "trị từ 01/01 năm nay đến hôm nay so với cùng kỳ năm trước, trừ 1.",
        "Proxy: value of delivered order lines (delivered/completed, by delivery date, minus refunds; cancelled "
        "or refunded orders excluded) per village and calendar year. Growth = this year to date over the same "
        "period last year, minus 1.",
    ),
    Indicator(
        "tourism_villages", "Làng nghề gắn với du lịch", "Craft villages linked with tourism", COUNT, "recorded",
        "số làng (giá trị ghi nhận mới nhất)", None, 3, "≥ 3", "≥ 20",
        "Ghi nhận: số làng nghề gắn với du lịch, do cán bộ nhập kèm minh chứng.",
        "Recorded: number of craft villages linked with tourism, entered by an official with evidence.",
    ),
    Indicator(
        "tour_routes", "Tuyến du lịch trải nghiệm", "Experience tour routes", COUNT, "recorded",
        "số tuyến (giá trị ghi nhận mới nhất)", None, 10, "10", "20",
        "Ghi nhận: số tuyến du lịch trải nghiệm (mỗi tuyến là một chuỗi làng, ghi trong minh chứng).",
        "Recorded: number of experience tour routes (each an ordered list of villages, given in the evidence).",
    ),
    Indicator(
        "endangered_restored", "Nghề, làng nghề có nguy cơ mai một được khôi phục",
        "Endangered crafts/villages restored", COUNT, "recorded", "số nghề/làng (giá trị ghi nhận mới nhất)",
        None, 5, "≥ 5", "≥ 10",
        "Ghi nhận: số nghề, làng nghề có nguy cơ mai một được khôi phục, bảo tồn.",
        "Recorded: endangered crafts or villages restored and preserved.",
    ),
    Indicator(
        "new_recognitions", "Làng nghề được công nhận mới", "Newly recognized villages", COUNT, "recorded",
        "làng có quyết định công nhận từ 15/01/2025 (trong đó nâng lên làng nghề truyền thống: xem chi tiết)",
        None, 25, "25 làng (10 nâng lên truyền thống); 10 nghề", "10 nghề, 20 làng nghề truyền thống",
        "Từ dữ liệu quyết định công nhận (số, ngày, danh hiệu) do cán bộ ghi: số làng có quyết định công nhận "
        "từ ngày bắt đầu kế hoạch 15/01/2025; số làng được nâng lên làng nghề truyền thống đếm riêng.",
        "From recorded recognition decisions (number, date, title): villages with a decision since the plan "
        "start (15/01/2025); villages upgraded to traditional are counted separately.",
    ),
    Indicator(
        "effective_share", "Làng nghề hoạt động hiệu quả", "Recognized villages operating effectively", PERCENT,
        "recorded", "làng hoạt động hiệu quả (ghi nhận)", "làng nghề được công nhận (ghi nhận)", 80, "> 80 %",
        "> 80 %", "Ghi nhận: tỷ lệ làng nghề được công nhận hoạt động hiệu quả.",
        "Recorded: share of recognized villages operating effectively.",
    ),
    Indicator(
        "trained_share", "Lao động làng nghề được đào tạo", "Craft workers trained", PERCENT, "recorded",
        "lao động được đào tạo (kỹ năng, an toàn, CNTT)", "lao động làng nghề", 80, "≥ 80 %", "90 %",
        "Ghi nhận: tỷ lệ lao động làng nghề được đào tạo kỹ năng, an toàn lao động, công nghệ thông tin.",
        "Recorded: share of craft workers trained (skills, safety, IT).",
    ),
    Indicator(
        "environment_share", "Làng nghề đạt chuẩn môi trường", "Villages meeting environmental standards",
        PERCENT, "recorded", "làng đạt chuẩn môi trường", "làng nghề", 100, "100 %", "100 %",
        "Ghi nhận: tỷ lệ làng nghề đáp ứng quy chuẩn môi trường.",
        "Recorded: share of villages meeting environmental standards.",
    ),
)
BY_ID = {ind.id: ind for ind in INDICATORS}
RECORDED_IDS = tuple(i.id for i in INDICATORS if i.kind == "recorded" and i.id != "new_recognitions")
SHARE_FLAGS = {"ecommerce_participation": "ecommerce", "online_showcase": "showcase", "ocop_share": "ocop",
               "ip_share": "ip"}


@dataclass
class Result:
    indicator: Indicator
    value: float | None
    numerator: float | None
    denominator: float | None
    detail: dict = field(default_factory=dict)


# --- the per-village facts -------------------------------------------------------------------------

def _ocop_valid(as_of: date):
    """Valid OCOP certificate on ``as_of``: 3+ stars, expiry (printed, or issue + 36 months) not passed."""
    issued_cutoff = add_months(as_of, -OCOP_VALIDITY_MONTHS)
    return sa.and_(
        Product.ocop_stars >= 3,
        sa.or_(
            sa.and_(Product.ocop_expires_on.is_not(None), Product.ocop_expires_on >= as_of),
            sa.and_(Product.ocop_expires_on.is_(None), Product.ocop_issued_on.is_not(None),
                    Product.ocop_issued_on >= issued_cutoff),
        ),
    )


def _flag(cond):
    return sa.case((cond, 1), else_=0)


def _count_if(cond):
    return sa.func.coalesce(sa.func.sum(_flag(cond)), 0)


def village_facts(as_of: date | None = None):
    """One row per village (a subquery) with every fact the platform-measured indicators use."""
    as_of = as_of or stats_today()
    # Listing facts in two steps, so each product row is read once: per shop (product status, OCOP, IP,
    # photo, description), then per village with the shop's status. "Visible" is exactly
    # ``visible_products_clause()`` (active product of an active shop) factored over the two levels;
    # tests/officials/test_indicators.py checks that the totals agree with that clause.
    active = Product.status == ProductStatus.ACTIVE
    has_photo = sa.exists(sa.select(ProductImage.id).where(ProductImage.product_id == Product.id))
    real_description = sa.func.length(sa.func.trim(Product.description_vi)) >= MIN_DESCRIPTION_CHARS
    ip_ok = sa.and_(IpProtection.id.is_not(None), IpProtection.kind.in_(IpKind.CHOICES),
                    IpProtection.registration_number.is_not(None), IpProtection.registration_number != "")
    ocop_valid = _ocop_valid(as_of)
    per_shop = (
        sa.select(
            Product.shop_id.label("shop_id"),
            _count_if(active).label("active"),
            _count_if(Product.status == ProductStatus.DRAFT).label("draft"),
            _count_if(Product.status == ProductStatus.ARCHIVED).label("archived"),
            _count_if(sa.and_(active, ocop_valid)).label("ocop_valid"),
            sa.func.max(sa.case((sa.and_(active, Product.ocop_stars >= 3, ~ocop_valid),
                                 Product.ocop_expires_on))).label("ocop_expired_on"),
            sa.func.max(sa.case((sa.and_(active, Product.ocop_stars >= 3, ~ocop_valid,
                                         Product.ocop_expires_on.is_(None)),
                                 Product.ocop_issued_on))).label("ocop_expired_issued"),
            _count_if(sa.and_(active, ip_ok)).label("ip"),
            _count_if(sa.and_(active, real_description, has_photo)).label("digitized"),
        )
        .select_from(Product)
        .outerjoin(IpProtection, IpProtection.id == Product.ip_protection_id)
        .group_by(Product.shop_id)
        .subquery("ps")
    )
    shop_active = Shop.status == ShopStatus.ACTIVE
    verified = Shop.verified.is_(True)

    def when_active(col):
        return sa.func.coalesce(sa.func.sum(sa.case((shop_active, col), else_=0)), 0)

    product_agg = (
        sa.select(
            Shop.village_id.label("village_id"),
            when_active(per_shop.c.active).label("listings_visible"),
            sa.func.coalesce(sa.func.sum(sa.case((sa.and_(shop_active, verified), per_shop.c.active), else_=0)), 0)
            .label("listings_verified"),
            sa.func.coalesce(sa.func.sum(per_shop.c.draft), 0).label("listings_draft"),
            sa.func.coalesce(sa.func.sum(per_shop.c.archived), 0).label("listings_archived"),
            sa.func.coalesce(sa.func.sum(sa.case((~shop_active, per_shop.c.active), else_=0)), 0)
            .label("listings_suspended"),
            when_active(per_shop.c.ocop_valid).label("ocop_valid"),
            sa.func.max(sa.case((shop_active, per_shop.c.ocop_expired_on))).label("ocop_expired_on"),
            sa.func.max(sa.case((shop_active, per_shop.c.ocop_expired_issued))).label("ocop_expired_issued"),
            when_active(per_shop.c.ip).label("ip_listings"),
            when_active(per_shop.c.digitized).label("digitized"),
        )
        .select_from(Shop)
        .join(per_shop, per_shop.c.shop_id == Shop.id)
        .group_by(Shop.village_id)
        .subquery("pa")
    )
    shop_agg = (
        sa.select(
            Shop.village_id.label("village_id"),
            sa.func.count(Shop.id).label("shops_total"),
            _count_if(shop_active).label("shops_active"),
            _count_if(sa.and_(shop_active, Shop.verified.is_(True))).label("shops_verified"),
        )
        .group_by(Shop.village_id)
        .subquery("sa_")
    )
    fresh_cutoff = add_months(as_of, -PRESENCE_MAX_AGE_MONTHS)
    presence_agg = (
        sa.select(
            ExternalPresence.village_id.label("village_id"),
            _count_if(sa.and_(ExternalPresence.evidence_date >= fresh_cutoff,
                              ExternalPresence.evidence_date <= as_of)).label("presence_fresh"),
            sa.func.max(ExternalPresence.evidence_date).label("presence_latest"),
        )
        .where(current_clause(ExternalPresence))
        .group_by(ExternalPresence.village_id)
        .subquery("xa")
    )
    this_start = datetime(as_of.year, 1, 1)
    this_end = datetime.combine(as_of, time.max)
    last_start = datetime(as_of.year - 1, 1, 1)
    last_end = datetime.combine(_same_day_last_year(as_of), time.max)
    line_value = OrderLine.unit_price * OrderLine.quantity - sa.func.coalesce(OrderLine.refunded_amount, 0)
    sales_agg = (
        sa.select(
            OrderLine.village_id.label("village_id"),
            sa.func.coalesce(sa.func.sum(sa.case((Order.delivered_at >= this_start, line_value), else_=0)), 0)
            .label("sales_this"),
            sa.func.coalesce(sa.func.sum(sa.case((Order.delivered_at <= last_end, line_value), else_=0)), 0)
            .label("sales_last"),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(OrderStatus.DELIVERED_STATES), Order.delivered_at >= last_start,
               Order.delivered_at <= this_end,
               sa.or_(Order.delivered_at >= this_start, Order.delivered_at <= last_end))
        .group_by(OrderLine.village_id)
        .subquery("oa")
    )
    recognized = CraftVillage.recognition.in_(Recognition.RECOGNIZED)
    z = sa.func.coalesce
    listings_verified = z(product_agg.c.listings_verified, 0)
    listings_visible = z(product_agg.c.listings_visible, 0)
    presence_fresh = z(presence_agg.c.presence_fresh, 0)
    return (
        sa.select(
            CraftVillage.id.label("id"),
            CraftVillage.slug.label("slug"),
            CraftVillage.name_vi.label("name_vi"),
            CraftVillage.name_en.label("name_en"),
            CraftVillage.commune_vi.label("commune"),
            CraftVillage.category.label("category"),
            CraftVillage.recognition.label("recognition"),
            _flag(recognized).label("recognized"),
            z(shop_agg.c.shops_total, 0).label("shops_total"),
            z(shop_agg.c.shops_active, 0).label("shops_active"),
            z(shop_agg.c.shops_verified, 0).label("shops_verified"),
            listings_visible.label("listings_visible"),
            listings_verified.label("listings_verified"),
            z(product_agg.c.listings_draft, 0).label("listings_draft"),
            z(product_agg.c.listings_archived, 0).label("listings_archived"),
            z(product_agg.c.listings_suspended, 0).label("listings_suspended"),
            z(product_agg.c.ocop_valid, 0).label("ocop_valid"),
            product_agg.c.ocop_expired_on.label("ocop_expired_on"),
            product_agg.c.ocop_expired_issued.label("ocop_expired_issued"),
            z(product_agg.c.ip_listings, 0).label("ip_listings"),
            z(product_agg.c.digitized, 0).label("digitized"),
            presence_fresh.label("presence_fresh"),
            presence_agg.c.presence_latest.label("presence_latest"),
            z(sales_agg.c.sales_this, 0).label("sales_this"),
            z(sales_agg.c.sales_last, 0).label("sales_last"),
            _flag(sa.and_(recognized, sa.or_(listings_verified > 0, presence_fresh > 0))).label("ecommerce"),
            _flag(sa.and_(recognized, listings_visible > 0)).label("showcase"),
            _flag(sa.and_(recognized, z(product_agg.c.ocop_valid, 0) > 0)).label("ocop"),
            _flag(sa.and_(recognized, z(product_agg.c.ip_listings, 0) > 0)).label("ip"),
        )
        .select_from(CraftVillage)
        .outerjoin(product_agg, product_agg.c.village_id == CraftVillage.id)
        .outerjoin(shop_agg, shop_agg.c.village_id == CraftVillage.id)
        .outerjoin(presence_agg, presence_agg.c.village_id == CraftVillage.id)
        .outerjoin(sales_agg, sales_agg.c.village_id == CraftVillage.id)
        .subquery("vf")
    )


def _same_day_last_year(day: date) -> date:
    return add_months(day, -12)


def _filtered(facts, commune: str | None, category: str | None):
    conds = []
    if commune:
        conds.append(facts.c.commune == commune)
    if category:
        conds.append(facts.c.category == category)
    return conds


def _sum_columns(facts) -> list:
    return [
        sa.func.coalesce(sa.func.sum(facts.c.recognized), 0).label("recognized"),
        sa.func.count(facts.c.id).label("villages"),
        sa.func.coalesce(sa.func.sum(facts.c.ecommerce), 0).label("ecommerce"),
        sa.func.coalesce(sa.func.sum(facts.c.showcase), 0).label("showcase"),
        sa.func.coalesce(sa.func.sum(facts.c.ocop), 0).label("ocop"),
        sa.func.coalesce(sa.func.sum(facts.c.ip), 0).label("ip"),
        sa.func.coalesce(sa.func.sum(facts.c.digitized), 0).label("digitized"),
        sa.func.coalesce(sa.func.sum(facts.c.sales_this), 0).label("sales_this"),
        sa.func.coalesce(sa.func.sum(facts.c.sales_last), 0).label("sales_last"),
    ]


def platform_totals(as_of: date | None = None, commune: str | None = None, category: str | None = None,
                    group_by: str | None = None):
    """The sums over ``village_facts``: one row (or one per commune/category with ``group_by``)."""
    facts = village_facts(as_of)
    cols = _sum_columns(facts)
    stmt = sa.select(*cols).where(*_filtered(facts, commune, category))
    if group_by in ("commune", "category"):
        key = facts.c[group_by]
        stmt = sa.select(key.label("key"), *cols).where(*_filtered(facts, commune, category)) \
            .group_by(key).order_by(key)
        return db.session.execute(stmt).mappings().all()
    return db.session.execute(stmt).mappings().one()


def totals_and_groups(as_of: date | None = None, group_by: str = "commune", commune: str | None = None,
                      category: str | None = None):
    """The totals and the per-commune (or per-category) sums in one statement: the village facts are
    computed once (a materialized CTE) and summed twice. Returns ``(totals, groups)``."""
    if group_by not in ("commune", "category"):
        raise ValueError(group_by)
    facts = village_facts(as_of).element.cte("vf").prefix_with("MATERIALIZED")
    where = _filtered(facts, commune, category)
    key_type = facts.c[group_by].type
    total = sa.select(sa.literal(0).label("level"), sa.cast(sa.null(), key_type).label("key"),
                      *_sum_columns(facts)).where(*where)
    groups = sa.select(sa.literal(1).label("level"), facts.c[group_by].label("key"),
                       *_sum_columns(facts)).where(*where).group_by(facts.c[group_by])
    union = sa.union_all(total, groups).subquery("tg")
    rows = db.session.execute(sa.select(union).order_by(union.c.level, union.c.key)).mappings().all()
    return rows[0], rows[1:]


def growth(this: float | None, last: float | None) -> float | None:
    if not last:
        return None
    return round(((this or 0) / last - 1) * 100, 1)


def share(num: float, den: float) -> float | None:
    return round(num * 100 / den, 1) if den else None


def results_from_totals(t) -> list[Result]:
    """Platform-measured results from one totals row (shared by the whole table and each drill-down)."""
    out = []
    for ind_id, flag in SHARE_FLAGS.items():
        out.append(Result(BY_ID[ind_id], share(t[flag], t["recognized"]), t[flag], t["recognized"]))
    out.append(Result(BY_ID["digitized_products"], t["digitized"], t["digitized"], None))
    out.append(Result(BY_ID["production_growth"], growth(t["sales_this"], t["sales_last"]), t["sales_this"],
                      t["sales_last"]))
    return out


def recorded_results(as_of: date | None = None) -> list[Result]:
    """The latest current (not superseded) city-wide value of each recorded indicator, one query."""
    as_of = as_of or stats_today()
    ranked = (
        sa.select(
            RecordedValue,
            sa.func.row_number().over(
                partition_by=RecordedValue.indicator_id,
                order_by=(RecordedValue.period_end.desc(), RecordedValue.id.desc()),
            ).label("rn"),
        )
        .where(current_clause(RecordedValue), RecordedValue.village_id.is_(None),
               RecordedValue.period_start <= as_of)
        .subquery()
    )
    rows = {r.indicator_id: r for r in db.session.execute(sa.select(ranked).where(ranked.c.rn == 1)).mappings()}
    out = []
    for ind_id in RECORDED_IDS:
        r = rows.get(ind_id)
        detail = {}
        if r is not None:
            detail = {"period_start": r["period_start"], "period_end": r["period_end"], "evidence": r["evidence"],
                      "entered_at": r["entered_at"], "record_id": r["id"]}
        out.append(Result(BY_ID[ind_id], r["value"] if r is not None else None,
                          r["numerator"] if r is not None else None, r["denominator"] if r is not None else None,
                          detail))
    out.append(recognition_result(as_of))
    return out


def recognition_result(as_of: date | None = None) -> Result:
    as_of = as_of or stats_today()
    since = sa.and_(RecognitionDecision.decided_on >= PLAN_START, RecognitionDecision.decided_on <= as_of)
    row = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(RecognitionDecision.village_id)).label("villages"),
            sa.func.count(sa.distinct(sa.case(
                (RecognitionDecision.title == Recognition.TRADITIONAL, RecognitionDecision.village_id)))
            ).label("traditional"),
        ).where(since)
    ).mappings().one()
    return Result(BY_ID["new_recognitions"], row["villages"], row["villages"], None,
                  {"upgraded_traditional": row["traditional"]})


def compute_all(as_of: date | None = None, commune: str | None = None, category: str | None = None,
                totals=None) -> list[Result]:
    """Every indicator, in the order of ``INDICATORS``. Drill-down filters apply to platform indicators.
    ``totals``: a row already computed by ``platform_totals``/``totals_and_groups`` for the same day."""
    as_of = as_of or stats_today()
    results = results_from_totals(totals if totals is not None else platform_totals(as_of, commune, category))
    results += recorded_results(as_of)
    by_id = {r.indicator.id: r for r in results}
    return [by_id[i.id] for i in INDICATORS]


def village_rows(as_of: date | None = None, commune: str | None = None, category: str | None = None,
                 only: str | None = None, sort: str = "name", descending: bool = False):
    """The village table: one mapping per village (aggregate facts and the 0/1 flags)."""
    facts = village_facts(as_of)
    conds = _filtered(facts, commune, category)
    if only == "recognized":
        conds.append(facts.c.recognized == 1)
    elif only and only.startswith("not_") and only[4:] in ("ecommerce", "showcase", "ocop", "ip"):
        conds.append(facts.c.recognized == 1)
        conds.append(facts.c[only[4:]] == 0)
    elif only in ("ecommerce", "showcase", "ocop", "ip"):
        conds.append(facts.c[only] == 1)
    sort_cols = {"name": facts.c.name_vi, "commune": facts.c.commune, "category": facts.c.category,
                 "listings": facts.c.listings_visible, "sales": facts.c.sales_this,
                 "recognition": facts.c.recognition}
    col = sort_cols.get(sort, facts.c.name_vi)
    order = [col.desc() if descending else col.asc(), facts.c.name_vi, facts.c.id]
    return db.session.execute(sa.select(facts).where(*conds).order_by(*order)).mappings().all()
