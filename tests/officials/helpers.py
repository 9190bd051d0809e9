"""Small hand-built worlds for the officials' tests."""
from __future__ import annotations

import itertools
from datetime import date, datetime

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import ProductStatus, Recognition
from marketplace.extensions import db
from marketplace.officials.models import ExternalPresence
from marketplace.orders.models import Checkout, Order, OrderLine, OrderStatus
from marketplace.orders.services import refund_order
from marketplace.payments.models import Refund
from marketplace.shops.models import ShopStatus
from tests.factories import make_ip, make_product, make_shop, make_user, make_village

AS_OF = date(2026, 6, 30)
LONG = "Bình gốm men lam vẽ tay, nung ở 1.200 độ trong lò gas của gia đình tại làng."
_tokens = itertools.count(1)


def make_order(shop, village, status: str, delivered_at: datetime | None, lines: list[tuple[int, int]],
               buyer=None) -> Order:
    """``lines``: (unit_price, quantity). A delivered cash-on-delivery order is paid at delivery. Refunds go
    through the app's refund flow (``refund`` below), never by writing refunded amounts by hand."""
    subtotal = sum(p * q for p, q in lines)
    checkout = Checkout(token=f"t-{next(_tokens)}", total=subtotal, buyer_id=buyer.id if buyer else None)
    db.session.add(checkout)
    db.session.flush()
    order = Order(checkout_id=checkout.id, shop_id=shop.id, status=status, payment_method="cod", subtotal=subtotal,
                  shipping_fee=0, total=subtotal, delivered_at=delivered_at, paid_at=delivered_at,
                  buyer_id=buyer.id if buyer else None,
                  recipient_name="Nguyễn Thị Bí Mật", phone="0912345678", email="bimat@example.vn",
                  street="12 Ngõ Riêng Tư", ward="Phường Kín", province="Hà Nội")
    for price, qty in lines:
        order.lines.append(OrderLine(shop_id=shop.id, village_id=village.id, title="Bình gốm", variant_name="Lớn",
                                     unit_price=price, quantity=qty))
    db.session.add(order)
    db.session.flush()
    return order


def refund(order: Order, amount: int, at: datetime) -> Refund:
    """Refund through ``orders.services.refund_order`` as the shop's owner (cash on delivery: booked as
    succeeded at once), then date the refund row ``at`` (naive UTC) — the flow stamps the real clock."""
    owner = db.session.get(User, order.shop.owner_id)
    row = refund_order(owner, db.session.get(Order, order.id), amount, "hàng lỗi")
    db.session.execute(sa.update(Refund).where(Refund.id == row.id).values(created_at=at))
    db.session.expire_all()
    return db.session.get(Refund, row.id)


def build_world() -> dict:
    """Nine villages, each an edge case (see tests/officials/test_indicators.py)."""
    w = {}
    v1 = w["v1"] = make_village(slug="v1-ok", commune_vi="xã Bát Tràng", category="ceramics")
    s1 = make_shop(village=v1, slug="s1")
    make_product(shop=s1, images=1, description_vi=LONG, ocop_stars=4, ocop_issued_on=date(2025, 1, 10))
    ip = make_ip(village=v1, number="4-2020-00001")
    make_product(shop=s1, ip_protection_id=ip.id)  # IP-covered; no photo, short description → not digitized
    w["s1"] = s1

    v2 = w["v2"] = make_village(slug="v2-suspended", recognition=Recognition.CRAFT_VILLAGE,
                                commune_vi="xã Bát Tràng")
    s2 = make_shop(village=v2, slug="s2", status=ShopStatus.SUSPENDED)
    make_product(shop=s2, images=1, description_vi=LONG)

    v3 = w["v3"] = make_village(slug="v3-draft", commune_vi="xã Vạn Phúc", category="textiles")
    make_product(shop=make_shop(village=v3, slug="s3"), status=ProductStatus.DRAFT, images=1, description_vi=LONG)

    v4 = w["v4"] = make_village(slug="v4-archived", commune_vi="xã Vạn Phúc", category="textiles")
    make_product(shop=make_shop(village=v4, slug="s4"), status=ProductStatus.ARCHIVED)

    v5 = w["v5"] = make_village(slug="v5-unverified", commune_vi="xã Vạn Phúc", category="textiles")
    p5 = make_product(shop=make_shop(village=v5, slug="s5", verified=False), ocop_stars=3,
                      ocop_issued_on=date(2022, 3, 1))
    p5.ocop_expires_on = date(2025, 3, 1)

    v6 = w["v6"] = make_village(slug="v6-shopee", commune_vi="xã Chuông", category="other")
    db.session.add(ExternalPresence(village_id=v6.id, platform="Shopee", evidence="ảnh chụp gian hàng",
                                    evidence_date=date(2026, 4, 2)))

    v7 = w["v7"] = make_village(slug="v7-stale", commune_vi="xã Chuông", category="other")
    db.session.add(ExternalPresence(village_id=v7.id, platform="Lazada", evidence="ảnh chụp cũ",
                                    evidence_date=date(2025, 5, 31)))

    v8 = w["v8"] = make_village(slug="v8-unrecognized", recognition=Recognition.NONE, commune_vi="xã Chuông")
    s8 = make_shop(village=v8, slug="s8")
    make_product(shop=s8, images=1, description_vi=LONG, ocop_stars=5, ocop_issued_on=date(2026, 1, 1))
    w["s8"] = s8

    v9 = w["v9"] = make_village(slug="v9-no-cert", commune_vi="xã Bát Tràng")
    s9 = make_shop(village=v9, slug="s9")
    no_number = make_ip(village=v9, number=None)
    make_product(shop=s9, ip_protection_id=no_number.id)
    w["s9"] = s9

    buyer = w["buyer"] = make_user(Role.SHOPPER, name="Nguyễn Thị Bí Mật", email="bimat@example.vn")
    # Production value of v1: 1.000.000 ₫ in the same period last year, 1.100.000 ₫ this year.
    make_order(s1, v1, OrderStatus.COMPLETED, datetime(2025, 3, 10, 8), [(500_000, 2)], buyer)
    make_order(s1, v1, OrderStatus.DELIVERED, datetime(2025, 8, 1, 8), [(9_999_000, 1)], buyer)  # after 30/06
    partly = make_order(s1, v1, OrderStatus.DELIVERED, datetime(2026, 2, 1, 8), [(400_000, 3)], buyer)
    make_order(s1, v1, OrderStatus.CANCELLED, None, [(5_000_000, 1)], buyer)
    fully = make_order(s1, v1, OrderStatus.DELIVERED, datetime(2026, 3, 5, 8), [(700_000, 1)], buyer)
    make_order(s1, v1, OrderStatus.SHIPPED, None, [(300_000, 1)], buyer)
    make_order(s8, v8, OrderStatus.DELIVERED, datetime(2026, 7, 2, 8), [(800_000, 1)], buyer)  # after as_of
    refund(partly, 100_000, datetime(2026, 2, 3, 8))
    refund(fully, 700_000, datetime(2026, 3, 6, 8))  # the whole order: it becomes "refunded"
    db.session.commit()
    return w
