"""The Plan-282 indicators, each defined once, here (``../shared/docs/targets.md``).

Everything is read-only aggregate SQL. ``village_facts()`` is one row per village with the facts
the platform-measured indicators need (counts of listings by state, valid OCOP certificates, IP,
fresh external presences, delivered sales); every indicator is a ``SUM``/``COUNT`` over it, the
drill-downs are the same sums ``GROUP BY`` commune or craft category, and the village table reads
the same rows. Recorded indicators read the officials' current (not superseded) entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context

from marketplace.accounts.models import User
from marketplace.catalog.models import (
    OCOP_VALIDITY_MONTHS,
    ClaimStatus,
    CraftVillage,
    IpKind,
    IpProtection,
    Product,
    ProductImage,
    ProductStatus,
    Recognition,
    ip_valid_clause,
    ocop_valid_clause,
)
from marketplace.core.time import add_months, today_vn
from marketplace.extensions import db
from marketplace.officials.aggregates import PRODUCED_STATES, gross_by, vn_midnight_utc
from marketplace.officials.models import (
    CraftRecognition,
    ExternalPresence,
    IndicatorBaseline,
    RecognitionDecision,
    RecordedValue,
    TourRoute,
    TourRouteStop,
    current_clause,
)
from marketplace.orders.models import Order, OrderLine
from marketplace.payments.models import Refund, RefundStatus
from marketplace.shops.models import Shop, ShopStatus

PLAN_START = date(2025, 1, 15)
PLAN_END = date(2030, 12, 31)
HORIZON_2050 = date(2050, 12, 31)
PRESENCE_MAX_AGE_MONTHS = 12
MIN_DESCRIPTION_CHARS = 40
COUNTED_IP_KINDS = IpKind.COUNTED
PLATFORMS = ("Shopee", "Lazada", "TikTok Shop", "Tiki", "Sendo", "Facebook", "Zalo", "Khác")

CRAFTS_TARGET_2030 = 10  # "công nhận mới ít nhất 10 nghề"
UPGRADED_TARGET_2030 = 10  # "trong đó 10 làng nghề được nâng cấp … lên làng nghề truyền thống"

PERCENT = "percent"
COUNT = "count"
GROWTH = "growth"


def stats_today() -> date:
    """The day the indicators are measured on: today in Hà Nội (``STATS_AS_OF`` pins it for tests)."""
    if has_app_context() and current_app.config["STATS_AS_OF"] is not None:
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
    strict: bool = False           # the target is written "> N": exactly N is not on target
    target_text_en: str | None = None       # English for visitors (TARGETS_EN); the Vietnamese is the fallback
    orientation_2050_en: str | None = None

    def meets(self, value: float | None, level: float | None) -> bool | None:
        """Does ``value`` reach ``level`` (strictly above it for a "> N" target)?"""
        if value is None or level is None:
            return None
        return value > level + 1e-9 if self.strict else value >= level - 1e-9

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
        "platform", "tin đang bán của làng nghề được công nhận, có ít nhất một ảnh và mô tả thật (≥ 40 ký tự)",
        None, 300, "300", "—",
        "Số tin đang bán (sản phẩm đang bán của cửa hàng đang hoạt động) của các làng nghề được công nhận, có "
        "ít nhất một ảnh và phần mô tả từ 40 ký tự trở lên. Tin của làng chưa được công nhận ghi riêng bên "
        "cạnh, không cộng vào.",
        "Active listings of active shops of recognized villages with at least one photo and a description of "
        "at least 40 characters. Listings of unrecognized villages are shown beside the figure, not in it.",
    ),
    Indicator(
        "ocop_share", "Làng nghề có sản phẩm OCOP", "Villages with OCOP-certified products", PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một sản phẩm đang bán với chứng nhận OCOP 3 sao trở lên đã được "
        "xác minh và còn hiệu lực",
        "làng nghề được công nhận", 50, "> 50 %", "≥ 300 làng",
        "Làng nghề được công nhận có ít nhất một sản phẩm đang bán (cửa hàng đang hoạt động) mang chứng nhận "
        "OCOP từ 3 sao trở lên đã được cán bộ xác minh và có hiệu lực vào ngày tính (ngày cấp ≤ ngày tính ≤ "
        "ngày hết hạn; hạn tối đa 36 tháng kể từ ngày cấp). Chứng nhận chờ xác minh ghi riêng, không tính. "
        "Mục tiêu \"> 50 %\": đúng 50 % là chưa đạt.",
        "Recognized villages with at least one active product of an active shop holding an OCOP certificate "
        "of 3 stars or more, verified by an official and valid on the day measured (issued ≤ day ≤ expiry, "
        "expiry at most 36 months after issue). Certificates awaiting verification are shown apart, not "
        "counted. Target \"> 50 %\": exactly 50 % is not on target.",
        strict=True,
    ),
    Indicator(
        "ip_share", "Làng nghề có sản phẩm được bảo hộ sở hữu trí tuệ", "Villages with IP-protected products",
        PERCENT, "platform",
        "làng nghề được công nhận có ít nhất một sản phẩm đang bán gắn nhãn hiệu tập thể, nhãn hiệu chứng nhận "
        "hoặc chỉ dẫn địa lý có số đăng ký, đã xác minh, còn hiệu lực",
        "làng nghề được công nhận", 30, "≥ 30 %", "> 50 %",
        "Làng nghề được công nhận có ít nhất một sản phẩm đang bán (cửa hàng đang hoạt động) được bảo hộ bằng "
        "nhãn hiệu tập thể, nhãn hiệu chứng nhận hoặc chỉ dẫn địa lý, có số đăng ký, đã được cán bộ xác minh "
        "và chưa hết hạn vào ngày tính. Bản ghi chờ xác minh ghi riêng, không tính.",
        "Recognized villages with at least one active product of an active shop covered by a collective mark, "
        "certification mark or geographical indication with a registration number, verified by an official "
        "and not expired on the day measured. Records awaiting verification are shown apart, not counted.",
    ),
    Indicator(
        "production_growth", "Tăng trưởng giá trị sản xuất", "Growth of production value", GROWTH, "platform",
        "giá trị hàng đã giao của làng nghề được công nhận từ 01/01 đến hôm nay, trừ tiền đã hoàn trong kỳ",
        "cùng kỳ năm trước, cùng cách tính",
        10, "10 %/năm", "khoảng 10 %/năm",
        "Chỉ số đại diện: giá trị các dòng đơn hàng đã giao của làng nghề được công nhận (theo ngày giao), trừ "
        "mọi khoản hoàn tiền đã thành công (theo ngày hoàn). Kỳ tính theo giờ Hà Nội: từ 00:00 ngày 01/01 năm "
        "nay đến hết hôm nay, so với cùng kỳ năm trước; tăng trưởng = năm nay / năm trước − 1. Số thứ hai "
        "(so sánh cùng cửa hàng) chỉ tính các cửa hàng có hàng giao trong cả hai kỳ.",
        "Proxy: value of delivered order lines of recognized villages (by delivery time) minus every "
        "successful refund (by refund time). Windows in Hanoi time: 00:00 on 1 January to the end of today, "
        "against the same window last year; growth = this year / last year − 1. A second figure (like for "
        "like) counts only the shops with deliveries in both windows.",
    ),
    Indicator(
        "tourism_villages", "Làng nghề gắn với du lịch", "Craft villages linked with tourism", COUNT, "recorded",
        "số làng (giá trị ghi nhận mới nhất)", None, 3, "≥ 3", "≥ 20",
        "Ghi nhận: số làng nghề gắn với du lịch, do cán bộ nhập kèm minh chứng.",
        "Recorded: number of craft villages linked with tourism, entered by an official with evidence.",
    ),
    Indicator(
        "tour_routes", "Tuyến du lịch trải nghiệm", "Experience tour routes", COUNT, "recorded",
        "số tuyến đã mở (mỗi tuyến là danh sách làng theo thứ tự)", None, 10, "10", "20",
        "Ghi nhận: số tuyến du lịch trải nghiệm đã mở đến ngày tính; mỗi tuyến là danh sách có thứ tự các làng "
        "(ít nhất hai làng), do cán bộ nhập kèm minh chứng.",
        "Recorded: experience tour routes opened by the day measured; each route is an ordered list of "
        "villages (at least two), entered by an official with evidence.",
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
        "làng được công nhận mới (trước đó chưa có danh hiệu) hoặc nâng từ làng nghề lên làng nghề truyền "
        "thống, từ 15/01/2025",
        None, 25, "25 làng (10 nâng lên truyền thống); 10 nghề", "10 nghề, 20 làng nghề truyền thống",
        "Từ quyết định công nhận (số, ngày, danh hiệu trước và sau) do cán bộ ghi, từ 15/01/2025: một làng là "
        "công nhận mới khi trước đó chưa có danh hiệu nào; là nâng cấp chỉ khi từ \"làng nghề\" lên \"làng nghề "
        "truyền thống\"; quyết định công nhận lại danh hiệu đã có không tính. Nghề truyền thống được công nhận "
        "là quyết định riêng, đếm riêng (mục tiêu 10 nghề).",
        "From recorded recognition decisions (number, date, title before and after) since 15/01/2025: a "
        "village is newly recognized when it held no title before; upgraded only from \"craft village\" to "
        "\"traditional craft village\"; a re-confirmation counts nowhere. Recognized crafts are decisions of "
        "their own, counted apart (target: 10 crafts).",
    ),
    Indicator(
        "effective_share", "Làng nghề hoạt động hiệu quả", "Recognized villages operating effectively", PERCENT,
        "recorded", "làng hoạt động hiệu quả (ghi nhận)", "làng nghề được công nhận (ghi nhận)", 80, "> 80 %",
        "> 80 %", "Ghi nhận: tỷ lệ làng nghề được công nhận hoạt động hiệu quả. Mục tiêu \"> 80 %\": đúng 80 % "
        "là chưa đạt.",
        "Recorded: share of recognized villages operating effectively. Target \"> 80 %\": exactly 80 % is not "
        "on target.", strict=True,
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
# English target texts for the public pages: id → (2030 target, 2050 orientation); Vietnamese is the fallback.
TARGETS_EN = {
    "ecommerce_participation": ("≥ 30 %", "—"),
    "online_showcase": ("—", "50 %"),
    "digitized_products": ("300", "—"),
    "ocop_share": ("> 50 %", "≥ 300 villages"),
    "ip_share": ("≥ 30 %", "> 50 %"),
    "production_growth": ("10 % a year", "about 10 % a year"),
    "tourism_villages": ("≥ 3", "≥ 20"),
    "tour_routes": ("10", "20"),
    "endangered_restored": ("≥ 5", "≥ 10"),
    "new_recognitions": ("25 villages (10 upgraded to traditional); 10 crafts", "10 crafts, 20 traditional craft villages"),
    "effective_share": ("> 80 %", "> 80 %"),
    "trained_share": ("≥ 80 %", "90 %"),
    "environment_share": ("100 %", "100 %"),
}
INDICATORS = tuple(replace(ind, target_text_en=TARGETS_EN[ind.id][0], orientation_2050_en=TARGETS_EN[ind.id][1])
                   if ind.id in TARGETS_EN else ind for ind in INDICATORS)
BY_ID = {ind.id: ind for ind in INDICATORS}
# Recorded indicators entered as values (tour routes and recognitions are entered as what they count).
RECORDED_IDS = tuple(i.id for i in INDICATORS if i.kind == "recorded" and i.id not in ("new_recognitions",
                                                                                        "tour_routes"))
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

def _flag(cond):
    return sa.case((cond, 1), else_=0)


def _count_if(cond):
    return sa.func.coalesce(sa.func.sum(_flag(cond)), 0)


@dataclass(frozen=True)
class Windows:
    """The production-growth windows, half-open ``[start, end)`` in stored naive UTC, built in Hà Nội time."""
    this_start: datetime
    this_end: datetime
    last_start: datetime
    last_end: datetime


def sales_windows(as_of: date) -> Windows:
    """This year from 00:00 on 1 January (Hà Nội) to the end of ``as_of``; last year the same window."""
    same_day_last_year = add_months(as_of, -12)
    return Windows(vn_midnight_utc(date(as_of.year, 1, 1)), vn_midnight_utc(as_of + timedelta(days=1)),
                   vn_midnight_utc(date(as_of.year - 1, 1, 1)),
                   vn_midnight_utc(same_day_last_year + timedelta(days=1)))


def _in(col, start: datetime, end: datetime):
    return sa.and_(col >= start, col < end)


def _gross_raw(key: str, w: Windows):
    """Delivered value per key in both windows, summed from every order line (``flask stats verify``'s way,
    and the reference the aggregate tables are tested against)."""
    line_value = OrderLine.unit_price * OrderLine.quantity
    line_key = OrderLine.village_id if key == "village" else Order.shop_id
    return (
        sa.select(
            line_key.label("key_id"),
            sa.func.coalesce(sa.func.sum(sa.case((_in(Order.delivered_at, w.this_start, w.this_end), line_value),
                                                 else_=0)), 0).label("gross_this"),
            sa.func.coalesce(sa.func.sum(sa.case((_in(Order.delivered_at, w.last_start, w.last_end), line_value),
                                                 else_=0)), 0).label("gross_last"),
        )
        .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(PRODUCED_STATES),
               sa.or_(_in(Order.delivered_at, w.this_start, w.this_end),
                      _in(Order.delivered_at, w.last_start, w.last_end)))
        .group_by(line_key)
        .subquery(f"g_{key}")
    )


def _sales_by(key: str, as_of: date, raw: bool = False):
    """Net production value per village (``key="village"``) or per shop (``"shop"``) in both windows.

    Gross: order lines of orders delivered in the window (by ``delivered_at``; an order refunded after its
    delivery stays delivered), read from the daily/monthly sums of ``officials/aggregates.py`` (``raw``:
    from every order line). Refunds: every ``payments.Refund`` that succeeded, by its time, of an order
    that was delivered, at most the order's goods value (a refund that also returns the shipping fee takes
    nothing off the goods twice). Columns: ``key_id``, ``gross_this``, ``gross_last``, ``refund_this``,
    ``refund_last``, ``net_this``, ``net_last``."""
    w = sales_windows(as_of)
    if raw:
        gross = _gross_raw(key, w)
    else:
        gross = gross_by(key, (date(as_of.year, 1, 1), as_of),
                         (date(as_of.year - 1, 1, 1), add_months(as_of, -12)), f"g_{key}")
    per_order = (
        sa.select(
            Refund.order_id.label("order_id"),
            sa.func.coalesce(sa.func.sum(sa.case((_in(Refund.created_at, w.this_start, w.this_end), Refund.amount),
                                                 else_=0)), 0).label("r_this"),
            sa.func.coalesce(sa.func.sum(sa.case((_in(Refund.created_at, w.last_start, w.last_end), Refund.amount),
                                                 else_=0)), 0).label("r_last"),
        )
        .where(Refund.status == RefundStatus.SUCCEEDED,
               sa.or_(_in(Refund.created_at, w.this_start, w.this_end),
                      _in(Refund.created_at, w.last_start, w.last_end)))
        .group_by(Refund.order_id)
        .subquery(f"ro_{key}")
    )
    # Only the orders refunded in the windows are looked at (an index read per order, not every line).
    order_village = (
        sa.select(OrderLine.order_id.label("order_id"), sa.func.min(OrderLine.village_id).label("village_id"))
        .where(OrderLine.order_id.in_(sa.select(per_order.c.order_id)))
        .group_by(OrderLine.order_id).subquery(f"ov_{key}")
    )

    def capped(col):
        return sa.case((col > Order.subtotal, Order.subtotal), else_=col)

    refund_key = order_village.c.village_id if key == "village" else Order.shop_id
    refunds = (
        sa.select(refund_key.label("key_id"),
                  sa.func.sum(capped(per_order.c.r_this)).label("refund_this"),
                  sa.func.sum(capped(per_order.c.r_last)).label("refund_last"))
        .select_from(per_order)
        .join(Order, Order.id == per_order.c.order_id)
        .join(order_village, order_village.c.order_id == per_order.c.order_id)
        .where(Order.delivered_at.is_not(None), Order.status.in_(PRODUCED_STATES))
        .group_by(refund_key)
        .subquery(f"r_{key}")
    )
    # Gross and refunds side by side in one pass each (a union of both, summed per key).
    zero = sa.literal(0, sa.BigInteger)
    both = sa.union_all(
        sa.select(gross.c.key_id, gross.c.gross_this.label("gt"), gross.c.gross_last.label("gl"),
                  zero.label("rt"), zero.label("rl")),
        sa.select(refunds.c.key_id, zero, zero, refunds.c.refund_this, refunds.c.refund_last),
    ).subquery(f"gr_{key}")
    z = sa.func.coalesce
    gt, gl = z(sa.func.sum(both.c.gt), 0), z(sa.func.sum(both.c.gl), 0)
    rt, rl = z(sa.func.sum(both.c.rt), 0), z(sa.func.sum(both.c.rl), 0)
    return (
        sa.select(both.c.key_id.label("key_id"), gt.label("gross_this"), gl.label("gross_last"),
                  rt.label("refund_this"), rl.label("refund_last"), (gt - rt).label("net_this"),
                  (gl - rl).label("net_last"))
        .group_by(both.c.key_id)
        .subquery(f"sales_{key}")
    )


def ocop_counted_clauses(as_of: date):
    """(counted, awaiting verification) for a product's OCOP certificate on ``as_of``: the catalog's rule."""
    # The catalog's rule reads the stored expiry, which every write through the app keeps at most issue + 36
    # months; rows written past it (bulk SQL) are held to the same bound here: day ≤ issue + 36 months.
    within_36 = Product.ocop_issued_on >= add_months(as_of, -OCOP_VALIDITY_MONTHS)
    return (sa.and_(ocop_valid_clause(as_of), within_36),
            sa.and_(ocop_valid_clause(as_of, verified_only=False), within_36,
                    Product.ocop_status == ClaimStatus.DECLARED))


def ip_counted_clauses(as_of: date):
    """(counted, awaiting verification) for a product's IP record on ``as_of`` (``IpProtection`` joined)."""
    # The plan counts collective marks, certification marks and geographical indications with their number
    # (a record of kind "other" is kept in the register but counts nowhere).
    has_ip = sa.and_(IpProtection.id.is_not(None), IpProtection.kind.in_(COUNTED_IP_KINDS),
                     IpProtection.registration_number.is_not(None), IpProtection.registration_number != "")
    return (sa.and_(has_ip, ip_valid_clause(as_of)),
            sa.and_(has_ip, ip_valid_clause(as_of, verified_only=False), IpProtection.status == ClaimStatus.DECLARED))


def village_facts(as_of: date | None = None, raw: bool = False):
    """One row per village (a subquery) with every fact the platform-measured indicators use."""
    as_of = as_of or stats_today()
    # Listing facts in two steps, so each product row is read once: per shop (product status, OCOP, IP,
    # photo, description), then per village with the shop's status. "Visible" is exactly
    # ``visible_products_clause()`` (active product of an active shop) factored over the two levels;
    # tests/officials/test_indicators.py checks that the totals agree with that clause. OCOP and IP use the
    # catalog's one rule (``ocop_valid_clause``/``ip_valid_clause``, shared with the village page).
    active = Product.status == ProductStatus.ACTIVE
    has_photo = sa.exists(sa.select(ProductImage.id).where(ProductImage.product_id == Product.id))
    real_description = sa.func.length(sa.func.trim(Product.description_vi)) >= MIN_DESCRIPTION_CHARS
    ocop_valid, ocop_awaiting = ocop_counted_clauses(as_of)
    ip_ok, ip_awaiting = ip_counted_clauses(as_of)
    per_shop = (
        sa.select(
            Product.shop_id.label("shop_id"),
            _count_if(active).label("active"),
            _count_if(Product.status == ProductStatus.DRAFT).label("draft"),
            _count_if(Product.status == ProductStatus.ARCHIVED).label("archived"),
            _count_if(sa.and_(active, ocop_valid)).label("ocop_valid"),
            _count_if(sa.and_(active, ocop_awaiting)).label("ocop_awaiting"),
            sa.func.max(sa.case((sa.and_(active, Product.ocop_stars >= 3, Product.ocop_expires_on < as_of),
                                 Product.ocop_expires_on))).label("ocop_expired_on"),
            sa.func.min(sa.case((sa.and_(active, Product.ocop_stars >= 3, Product.ocop_issued_on > as_of),
                                 Product.ocop_issued_on))).label("ocop_future_on"),
            _count_if(sa.and_(active, ip_ok)).label("ip"),
            _count_if(sa.and_(active, ip_awaiting)).label("ip_awaiting"),
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
            when_active(per_shop.c.ocop_awaiting).label("ocop_awaiting"),
            sa.func.max(sa.case((shop_active, per_shop.c.ocop_expired_on))).label("ocop_expired_on"),
            sa.func.min(sa.case((shop_active, per_shop.c.ocop_future_on))).label("ocop_future_on"),
            when_active(per_shop.c.ip).label("ip_listings"),
            when_active(per_shop.c.ip_awaiting).label("ip_awaiting"),
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
    sales_agg = _sales_by("village", as_of, raw)
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
            z(product_agg.c.ocop_awaiting, 0).label("ocop_awaiting"),
            product_agg.c.ocop_expired_on.label("ocop_expired_on"),
            product_agg.c.ocop_future_on.label("ocop_future_on"),
            z(product_agg.c.ip_listings, 0).label("ip_listings"),
            z(product_agg.c.ip_awaiting, 0).label("ip_awaiting"),
            z(product_agg.c.digitized, 0).label("digitized"),
            presence_fresh.label("presence_fresh"),
            presence_agg.c.presence_latest.label("presence_latest"),
            z(sales_agg.c.net_this, 0).label("sales_this"),
            z(sales_agg.c.net_last, 0).label("sales_last"),
            z(sales_agg.c.refund_this, 0).label("refunds_this"),
            z(sales_agg.c.refund_last, 0).label("refunds_last"),
            _flag(sa.and_(recognized, sa.or_(listings_verified > 0, presence_fresh > 0))).label("ecommerce"),
            _flag(sa.and_(recognized, listings_visible > 0)).label("showcase"),
            _flag(sa.and_(recognized, z(product_agg.c.ocop_valid, 0) > 0)).label("ocop"),
            _flag(sa.and_(recognized, z(product_agg.c.ip_listings, 0) > 0)).label("ip"),
        )
        .select_from(CraftVillage)
        .outerjoin(product_agg, product_agg.c.village_id == CraftVillage.id)
        .outerjoin(shop_agg, shop_agg.c.village_id == CraftVillage.id)
        .outerjoin(presence_agg, presence_agg.c.village_id == CraftVillage.id)
        .outerjoin(sales_agg, sales_agg.c.key_id == CraftVillage.id)
        .subquery("vf")
    )


def like_for_like(as_of: date | None = None, raw: bool = False) -> tuple[int, int, int]:
    """Net production value of recognized villages' shops that delivered in both windows:
    ``(this year, last year, number of shops)``."""
    as_of = as_of or stats_today()
    shops = _sales_by("shop", as_of, raw)
    row = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(shops.c.net_this), 0), sa.func.coalesce(sa.func.sum(shops.c.net_last), 0),
                  sa.func.count(shops.c.key_id))
        .select_from(shops)
        .join(Shop, Shop.id == shops.c.key_id)
        .join(CraftVillage, CraftVillage.id == Shop.village_id)
        .where(CraftVillage.recognition.in_(Recognition.RECOGNIZED), shops.c.gross_this > 0, shops.c.gross_last > 0)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _filtered(facts, commune: str | None, category: str | None):
    conds = []
    if commune:
        conds.append(facts.c.commune == commune)
    if category:
        conds.append(facts.c.category == category)
    return conds


def _sum_columns(facts) -> list:
    """Every village-based sum counts recognized villages only; ``*_outside`` is what lies outside."""
    def total(col, recognized: bool = True):
        return sa.func.coalesce(sa.func.sum(sa.case((facts.c.recognized == (1 if recognized else 0), col),
                                                    else_=0)), 0)

    return [
        sa.func.coalesce(sa.func.sum(facts.c.recognized), 0).label("recognized"),
        sa.func.count(facts.c.id).label("villages"),
        sa.func.coalesce(sa.func.sum(facts.c.ecommerce), 0).label("ecommerce"),
        sa.func.coalesce(sa.func.sum(facts.c.showcase), 0).label("showcase"),
        sa.func.coalesce(sa.func.sum(facts.c.ocop), 0).label("ocop"),
        sa.func.coalesce(sa.func.sum(facts.c.ip), 0).label("ip"),
        total(facts.c.ocop_awaiting).label("ocop_awaiting"),
        total(_flag(sa.and_(facts.c.ocop == 0, facts.c.ocop_awaiting > 0))).label("ocop_awaiting_villages"),
        total(facts.c.ip_awaiting).label("ip_awaiting"),
        total(_flag(sa.and_(facts.c.ip == 0, facts.c.ip_awaiting > 0))).label("ip_awaiting_villages"),
        total(facts.c.digitized).label("digitized"),
        total(facts.c.digitized, recognized=False).label("digitized_outside"),
        total(facts.c.sales_this).label("sales_this"),
        total(facts.c.sales_last).label("sales_last"),
        total(facts.c.refunds_this).label("refunds_this"),
        total(facts.c.refunds_last).label("refunds_last"),
        total(facts.c.sales_this, recognized=False).label("sales_outside_this"),
    ]


def platform_totals(as_of: date | None = None, commune: str | None = None, category: str | None = None,
                    group_by: str | None = None, raw: bool = False):
    """The sums over ``village_facts``: one row (or one per commune/category with ``group_by``)."""
    facts = village_facts(as_of, raw)
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


def _int(v) -> int:
    return int(v or 0)


def results_from_totals(t, like: tuple[int, int, int] | None = None) -> list[Result]:
    """Platform-measured results from one totals row (shared by the whole table and each drill-down).
    ``like``: the like-for-like figures of ``like_for_like`` (city-wide only)."""
    out = []
    for ind_id, flag in SHARE_FLAGS.items():
        detail = {}
        if flag in ("ocop", "ip"):
            detail = {"awaiting_verification": _int(t[f"{flag}_awaiting"]),
                      "awaiting_villages": _int(t[f"{flag}_awaiting_villages"])}
        out.append(Result(BY_ID[ind_id], share(t[flag], t["recognized"]), t[flag], t["recognized"], detail))
    out.append(Result(BY_ID["digitized_products"], t["digitized"], t["digitized"], None,
                      {"outside_recognized": _int(t["digitized_outside"])}))
    detail = {"refunds_this": _int(t["refunds_this"]), "refunds_last": _int(t["refunds_last"]),
              "outside_recognized_this": _int(t["sales_outside_this"])}
    if like is not None:
        detail.update(like_for_like_this=like[0], like_for_like_last=like[1], like_for_like_shops=like[2],
                      like_for_like_growth=growth(like[0], like[1]))
    out.append(Result(BY_ID["production_growth"], growth(t["sales_this"], t["sales_last"]), t["sales_this"],
                      t["sales_last"], detail))
    return out


def recorded_results(as_of: date | None = None) -> list[Result]:
    """The latest current (not superseded) city-wide value of each recorded indicator, one query."""
    as_of = as_of or stats_today()
    ranked = (
        sa.select(
            RecordedValue,
            User.name.label("entered_by_name"),
            sa.func.row_number().over(
                partition_by=RecordedValue.indicator_id,
                order_by=(RecordedValue.period_end.desc(), RecordedValue.id.desc()),
            ).label("rn"),
        )
        .outerjoin(User, User.id == RecordedValue.entered_by_id)
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
                      "entered_at": r["entered_at"], "entered_by": r["entered_by_name"], "record_id": r["id"]}
        out.append(Result(BY_ID[ind_id], r["value"] if r is not None else None,
                          r["numerator"] if r is not None else None, r["denominator"] if r is not None else None,
                          detail))
    out.append(recognition_result(as_of))
    out.append(tour_route_result(as_of))
    return out


def tour_routes(as_of: date | None = None) -> list[dict]:
    """Routes opened by ``as_of`` with at least two villages, each with its villages in order."""
    as_of = as_of or stats_today()
    routes = db.session.execute(
        sa.select(TourRoute.id, TourRoute.name, TourRoute.opened_on, TourRoute.evidence, TourRoute.entered_at,
                  User.name.label("entered_by"))
        .outerjoin(User, User.id == TourRoute.entered_by_id)
        .where(TourRoute.opened_on <= as_of).order_by(TourRoute.opened_on, TourRoute.id)
    ).mappings().all()
    stops: dict[int, list[str]] = {}
    for route_id, name in db.session.execute(
        sa.select(TourRouteStop.route_id, CraftVillage.name_vi).join(CraftVillage,
                                                                      CraftVillage.id == TourRouteStop.village_id)
        .order_by(TourRouteStop.route_id, TourRouteStop.position)
    ):
        stops.setdefault(route_id, []).append(name)
    return [{**dict(r), "villages": stops.get(r["id"], [])} for r in routes if len(stops.get(r["id"], [])) >= 2]


def tour_route_result(as_of: date | None = None) -> Result:
    routes = tour_routes(as_of)
    detail: dict = {"routes": [{"name": r["name"], "villages": r["villages"], "opened_on": r["opened_on"]}
                               for r in routes]}
    if routes:
        last = max(routes, key=lambda r: (r["entered_at"], r["id"]))
        detail.update(entered_at=last["entered_at"], entered_by=last["entered_by"],
                      evidence="; ".join(f"{r['name']}: {r['evidence']}" for r in routes))
    return Result(BY_ID["tour_routes"], len(routes), len(routes), None, detail)


def recognition_counts(as_of: date | None = None) -> dict:
    """New, upgraded and recognized-craft counts since the plan's start (see the indicator's definition)."""
    as_of = as_of or stats_today()
    since = sa.and_(RecognitionDecision.decided_on >= PLAN_START, RecognitionDecision.decided_on <= as_of)
    is_new = sa.and_(RecognitionDecision.previous_title == Recognition.NONE,
                     RecognitionDecision.title.in_(Recognition.RECOGNIZED))
    is_upgrade = sa.and_(RecognitionDecision.previous_title == Recognition.CRAFT_VILLAGE,
                         RecognitionDecision.title == Recognition.TRADITIONAL)
    row = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(sa.case((sa.or_(is_new, is_upgrade), RecognitionDecision.village_id))))
            .label("villages"),
            sa.func.count(sa.distinct(sa.case((is_new, RecognitionDecision.village_id)))).label("new"),
            sa.func.count(sa.distinct(sa.case((is_upgrade, RecognitionDecision.village_id)))).label("upgraded"),
            _count_if(RecognitionDecision.title == RecognitionDecision.previous_title).label("reconfirmed"),
        ).where(since)
    ).mappings().one()
    crafts = db.session.scalar(sa.select(sa.func.count(CraftRecognition.id)).where(
        CraftRecognition.decided_on >= PLAN_START, CraftRecognition.decided_on <= as_of))
    return {"villages": int(row["villages"]), "new": int(row["new"]), "upgraded": int(row["upgraded"]),
            "reconfirmed": int(row["reconfirmed"]), "crafts": int(crafts or 0)}


def recognition_result(as_of: date | None = None) -> Result:
    c = recognition_counts(as_of)
    return Result(BY_ID["new_recognitions"], c["villages"], c["villages"], None,
                  {"new_villages": c["new"], "upgraded_traditional": c["upgraded"],
                   "upgraded_target": UPGRADED_TARGET_2030, "reconfirmations_not_counted": c["reconfirmed"],
                   "crafts": c["crafts"], "crafts_target": CRAFTS_TARGET_2030})


def baselines() -> dict[str, dict]:
    """Each indicator's start value (15/01/2025) in force: its latest baseline row, with provenance."""
    ranked = (
        sa.select(IndicatorBaseline, User.name.label("entered_by_name"),
                  sa.func.row_number().over(partition_by=IndicatorBaseline.indicator_id,
                                            order_by=IndicatorBaseline.id.desc()).label("rn"))
        .outerjoin(User, User.id == IndicatorBaseline.entered_by_id)
        .subquery()
    )
    return {r["indicator_id"]: dict(r) for r in db.session.execute(sa.select(ranked).where(ranked.c.rn == 1))
            .mappings()}


def compute_all(as_of: date | None = None, commune: str | None = None, category: str | None = None,
                totals=None) -> list[Result]:
    """Every indicator, in the order of ``INDICATORS``. Drill-down filters apply to platform indicators
    (the like-for-like growth figure is city-wide only). ``totals``: a row already computed by
    ``platform_totals``/``totals_and_groups`` for the same day."""
    as_of = as_of or stats_today()
    like = like_for_like(as_of) if not (commune or category) else None
    results = results_from_totals(totals if totals is not None else platform_totals(as_of, commune, category),
                                  like)
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
