"""Demo history for the shop ledger. The demo site takes cash on delivery only, so its shops collect the
cash and owe the platform its commission: every delivered demo order (from the officials' history) is
booked as paid at delivery, each shop paid what it owed up to September by bank transfer on 25 October
(a receipt), one shop got an adjustment, and a few shops have a payout account. Idempotent: nothing is
added once the ledger has lines. Deterministic: every date comes from the demo's anchor."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerLine, PayoutAccount
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.shops.models import Shop

RECEIPT_AT = datetime(2026, 10, 25, 3, 0)     # 10:00 in Hà Nội
SEPTEMBER_END = datetime(2026, 9, 30, 17, 0)  # 1 October 00:00 in Hà Nội
ADJUSTED_AT = datetime(2026, 10, 28, 2, 0)
BANKS = ("Vietcombank", "VietinBank", "BIDV", "Agribank", "Techcombank")


def seed_ledger_demo(admin_email: str) -> str:
    if db.session.scalar(sa.select(LedgerLine.id).limit(1)) is not None:
        return "Ledger: already seeded"
    admin = db.session.scalar(sa.select(User).where(User.email == admin_email))
    delivered = db.session.scalars(sa.select(Order).where(
        Order.payment_method == "cod", Order.status.in_(OrderStatus.DELIVERED_STATES), Order.paid_at.is_(None),
        Order.delivered_at.is_not(None)).order_by(Order.delivered_at, Order.id)).all()
    values = [{"oid": o.id, "at": o.delivered_at, "fee": orders.commission_for(o)} for o in delivered]
    if values:  # cash on delivery counts as paid when delivered (as deliver_order does); one executemany
        db.session.execute(sa.update(Order.__table__).where(Order.__table__.c.id == sa.bindparam("oid"))
                           .values(paid_at=sa.bindparam("at"), commission=sa.bindparam("fee")), values)
        for order, row in zip(delivered, values):
            set_committed_value(order, "paid_at", row["at"])
            set_committed_value(order, "commission", row["fee"])
    ledger.post_sales(delivered)
    shops = db.session.scalars(sa.select(Shop).order_by(Shop.id)).all()
    receipts = 0
    for shop in shops:
        owed = -ledger.balance(shop.id, before=SEPTEMBER_END)
        if owed > 0 and admin is not None:
            receipts += ledger.record_receipt(admin, shop, owed, f"DEMO-CK-{shop.id:04d}", token=f"demo-{shop.id}",
                                              at=RECEIPT_AT)
    if shops and admin is not None:
        ledger.adjust(admin, shops[0], 50_000, "Hoàn phí sàn: đơn giao chậm do đơn vị vận chuyển (minh họa)",
                      token="demo-adjust-1", at=ADJUSTED_AT)
    for n, shop in enumerate(shops[:5]):
        db.session.add(PayoutAccount(shop_id=shop.id, bank_name=BANKS[n], account_number=f"00{shop.id:04d}{n:03d}8899",
                                     account_name=(shop.maker_name or shop.name).upper()[:120]))
    db.session.flush()
    return f"Ledger: {len(delivered)} cash-on-delivery orders booked, {receipts} commission receipts"
