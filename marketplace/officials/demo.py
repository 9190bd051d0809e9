"""Demo history for the officials' dashboard: three years of orders (delivered, some cancelled or refunded — a
refund is a ``payments.Refund`` row, as the refund flow writes it), monthly snapshots, a few external-platform
presences, recorded values, tour routes, craft recognitions, the plan's start values and recognition
decisions (all marked "minh họa").

Deterministic (the demo's seed and anchor date are passed in by ``marketplace.demo.seed``, which calls
``seed_officials_demo`` after the catalog; this module imports nothing from ``marketplace.demo``), idempotent,
and fast: the orders go in with one bulk flush. The demo buyer is anonymous (no account, no address).
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.catalog.models import CraftVillage, Product, ProductStatus, Recognition, Variant
from marketplace.core import changes
from marketplace.core.time import add_months
from marketplace.extensions import db
from marketplace.officials import cache
from marketplace.officials import indicators as ind
from marketplace.officials.models import (
    CraftRecognition,
    ExternalPresence,
    IndicatorBaseline,
    RecognitionDecision,
    RecordedValue,
    StatSnapshot,
    TourRoute,
    TourRouteStop,
)
from marketplace.orders.models import Checkout, Order, OrderLine, OrderStatus
from marketplace.payments.models import Refund, RefundStatus
from marketplace.shops.models import Shop, ShopStatus

TOKEN_PREFIX = "demo-history-"
MONTHS = 24  # of snapshots; orders start in January three years before the anchor
PRESENCES = (  # village slug, platform, months before the anchor, evidence
    ("thuy-ung", "Shopee", 2, "Ảnh chụp gian hàng 'Sừng mỹ nghệ Thụy Ứng' trên Shopee, 38 sản phẩm (minh họa)"),
    ("giang-cao", "TikTok Shop", 4, "Đường dẫn phiên livestream bán gốm của HTX Giang Cao (minh họa)"),
    ("dai-dong", "Facebook", 7, "Trang Facebook của hội nghề có mục cửa hàng, cập nhật tháng này (minh họa)"),
    ("cu-da", "Zalo", 9, "Zalo OA 'Tương Cự Đà' có danh mục sản phẩm và đặt hàng (minh họa)"),
    ("phu-thuong", "Lazada", 16, "Ảnh chụp gian hàng xôi Phú Thượng trên Lazada — đã quá 12 tháng (minh họa)"),
)
RECORDED = (  # indicator, value, numerator, denominator, evidence
    ("tourism_villages", 12, None, None, "Báo cáo 215/BC-SDL năm 2025 của Sở Du lịch (minh họa)"),
    ("endangered_restored", 2, None, None, "Khôi phục nghề giấy dó Dương Ổ, tranh Kim Hoàng (minh họa)"),
    ("effective_share", 71.3, 231, 324, "Tổng hợp báo cáo các xã, phường năm 2025 (minh họa)"),
    ("trained_share", 64.0, 12_800, 20_000, "Sở Lao động: lớp kỹ năng, an toàn lao động, CNTT 2025 (minh họa)"),
    ("environment_share", 58.0, 188, 324, "Sở Nông nghiệp và Môi trường: kiểm tra năm 2025 (minh họa)"),
)
ROUTES = (  # name, opened (months before the anchor), village slugs in order, evidence
    ("Gốm ven sông Hồng", 14, ("bat-trang", "kim-lan"), "Chương trình tour của Sở Du lịch 2025 (minh họa)"),
    ("Lụa, nón, mây tre phía Nam", 10, ("van-phuc", "chuong", "phu-vinh"), "Tour mẫu Sở Du lịch (minh họa)"),
    ("Sơn mài và khảm trai", 5, ("ha-thai", "chuon-ngo"), "Thông báo mở tuyến của huyện (minh họa)"),
)
CRAFTS = (  # craft, number, date, village slug
    ("Nghề làm nón lá", "1502/QĐ-UBND (minh họa)", date(2025, 6, 12), "chuong"),
    ("Nghề dệt lụa tơ tằm", "2710/QĐ-UBND (minh họa)", date(2025, 11, 3), "van-phuc"),
)
BASELINES = (  # indicator, value, numerator, denominator, source — the values on 15/01/2025
    ("ecommerce_participation", 14.0, None, None, "Khảo sát Sở Công Thương, tháng 01/2025 (minh họa)"),
    ("online_showcase", 10.0, None, None, "Khảo sát Sở Công Thương, tháng 01/2025 (minh họa)"),
    ("digitized_products", 0, None, None, "Chợ Làng Nghề chưa hoạt động ngày 15/01/2025"),
    ("ocop_share", 22.0, None, None, "Danh sách OCOP của Sở Nông nghiệp và Môi trường, 2024 (minh họa)"),
    ("ip_share", 5.0, None, None, "Cục Sở hữu trí tuệ, danh sách văn bằng 2024 (minh họa)"),
    ("tourism_villages", 8, None, None, "Báo cáo Sở Du lịch năm 2024 (minh họa)"),
    ("tour_routes", 0, None, None, "Chưa có tuyến nào được mở (minh họa)"),
    ("endangered_restored", 0, None, None, "Kế hoạch 282 bắt đầu (minh họa)"),
    ("new_recognitions", 0, None, None, "Kế hoạch 282 bắt đầu: chưa có quyết định mới"),
    ("effective_share", 65.0, None, None, "Báo cáo tổng kết năm 2024 của các xã, phường (minh họa)"),
    ("trained_share", 55.0, None, None, "Sở Lao động, số liệu năm 2024 (minh họa)"),
    ("environment_share", 50.0, None, None, "Sở Nông nghiệp và Môi trường, kiểm tra năm 2024 (minh họa)"),
)
DECISIONS = (  # village slug, number, date, title — the data file's titles and years (2024), so the
    # demo catalog is unchanged; the numbers are illustrative. No demo decision falls after the plan's start.
    ("ngu-xa", "2196/QĐ-UBND (minh họa)", date(2024, 5, 20), Recognition.TRADITIONAL),
    ("van-an", "2197/QĐ-UBND (minh họa)", date(2024, 5, 20), Recognition.CRAFT_VILLAGE),
    ("hat-mon", "2198/QĐ-UBND (minh họa)", date(2024, 5, 20), Recognition.CRAFT_VILLAGE),
)


def seed_officials_demo(*, anchor: datetime, seed: int, official_email: str) -> str:
    """Orders, records and snapshots up to ``anchor`` (the demo's "today"), drawn from ``seed``; the records
    are entered by the account ``official_email``. Returns a line for the seed report."""
    villages = {v.slug: v for v in db.session.scalars(sa.select(CraftVillage))}
    official = db.session.scalar(sa.select(User.id).where(User.email == official_email))
    _seed_orders(anchor, seed)
    _seed_records(anchor.date(), villages, official)
    _seed_routes_crafts_baselines(anchor, villages, official)
    _sync_recognitions(villages)
    db.session.flush()
    _seed_snapshots(anchor.date(), seed)
    return "Officials: 24 months of demo orders and indicator snapshots."


def _seed_orders(anchor: datetime, seed: int) -> None:
    if db.session.scalar(sa.select(Checkout.id).where(Checkout.token.like(f"{TOKEN_PREFIX}%")).limit(1)):
        return
    rng = random.Random(seed + 6)
    rows = db.session.execute(
        sa.select(Shop.id, Shop.village_id, Product.id, Product.title_vi, Variant.id, Variant.name, Variant.sku,
                  Variant.price)
        .join(Product, Product.shop_id == Shop.id).join(Variant, Variant.product_id == Product.id)
        .where(Shop.status == ShopStatus.ACTIVE, Product.status == ProductStatus.ACTIVE)
        .order_by(Shop.id, Product.id, Variant.id)
    ).all()
    by_shop: dict[int, list] = {}
    for row in rows:
        by_shop.setdefault(row[0], []).append(row)
    start = date(anchor.year - 3, 1, 1)  # a full earlier year, so the first year-on-year growth is fair
    checkouts, orders, lines, refunds = [], [], [], []
    month_no = 0
    month = start
    while month <= anchor.date():
        growth = 1.008 ** month_no * (1.35 if month.month in (1, 2, 12) else 1.0)  # Tết season
        for shop_id, items in by_shop.items():
            for _ in range(max(0, round(rng.uniform(0.3, 2.0) * growth))):
                created = datetime(month.year, month.month, 1, 8) + timedelta(days=rng.randrange(27),
                                                                              minutes=rng.randrange(600))
                if created >= anchor:
                    continue
                roll = rng.random()
                status = (OrderStatus.CANCELLED if roll < 0.07 else OrderStatus.REFUNDED if roll < 0.11
                          else OrderStatus.DELIVERED if roll < 0.4 else OrderStatus.COMPLETED)
                delivered = created + timedelta(days=rng.randrange(2, 7), hours=rng.randrange(10))
                if delivered >= anchor and status != OrderStatus.CANCELLED:
                    status = OrderStatus.SHIPPED
                order_lines = []
                for item in rng.sample(items, k=min(len(items), rng.choice((1, 1, 1, 2, 3)))):
                    qty = rng.choice((1, 1, 1, 2, 2, 3, 5))
                    order_lines.append({
                        "product_id": item[2], "variant_id": item[4], "shop_id": shop_id, "village_id": item[1],
                        "title": item[3], "variant_name": item[5], "sku": item[6], "unit_price": item[7],
                        "quantity": qty, "refunded_amount": 0})
                subtotal = sum(line["unit_price"] * line["quantity"] for line in order_lines)
                checkouts.append({"token": f"{TOKEN_PREFIX}{len(checkouts) + 1:05d}", "buyer_id": None, "email": None,
                                  "payment_method": "cod", "total": subtotal + 30_000, "created_at": created})
                orders.append({
                    "shop_id": shop_id, "buyer_id": None, "status": status, "payment_method": "cod",
                    "subtotal": subtotal, "shipping_fee": 30_000, "total": subtotal + 30_000,
                    "refunded_amount": subtotal if status == OrderStatus.REFUNDED else 0,
                    "recipient_name": "Khách demo", "province": "Hà Nội", "created_at": created,
                    "shipped_at": None if status == OrderStatus.CANCELLED else created + timedelta(days=1),
                    "delivered_at": delivered if status in OrderStatus.DELIVERED_STATES + (OrderStatus.REFUNDED,)
                    else None,
                    "cancelled_at": created + timedelta(hours=3) if status == OrderStatus.CANCELLED else None})
                lines.append(order_lines)
                # (no draw from ``rng``: the demo's orders stay those of earlier seeds)
                refunds.append((min(delivered + timedelta(days=1 + len(orders) % 5), anchor - timedelta(minutes=1)),
                                subtotal)
                               if status == OrderStatus.REFUNDED else None)
        month_no += 1
        month = add_months(month, 1)
    if not orders:
        return
    # Core bulk inserts (one statement per table): seconds, not minutes, on SQLite and PostgreSQL.
    db.session.execute(sa.insert(Checkout), checkouts)
    checkout_ids = dict(db.session.execute(
        sa.select(Checkout.token, Checkout.id).where(Checkout.token.like(f"{TOKEN_PREFIX}%"))).all())
    for order, checkout in zip(orders, checkouts):
        order["checkout_id"] = checkout_ids[checkout["token"]]
    db.session.execute(sa.insert(Order), orders)
    order_ids = dict(db.session.execute(
        sa.select(Order.checkout_id, Order.id).where(Order.checkout_id.in_(checkout_ids.values()))).all())
    db.session.execute(sa.insert(OrderLine), [dict(line, order_id=order_ids[order["checkout_id"]])
                                              for order, order_lines in zip(orders, lines)
                                              for line in order_lines])
    # What orders.services.refund_order leaves behind for a cash-on-delivery refund: the order's refunded
    # amount (set above) and a succeeded Refund row, at its own time (the order lines are not touched).
    refund_rows = [{"order_id": order_ids[order["checkout_id"]], "shop_id": order["shop_id"], "amount": amount,
                    "method": "cod", "status": RefundStatus.SUCCEEDED, "reason": "Khách trả hàng (minh họa)",
                    "idempotency_key": f"{TOKEN_PREFIX}refund-{order_ids[order['checkout_id']]}", "created_at": when}
                   for order, refund in zip(orders, refunds) if refund is not None
                   for when, amount in (refund,)]
    if refund_rows:
        db.session.execute(sa.insert(Refund), refund_rows)
    changes.mark(db.session, cache.MARK)  # orders inserted already delivered: the indicators change at commit


def _seed_records(today: date, villages: dict, official_id: int | None) -> None:
    if not db.session.scalar(sa.select(ExternalPresence.id).limit(1)):
        for slug, platform, months_ago, evidence in PRESENCES:
            if slug in villages:
                db.session.add(ExternalPresence(village_id=villages[slug].id, platform=platform, evidence=evidence,
                                                evidence_date=add_months(today, -months_ago),
                                                entered_by_id=official_id))
    if not db.session.scalar(sa.select(RecordedValue.id).limit(1)):
        for indicator_id, value, num, den, evidence in RECORDED:
            db.session.add(RecordedValue(indicator_id=indicator_id, period_start=date(2025, 1, 1),
                                         period_end=date(2025, 12, 31), value=value, numerator=num, denominator=den,
                                         evidence=evidence, entered_by_id=official_id,
                                         entered_at=datetime(2026, 1, 20, 3)))
        db.session.flush()
        first = db.session.scalar(sa.select(RecordedValue).where(RecordedValue.indicator_id == "tourism_villages"))
        db.session.add(RecordedValue(indicator_id="tourism_villages", period_start=first.period_start,
                                     period_end=first.period_end, value=13, evidence=first.evidence + "; bổ sung",
                                     entered_by_id=official_id, entered_at=datetime(2026, 2, 3, 2),
                                     supersedes_id=first.id, correction_note="Thiếu làng Kiêu Kỵ (minh họa)"))
    if not db.session.scalar(sa.select(RecognitionDecision.id).limit(1)):
        for slug, number, decided_on, title in DECISIONS:
            village = villages.get(slug)
            if village is not None:
                db.session.add(RecognitionDecision(village_id=village.id, number=number, decided_on=decided_on,
                                                   title=title, previous_title=Recognition.NONE,
                                                   entered_by_id=official_id))


def _seed_routes_crafts_baselines(anchor: datetime, villages: dict, official_id: int | None) -> None:
    today = anchor.date()
    if not db.session.scalar(sa.select(TourRoute.id).limit(1)):
        for name, months_ago, slugs, evidence in ROUTES:
            if all(slug in villages for slug in slugs):
                route = TourRoute(name=name, opened_on=add_months(today, -months_ago), evidence=evidence,
                                  entered_by_id=official_id, entered_at=anchor - timedelta(days=30 * months_ago))
                route.stops = [TourRouteStop(position=n, village_id=villages[slug].id)
                               for n, slug in enumerate(slugs, start=1)]
                db.session.add(route)
    if not db.session.scalar(sa.select(CraftRecognition.id).limit(1)):
        for craft, number, decided_on, slug in CRAFTS:
            db.session.add(CraftRecognition(craft_name=craft, number=number, decided_on=decided_on,
                                            village_id=villages[slug].id if slug in villages else None,
                                            evidence="Quyết định của UBND thành phố (minh họa)",
                                            entered_by_id=official_id,
                                            entered_at=datetime.combine(decided_on, datetime.min.time()) + timedelta(days=7)))
    if not db.session.scalar(sa.select(IndicatorBaseline.id).limit(1)):
        for indicator_id, value, num, den, source in BASELINES:
            db.session.add(IndicatorBaseline(indicator_id=indicator_id, value=value, numerator=num, denominator=den,
                                             source=source, entered_by_id=official_id,
                                             entered_at=datetime(2025, 2, 10, 2)))


def _sync_recognitions(villages: dict) -> None:
    """The seed resets titles from the data file; decisions on file win (see officials/models.py)."""
    db.session.flush()
    for decision in db.session.scalars(sa.select(RecognitionDecision).order_by(RecognitionDecision.decided_on,
                                                                               RecognitionDecision.id)):
        village = decision.village
        village.recognition = decision.title
        village.recognition_decision = decision.number
        village.recognition_year = decision.decided_on.year


def _seed_snapshots(today: date, seed: int) -> None:
    """24 monthly snapshots. Production growth is measured at each month's end by the indicator's own function
    (so the chart's line is the card's series); the catalog's shares cannot be re-measured in the past, so
    they ramp plausibly up to today's value. This month's point is today's measurement."""
    first = add_months(today.replace(day=1), -(MONTHS - 1))
    have = set(db.session.scalars(sa.select(StatSnapshot.month).distinct()))
    current = {r.indicator.id: r for r in ind.compute_all(today)}
    rng = random.Random(seed + 60)
    for k in range(MONTHS):
        month = add_months(first, k)
        if month in have:
            continue
        month_end = min(add_months(month, 1) - timedelta(days=1), today)
        ramp = 0.55 + 0.45 * k / (MONTHS - 1)
        growth_then = None
        if month != today.replace(day=1):
            growth_then = next(r for r in ind.results_from_totals(ind.platform_totals(month_end))
                               if r.indicator.id == "production_growth")
        for result in current.values():
            i = result.indicator
            value, num, den = _plain(result.value), _plain(result.numerator), _plain(result.denominator)
            if month == today.replace(day=1):
                pass  # this month's snapshot is today's measurement
            elif i.id == "production_growth":
                value, num, den = growth_then.value, _plain(growth_then.numerator), _plain(growth_then.denominator)
            elif i.id in ind.SHARE_FLAGS and den:
                num = min(den, round((num or 0) * ramp + rng.choice((0, 0, 1))))
                value = ind.share(num, den)
            elif i.id == "digitized_products":
                num = value = round((num or 0) * ramp)
            elif i.kind == "recorded" and value is not None:
                value = round(value * (0.8 + 0.2 * k / (MONTHS - 1)), 1)
            db.session.add(StatSnapshot(month=month, indicator_id=i.id, value=value, numerator=num, denominator=den,
                                        taken_at=datetime.combine(month_end, datetime.min.time())))
    db.session.flush()


def _plain(number):
    """A measured number as an ``int`` or ``float``: on PostgreSQL a SUM comes back as ``Decimal``, which does not
    multiply with the float ramp."""
    if isinstance(number, Decimal):
        return int(number) if number == number.to_integral_value() else float(number)
    return number
