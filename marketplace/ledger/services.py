"""The shop ledger's services: post the journal lines of every money event, balances, monthly statements,
payouts (single, in batches for the bank), receipts of what a shop owed, adjustments.

Who owes whom comes from the order's payment method's ``collector`` (``registry.get(method).collector``),
never from its identifier:

- **sale** — booked when the order is *paid*: a platform-collected method when the provider's payment is
  settled (``payments.services.settle_payment``), cash on delivery when the order is delivered (the shop
  has the cash). Platform-collected: the order total is owed to the shop (``sale``), the commission is owed
  by it (``commission``) and, for a household seller, VAT and PIT on the goods revenue (the subtotal;
  shipping is not goods revenue) are withheld (``vat``, ``pit``). Cash on delivery: the cash is the shop's
  (``cod_sale``, no effect on the balance), only the commission is owed, by the shop; nothing is withheld
  (the platform holds no money to withhold from).
- **refund** — booked when it succeeds (``orders.services.mark_refund_succeeded``): platform-collected, the
  platform paid the buyer back out of the shop's balance (``refund``); cash on delivery, the shop paid it
  back itself (``cod_refund``, no effect). The commission and the withheld taxes are reversed in proportion
  to the refunded share of the order total, cumulatively (reversed so far = round(charged × refunded so far
  ÷ total)), so a full refund reverses exactly what was charged. A refund that fails after it succeeded is
  reversed by a mirror entry.
- **payout** — the platform transfers a positive balance to the shop's bank: once per payout id, only up
  to the balance; **receipt** — the shop paid what it owed (commission due); **adjustment** — an admin's
  correction with a reason.

Rounding: integer đồng, half up, per order (``round_half_up``). Nothing here commits; nothing here imports
``orders.services`` (orders call in)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.core.audit import record
from marketplace.core.money import format_vnd
from marketplace.core.spreadsheet import safe_row
from marketplace.core.time import VN_TZ, to_vn, utcnow
from marketplace.errors import Conflict, InvalidInput, NotAllowed, NotFound
from marketplace.extensions import db
from marketplace.ledger.models import (
    Account,
    Kind,
    LedgerLine,
    Payout,
    PayoutAccount,
    PayoutBatch,
    PayoutStatus,
    shop_effect,
)
from marketplace.orders.models import Order, order_number
from marketplace.payments import registry
from marketplace.payments.gateway import Collector
from marketplace.payments.models import Refund, RefundStatus
from marketplace.shops.access import can_handle_orders, handled_shops_clause
from marketplace.shops.models import Shop

BASIS_POINTS = 10_000
KIND_LABELS = {
    Kind.SALE: _l("Bán hàng – sàn thu hộ"),
    Kind.COD_SALE: _l("Bán hàng COD – cửa hàng tự thu"),
    Kind.COMMISSION: _l("Phí sàn"),
    Kind.VAT: _l("Khấu trừ thuế GTGT"),
    Kind.PIT: _l("Khấu trừ thuế TNCN"),
    Kind.REFUND: _l("Hoàn tiền – sàn trả người mua"),
    Kind.COD_REFUND: _l("Hoàn tiền COD – cửa hàng tự trả"),
    Kind.COMMISSION_REVERSAL: _l("Hoàn phí sàn"),
    Kind.VAT_REVERSAL: _l("Hoàn thuế GTGT đã khấu trừ"),
    Kind.PIT_REVERSAL: _l("Hoàn thuế TNCN đã khấu trừ"),
    Kind.PAYOUT: _l("Chi trả vào tài khoản ngân hàng"),
    Kind.RECEIPT: _l("Cửa hàng nộp tiền cho sàn"),
    Kind.ADJUSTMENT: _l("Điều chỉnh"),
    Kind.TRANSFER_HELD: _l("Tiền chuyển khoản không thuộc đơn nào (giữ để trả lại)"),
    Kind.TRANSFER_RETURNED: _l("Chuyển trả tiền cho người chuyển"),
}


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator ÷ denominator to the nearest đồng, halves up (numerator ≥ 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _require_admin(user) -> None:
    if getattr(user, "role", None) != "admin":
        raise NotAllowed(_("Chỉ quản trị viên mới làm được việc này."))


def _line(shop_id: int, entry: str, kind: str, debit: str, credit: str, amount: int, **values) -> LedgerLine | None:
    if amount <= 0:
        return None
    line = LedgerLine(shop_id=shop_id, entry=entry, kind=kind, debit=debit, credit=credit, amount=amount, **values)
    db.session.add(line)
    return line


_insert_new_by_dialect: dict = {}


def _insert_new(rows: list[dict]) -> int:
    """INSERT these lines in one statement, skipping any whose ``(entry, kind)`` is booked already (the
    unique constraint: replays and races add nothing). Returns how many were written."""
    if not rows:
        return 0
    db.session.flush()  # lines added through the session first (ids in order)
    conn = db.session.connection()
    dialect = conn.dialect.name
    insert = _insert_new_by_dialect.get(dialect)
    if insert is None:
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        insert = _insert_new_by_dialect[dialect] = make(LedgerLine.__table__).on_conflict_do_nothing(
            index_elements=["entry", "kind"]).returning(LedgerLine.__table__.c.id)
    # one statement for all rows (insertmanyvalues: compiled once, cached); RETURNING gives only the rows
    # inserted (rowcount is -1 with psycopg here)
    return len(conn.execute(insert, rows).all())


def _posted(entry: str) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine).where(LedgerLine.entry == entry)) > 0


# --- postings from the order and payment flows ---------------------------------------------------------

def sale_entry(order_id: int) -> str:
    return f"order-{order_id}-sale"


def post_sale(order: Order, at: datetime | None = None) -> bool:
    """Book a paid order (once): called where ``paid_at`` is set. True when lines were written. ``at``: when
    (default now; ``flask ledger backfill`` books older orders at their payment time)."""
    lines = _sale_lines(order, db.session.get(Shop, order.shop_id), at or utcnow())
    # one INSERT … ON CONFLICT (entry, kind) DO NOTHING: an entry booked before (or concurrently) adds nothing
    if not _insert_new(lines):
        return False
    if (order.refunded_amount or 0) > 0:  # a refund was booked before the payment (a provider's events
        common = {k: lines[0][k] for k in ("method", "collector", "order_id", "memo", "created_at")}
        _post_reversals(order, f"{sale_entry(order.id)}-refunded", common)  # out of order): give its share back
        db.session.flush()
    return True


def post_sales(orders: list[Order], at_attribute: str = "paid_at") -> int:
    """``post_sale`` for many orders at once (history: backfill, the demo), each at its own ``at_attribute``
    time, in one INSERT; orders already booked are skipped. Returns how many were booked."""
    if not orders:
        return 0
    booked = set(db.session.scalars(sa.select(LedgerLine.entry).where(
        LedgerLine.kind.in_((Kind.SALE, Kind.COD_SALE)), LedgerLine.order_id.in_([o.id for o in orders]))))
    shops = {s.id: s for s in db.session.scalars(sa.select(Shop).where(Shop.id.in_({o.shop_id for o in orders})))}
    rows, count = [], 0
    for order in orders:
        if sale_entry(order.id) in booked:
            continue
        rows += _sale_lines(order, shops[order.shop_id], getattr(order, at_attribute) or utcnow())
        count += 1
    if rows:
        db.session.execute(sa.insert(LedgerLine), rows)
    return count


def _sale_lines(order: Order, shop: Shop, at: datetime) -> list[dict]:
    """The lines that book one paid order (see the module docstring)."""
    entry = sale_entry(order.id)
    method = order.payment_method
    collector = registry.get(method).collector
    common = dict(shop_id=shop.id, entry=entry, method=method, collector=collector, order_id=order.id,
                  memo=order_number(order.id), created_at=at)
    lines = []
    if collector == Collector.PLATFORM:
        lines.append(dict(common, kind=Kind.SALE, debit=Account.PLATFORM_CASH, credit=Account.SHOP, amount=order.total))
    else:
        lines.append(dict(common, kind=Kind.COD_SALE, debit=Account.SHOP_CASH, credit=Account.SALES, amount=order.total))
    lines.append(dict(common, kind=Kind.COMMISSION, debit=Account.SHOP, credit=Account.COMMISSION,
                      amount=order.commission or 0))
    if collector == Collector.PLATFORM and shop.household_seller:
        vat, pit = withholding(order.subtotal)
        lines.append(dict(common, kind=Kind.VAT, debit=Account.SHOP, credit=Account.VAT, amount=vat))
        lines.append(dict(common, kind=Kind.PIT, debit=Account.SHOP, credit=Account.PIT, amount=pit))
    return [line for line in lines if line["amount"] > 0]


def withholding(goods_revenue: int) -> tuple[int, int]:
    """(VAT, PIT) withheld on this much goods revenue at the configured rates (basis points), half up."""
    cfg = current_app.config
    return (round_half_up(goods_revenue * int(cfg["TAX_WITHHOLDING_VAT_BP"]), BASIS_POINTS),
            round_half_up(goods_revenue * int(cfg["TAX_WITHHOLDING_PIT_BP"]), BASIS_POINTS))


def _order_net(order_id: int, kind: str) -> int:
    """What lines of this kind on this order added up to, net of corrections (as an absolute amount)."""
    net = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        sa.case((LedgerLine.reverses.is_(None), LedgerLine.amount), else_=-LedgerLine.amount)), 0))
        .where(LedgerLine.order_id == order_id, LedgerLine.kind == kind))
    return int(net)


def refund_entry(refund_id: int) -> str:
    return f"refund-{refund_id}"


def post_refund(refund: Refund, at: datetime | None = None) -> bool:
    """Book a refund that has succeeded (once), with the proportional reversals."""
    entry = refund_entry(refund.id)
    if _posted(entry):
        return False
    order = db.session.get(Order, refund.order_id)
    collector = registry.get(refund.method).collector
    common = dict(method=refund.method, collector=collector, order_id=order.id, refund_id=refund.id,
                  memo=order_number(order.id), created_at=at or utcnow())
    if collector == Collector.PLATFORM:
        _line(order.shop_id, entry, Kind.REFUND, Account.SHOP, Account.PLATFORM_CASH, refund.amount, **common)
    else:
        _line(order.shop_id, entry, Kind.COD_REFUND, Account.SALES, Account.SHOP_CASH, refund.amount, **common)
    _post_reversals(order, entry, common)
    db.session.flush()
    return True


def _post_reversals(order: Order, entry: str, common: dict) -> None:
    """Give back the refunded share of the commission and withheld taxes: reversed so far becomes
    round(charged × refunded so far ÷ total) (cumulative, so the roundings never drift)."""
    refunded = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.SUCCEEDED)))
    refunded = min(refunded, order.total)
    for charged_kind, reversal_kind, account in ((Kind.COMMISSION, Kind.COMMISSION_REVERSAL, Account.COMMISSION),
                                                 (Kind.VAT, Kind.VAT_REVERSAL, Account.VAT),
                                                 (Kind.PIT, Kind.PIT_REVERSAL, Account.PIT)):
        charged = _order_net(order.id, charged_kind)
        due = round_half_up(charged * refunded, order.total) - _order_net(order.id, reversal_kind)
        _line(order.shop_id, entry, reversal_kind, account, Account.SHOP, due, **common)


# --- bank money that pays no order (the platform's own lines: no shop) -------------------------------------

def bank_entry(transaction_row_id: int, excess: bool = False) -> str:
    """The entry of an incoming transfer's money that paid no order: the whole transfer, or its excess."""
    return f"banktxn-{transaction_row_id}-excess" if excess else f"banktxn-{transaction_row_id}"


def post_transfer_held(entry: str, amount: int, method: str, memo: str | None = None, actor=None) -> bool:
    """Money that arrived on the collecting account and pays no order (an unmatched, duplicate or refused
    transfer; an overpayment's excess): in the platform's cash, owed back to its payer (``bank_suspense``).
    Once per entry; True when written."""
    return bool(_insert_new([_bank_line(entry, Kind.TRANSFER_HELD, Account.PLATFORM_CASH, Account.BANK_SUSPENSE,
                                        amount, method, memo, actor)]))


def post_transfer_returned(entry: str, method: str, memo: str | None = None, actor=None) -> int:
    """The held money of ``entry`` was sent back to its payer (once): the amount written (0: nothing held,
    or returned already)."""
    held = db.session.scalar(sa.select(LedgerLine.amount).where(LedgerLine.entry == entry,
                                                                  LedgerLine.kind == Kind.TRANSFER_HELD))
    if not held:
        return 0
    row = _bank_line(entry, Kind.TRANSFER_RETURNED, Account.BANK_SUSPENSE, Account.PLATFORM_CASH, held, method, memo,
                     actor)
    return held if _insert_new([row]) else 0


def held_for_payers(method: str | None = None) -> int:
    """Money on the collecting account owed back to payers (held, not yet returned)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(sa.case((LedgerLine.credit == Account.BANK_SUSPENSE, LedgerLine.amount),
                                                           else_=-LedgerLine.amount)), 0)).where(
        sa.or_(LedgerLine.credit == Account.BANK_SUSPENSE, LedgerLine.debit == Account.BANK_SUSPENSE))
    if method is not None:
        query = query.where(LedgerLine.method == method)
    return int(db.session.scalar(query))


def _bank_line(entry: str, kind: str, debit: str, credit: str, amount: int, method: str, memo: str | None,
               actor) -> dict:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(_("Số tiền phải là số đồng nguyên dương."))
    return dict(shop_id=None, entry=entry, kind=kind, debit=debit, credit=credit, amount=amount, method=method,
                collector=Collector.PLATFORM, order_id=None, memo=(memo or None) and memo[:300],
                actor_id=getattr(actor, "id", None), created_at=utcnow())


def backfill() -> dict:
    """Post the lines of every paid order, succeeded refund and paid payout that has none yet (data from
    before the ledger), each at the time it happened. Idempotent."""
    counts = {"sales": 0, "refunds": 0, "payouts": 0}
    paid = db.session.scalars(sa.select(Order).where(Order.paid_at.is_not(None)).order_by(Order.id)).all()
    counts["sales"] = post_sales(list(paid))
    for refund in db.session.scalars(sa.select(Refund).where(Refund.status == RefundStatus.SUCCEEDED)
                                     .order_by(Refund.id)):
        counts["refunds"] += post_refund(refund, at=refund.created_at)
    for payout in db.session.scalars(sa.select(Payout).where(Payout.status == PayoutStatus.PAID).order_by(Payout.id)):
        if not _posted(payout_entry(payout.id)):
            _line(payout.shop_id, payout_entry(payout.id), Kind.PAYOUT, Account.SHOP, Account.PLATFORM_CASH,
                  payout.amount, payout_id=payout.id, memo=payout.reference, actor_id=payout.actor_id,
                  created_at=payout.paid_at or payout.created_at)
            counts["payouts"] += 1
    db.session.flush()
    return counts


def void_refund(refund: Refund) -> bool:
    """A refund booked as succeeded that the provider then reports failed: mirror its lines (once)."""
    entry = refund_entry(refund.id)
    return _mirror(entry, f"{entry}-void", memo=_("Hoàn tiền thất bại"))


def _mirror(entry: str, correction: str, memo: str, actor=None) -> bool:
    if _posted(correction):
        return False
    lines = db.session.scalars(sa.select(LedgerLine).where(LedgerLine.entry == entry).order_by(LedgerLine.id)).all()
    for line in lines:
        _line(line.shop_id, correction, line.kind, line.credit, line.debit, line.amount, method=line.method,
              collector=line.collector, order_id=line.order_id, refund_id=line.refund_id, payout_id=line.payout_id,
              reverses=entry, memo=memo[:300], actor_id=getattr(actor, "id", None), created_at=utcnow())
    db.session.flush()
    return bool(lines)


# --- balances ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Who owes whom: ``balance`` > 0 the platform owes the shop, < 0 the shop owes the platform."""

    balance: int

    @property
    def platform_owes(self) -> int:
        return max(self.balance, 0)

    @property
    def shop_owes(self) -> int:
        return max(-self.balance, 0)

    @property
    def text(self) -> str:
        if self.balance > 0:
            return _("Sàn nợ cửa hàng %(amount)s", amount=_vnd(self.balance))
        if self.balance < 0:
            return _("Cửa hàng nợ sàn %(amount)s", amount=_vnd(-self.balance))
        return _("Đã cân bằng: không bên nào nợ bên nào")


def _vnd(amount: int) -> str:
    return format_vnd(amount)


def balance(shop_id: int, before: datetime | None = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(shop_effect()), 0)).where(LedgerLine.shop_id == shop_id)
    if before is not None:
        query = query.where(LedgerLine.created_at < before)
    return int(db.session.scalar(query))


def position(shop: Shop) -> Position:
    return Position(balance(shop.id))


def balances() -> dict[int, int]:
    """Every shop's balance (shops with no lines are absent)."""
    rows = db.session.execute(sa.select(LedgerLine.shop_id, sa.func.sum(shop_effect()))
                              .where(LedgerLine.shop_id.is_not(None)).group_by(LedgerLine.shop_id))
    return {shop_id: int(total) for shop_id, total in rows}


def pending_payouts(shop_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payout.amount), 0)).where(
        Payout.shop_id == shop_id, Payout.status == PayoutStatus.PENDING)))


def available_for_payout(shop_id: int) -> int:
    return max(balance(shop_id) - pending_payouts(shop_id), 0)


# --- monthly statements (Hà Nội months) -------------------------------------------------------------------

def parse_month(text: str | None) -> date:
    """'YYYY-MM' → the month's first day; None or '' → this month in Hà Nội; anything else InvalidInput."""
    if not text:
        now = datetime.now(VN_TZ)
        return date(now.year, now.month, 1)
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        first = date(int(year), int(month), 1)
    except ValueError:
        raise InvalidInput(_("Tháng không hợp lệ (YYYY-MM)."), field="month") from None
    if not 2000 <= first.year <= 2100:
        raise InvalidInput(_("Tháng không hợp lệ (YYYY-MM)."), field="month")
    return first


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """The naive-UTC instants where this Hà Nội month starts and the next one starts."""
    nxt = _next_month(first)
    start = datetime(first.year, first.month, 1, tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)
    return start, end


@dataclass
class StatementRow:
    line: LedgerLine
    running: int

    @property
    def label(self) -> str:
        text = str(KIND_LABELS.get(self.line.kind, self.line.kind))
        return _("%(label)s (bút toán sửa)", label=text) if self.line.reverses else text


@dataclass
class MonthStatement:
    shop: Shop
    month: date
    opening: int
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.rows[-1].running if self.rows else self.opening

    @property
    def position(self) -> Position:
        return Position(self.closing)

    @property
    def commission_due(self) -> bool:
        """The shop owes the platform (typically a cash-on-delivery shop's commission): the statement is a
        'commission due' notice rather than a payout statement."""
        return self.closing < 0

    def total(self, *kinds: str) -> int:
        """The net effect on the balance of this month's lines of these kinds."""
        return sum(r.line.effect for r in self.rows if r.line.kind in kinds)

    def gross(self, *kinds: str) -> int:
        """Amounts of this month's lines of these kinds, net of corrections (also for lines that do not touch
        the balance, such as cash-on-delivery sales)."""
        return sum(-r.line.amount if r.line.reverses else r.line.amount for r in self.rows if r.line.kind in kinds)


def month_statement(shop: Shop, first: date) -> MonthStatement:
    start, end = month_bounds(first)
    statement = MonthStatement(shop, first, balance(shop.id, before=start))
    lines = db.session.scalars(sa.select(LedgerLine).where(
        LedgerLine.shop_id == shop.id, LedgerLine.created_at >= start, LedgerLine.created_at < end)
        .order_by(LedgerLine.created_at, LedgerLine.id)).all()
    running = statement.opening
    for line in lines:
        running += line.effect
        statement.rows.append(StatementRow(line, running))
    return statement


def months_with_lines(shop_id: int | None = None) -> list[date]:
    """The Hà Nội months that have lines (newest first), plus this month."""
    query = sa.select(sa.func.min(LedgerLine.created_at), sa.func.max(LedgerLine.created_at))
    if shop_id is not None:
        query = query.where(LedgerLine.shop_id == shop_id)
    low, high = db.session.execute(query).one()
    this = parse_month(None)
    months = {this}
    if low is not None:
        first = to_vn(low).date().replace(day=1)
        last = max(to_vn(high).date().replace(day=1), this)
        while first <= last:
            months.add(first)
            first = _next_month(first)
    return sorted(months, reverse=True)


STATEMENT_COLUMNS = ("ngày (giờ Hà Nội)", "bút toán", "loại", "đơn hàng", "phương thức", "ghi chú",
                     "số tiền (đồng)", "ảnh hưởng số dư (đồng)", "số dư (đồng)")


def statement_table(statement: MonthStatement) -> list[list]:
    """The statement as rows (header, opening, every line, closing): one source for CSV and XLSX."""
    month = statement.month.strftime("%Y-%m")
    rows = [list(STATEMENT_COLUMNS),
            [f"{month}-01", "", "số dư đầu kỳ", "", "", statement.shop.name, "", "", statement.opening]]
    for r in statement.rows:
        line = r.line
        rows.append([to_vn(line.created_at).strftime("%Y-%m-%d %H:%M"), line.entry, r.label,
                     order_number(line.order_id) if line.order_id else "", line.method or "", line.memo or "",
                     line.amount, line.effect, r.running])
    rows.append(["", "", "số dư cuối kỳ", "", "", statement.position.text, "", "", statement.closing])
    return rows


def statement_csv(statement: MonthStatement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in statement_table(statement):
        writer.writerow(safe_row(row))
    return out.getvalue()


def statement_xlsx(statement: MonthStatement) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{statement.month:%Y-%m}"
    for row in statement_table(statement):
        ws.append(safe_row(row))
    for column in ("G", "H", "I"):
        for cell in ws[column][1:]:
            cell.number_format = "#,##0"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class PlatformTotal:
    method: str | None
    kind: str
    amount: int  # net of corrections


def platform_totals(first: date) -> list[PlatformTotal]:
    """The month's lines over every shop, per payment method and kind (net of corrections)."""
    start, end = month_bounds(first)
    signed = sa.case((LedgerLine.reverses.is_(None), LedgerLine.amount), else_=-LedgerLine.amount)
    rows = db.session.execute(
        sa.select(LedgerLine.method, LedgerLine.kind, sa.func.sum(signed))
        .where(LedgerLine.created_at >= start, LedgerLine.created_at < end)
        .group_by(LedgerLine.method, LedgerLine.kind).order_by(LedgerLine.method, LedgerLine.kind))
    return [PlatformTotal(method, kind, int(total)) for method, kind, total in rows]


# --- payouts ------------------------------------------------------------------------------------------------

def _lock_shop(shop_id: int) -> Shop:
    """The shop's row, locked on PostgreSQL until the commit: payouts of one shop are decided one at a time."""
    shop = db.session.scalar(sa.select(Shop).where(Shop.id == shop_id).with_for_update())
    if shop is None:
        raise NotFound(_("Không tìm thấy cửa hàng."))
    return shop


def create_payout(user, shop: Shop, amount: int | None = None, batch: PayoutBatch | None = None) -> Payout:
    """A pending payout of ``amount`` (default: all that is available), never above the balance less the
    payouts already pending."""
    _require_admin(user)
    _lock_shop(shop.id)
    available = available_for_payout(shop.id)
    if amount is None:
        amount = available
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput(_("Số tiền không hợp lệ."), field="amount")
    if amount > available:
        raise InvalidInput(_("Số tiền chi trả lớn hơn số dư của cửa hàng (%(amount)s).", amount=_vnd(available)),
                           field="amount")
    payout = Payout(shop_id=shop.id, amount=amount, status=PayoutStatus.PENDING, actor_id=user.id, batch=batch,
                    created_at=utcnow())
    db.session.add(payout)
    db.session.flush()
    record(user, "payout.create", "shop", shop.id, after={"payout": payout.id, "amount": amount})
    return payout


def _clean_reference(reference: str | None) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_("Nhập mã giao dịch của ngân hàng."), field="reference")
    return reference[:120]


def payout_entry(payout_id: int) -> str:
    return f"payout-{payout_id}"


def pay_payout(user, payout: Payout, reference: str | None) -> bool:
    """The bank transferred this payout: book it (once — a second call with the same payout id changes
    nothing and returns False). Refused when the shop's balance no longer covers it."""
    _require_admin(user)
    reference = _clean_reference(reference)
    _lock_shop(payout.shop_id)
    # The conditional UPDATE comes first: it takes the write lock (SQLite has no row locks), so the balance
    # below is read by the one click that won, after any earlier payout was committed.
    now = utcnow()
    result = db.session.execute(
        sa.update(Payout).where(Payout.id == payout.id, Payout.status == PayoutStatus.PENDING)
        .values(status=PayoutStatus.PAID, reference=reference, paid_at=now).execution_options(synchronize_session=False))
    db.session.expire(payout)
    if result.rowcount != 1:
        if payout.status == PayoutStatus.PAID:
            return False
        raise Conflict(_("Khoản chi trả này đã bị hủy."))
    if payout.amount > balance(payout.shop_id):  # the Conflict rolls the UPDATE back with the transaction
        raise Conflict(_("Số dư của cửa hàng không còn đủ cho khoản chi trả này: hãy hủy nó."))
    _line(payout.shop_id, payout_entry(payout.id), Kind.PAYOUT, Account.SHOP, Account.PLATFORM_CASH, payout.amount,
          payout_id=payout.id, memo=reference, actor_id=user.id, created_at=now)
    db.session.flush()
    record(user, "payout.pay", "shop", payout.shop_id, after={"payout": payout.id, "amount": payout.amount,
                                                             "reference": reference})
    return True


def cancel_payout(user, payout: Payout) -> bool:
    _require_admin(user)
    result = db.session.execute(
        sa.update(Payout).where(Payout.id == payout.id, Payout.status == PayoutStatus.PENDING)
        .values(status=PayoutStatus.CANCELLED).execution_options(synchronize_session=False))
    db.session.expire(payout)
    if result.rowcount == 1:
        record(user, "payout.cancel", "shop", payout.shop_id, after={"payout": payout.id})
    return result.rowcount == 1


def record_payout(user, shop: Shop, amount: int, reference: str | None = None) -> Payout:
    """One payout made at once (create + paid): only admins, only up to the balance, with the bank's reference.
    The service itself refuses anyone else."""
    _require_admin(user)
    reference = _clean_reference(reference)
    payout = create_payout(user, shop, amount)
    pay_payout(user, payout, reference)
    return payout


def create_payout_batch(user) -> PayoutBatch | None:
    """A pending payout for every shop with something available and a bank account to send it to; None when
    there is none."""
    _require_admin(user)
    with_account = set(db.session.scalars(sa.select(PayoutAccount.shop_id)))
    candidates = [shop_id for shop_id, total in sorted(balances().items()) if total > 0 and shop_id in with_account]
    batch = None
    for shop_id in candidates:
        if available_for_payout(shop_id) <= 0:
            continue
        if batch is None:
            batch = PayoutBatch(status=PayoutStatus.PENDING, actor_id=user.id)
            db.session.add(batch)
            db.session.flush()
        create_payout(user, db.session.get(Shop, shop_id), batch=batch)
    if batch is not None:
        record(user, "payout_batch.create", "payout_batch", batch.id, after={"payouts": len(batch.payouts)})
    return batch


BATCH_COLUMNS = ("payout_id", "shop_id", "shop", "bank", "account_number", "account_name", "amount_vnd", "memo")


def batch_csv(batch: PayoutBatch) -> str:
    """The batch for the bank's bulk-transfer upload: one row per pending payout."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BATCH_COLUMNS)
    for payout in batch.payouts:
        if payout.status != PayoutStatus.PENDING:
            continue
        account = db.session.get(PayoutAccount, payout.shop_id)
        writer.writerow(safe_row([payout.id, payout.shop_id, payout.shop.name, account.bank_name if account else "",
                                  account.account_number if account else "", account.account_name if account else "",
                                  payout.amount, f"CLN chi tra {payout.id}"]))
    return out.getvalue()


def mark_batch_paid(user, batch: PayoutBatch, reference: str | None) -> int:
    """The bank executed the batch: every pending payout in it is paid (once). Returns how many were booked."""
    _require_admin(user)
    reference = _clean_reference(reference)
    booked = sum(pay_payout(user, p, reference) for p in list(batch.payouts) if p.status == PayoutStatus.PENDING)
    db.session.execute(sa.update(PayoutBatch).where(PayoutBatch.id == batch.id)
                       .values(status=PayoutStatus.PAID, reference=reference, paid_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.expire(batch)
    return booked


# --- receipts and adjustments ----------------------------------------------------------------------------

def _token_entry(prefix: str, token: str | None) -> str:
    token = (token or "").strip()
    if not token or len(token) > 48 or not token.replace("-", "").isalnum():
        raise InvalidInput(_("Biểu mẫu đã hết hạn, vui lòng tải lại trang."), field="token")
    return f"{prefix}-{token}"


def _int_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(_("Số tiền không hợp lệ."), field="amount")
    return amount


def record_receipt(user, shop: Shop, amount: int, reference: str | None, token: str,
                   at: datetime | None = None) -> bool:
    """The shop transferred what it owed (commission due) to the platform; at most what it owes. Replays of
    the same form (``token``) add nothing (returns False). ``at``: when (default now; the demo's history)."""
    _require_admin(user)
    amount = _int_amount(amount)
    reference = _clean_reference(reference)
    entry = _token_entry("receipt", token)
    if _posted(entry):
        return False
    _lock_shop(shop.id)
    owed = max(-balance(shop.id, before=at), 0)
    if amount < 1 or amount > owed:
        raise InvalidInput(_("Cửa hàng chỉ đang nợ sàn %(amount)s.", amount=_vnd(owed)), field="amount")
    _line(shop.id, entry, Kind.RECEIPT, Account.PLATFORM_CASH, Account.SHOP, amount, memo=reference, actor_id=user.id,
          created_at=at or utcnow())
    db.session.flush()
    record(user, "ledger.receipt", "shop", shop.id, after={"amount": amount, "reference": reference})
    return True


def adjust(user, shop: Shop, amount: int, reason: str | None, token: str, at: datetime | None = None) -> bool:
    """An admin's correction: ``amount`` > 0 the platform owes the shop more, < 0 the shop owes more. A
    reason is required; replays of the same form add nothing."""
    _require_admin(user)
    amount = _int_amount(amount)
    if amount == 0 or abs(amount) > 2_000_000_000:
        raise InvalidInput(_("Số tiền điều chỉnh phải khác 0."), field="amount")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise InvalidInput(_("Nhập lý do điều chỉnh."), field="reason")
    entry = _token_entry("adjust", token)
    if _posted(entry):
        return False
    debit, credit = (Account.ADJUSTMENTS, Account.SHOP) if amount > 0 else (Account.SHOP, Account.ADJUSTMENTS)
    _line(shop.id, entry, Kind.ADJUSTMENT, debit, credit, abs(amount), memo=reason[:300], actor_id=user.id,
          created_at=at or utcnow())
    db.session.flush()
    record(user, "ledger.adjust", "shop", shop.id, after={"amount": amount, "reason": reason[:300]})
    return True


def set_household_seller(user, shop: Shop, household: bool) -> None:
    """Whether VAT and PIT are withheld on this shop's platform-collected sales from now on."""
    _require_admin(user)
    before = shop.household_seller
    shop.household_seller = bool(household)
    db.session.flush()
    record(user, "shop.household_seller", "shop", shop.id, before={"household": before}, after={"household": household})


def save_payout_account(user, shop: Shop, bank_name: str, account_number: str, account_name: str) -> PayoutAccount:
    if not can_handle_orders(user, shop):
        raise NotAllowed(_("Bạn không quản lý cửa hàng này."))
    bank_name, account_name = (bank_name or "").strip(), (account_name or "").strip()
    account_number = "".join((account_number or "").split())
    if not bank_name:
        raise InvalidInput(_("Nhập tên ngân hàng."), field="bank_name")
    if not account_number.isdigit() or not 6 <= len(account_number) <= 19:
        raise InvalidInput(_("Số tài khoản gồm 6–19 chữ số."), field="account_number")
    if not account_name:
        raise InvalidInput(_("Nhập tên chủ tài khoản."), field="account_name")
    account = db.session.get(PayoutAccount, shop.id) or PayoutAccount(shop_id=shop.id)
    account.bank_name, account.account_number, account.account_name = bank_name[:120], account_number, account_name[:120]
    db.session.add(account)
    db.session.flush()
    record(user, "shop.payout_account", "shop", shop.id, after={"bank": account.bank_name})
    return account


def shops_for(user) -> list[Shop]:
    """The shops whose statements this user may read: those whose orders they handle (an admin: all)."""
    return list(db.session.scalars(sa.select(Shop).where(handled_shops_clause(user)).order_by(Shop.id)))
