"""The shop ledger: journal lines (never updated, never deleted), payouts and payout batches.

A journal line moves ``amount`` (int đồng, > 0) from its ``credit`` account to its ``debit`` account, so
every line — and every entry made of lines — is balanced by construction. One account per shop is the
shop's account with the platform (``Account.SHOP``): a line crediting it means the platform owes the shop
more, a line debiting it means the shop owes the platform more. The shop's balance is credits − debits
of that account (> 0: the platform owes the shop; < 0: the shop owes the platform). The other accounts
say where the money is (the platform's collection account, the shop's own till) or what it is
(commission, withheld tax, adjustments). Lines are written by ``marketplace.ledger.services`` only.

``(entry, kind)`` is unique: posting the same event twice (a replayed webhook, a retried payout) adds
nothing. A correction is a new entry whose lines mirror the ones it corrects (``reverses``).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class Account:
    SHOP = "shop"                    # the shop's account with the platform (its balance)
    PLATFORM_CASH = "platform_cash"  # buyers' money the platform collected (card, VietQR, VNPay) and pays out
    SHOP_CASH = "shop_cash"          # cash the shop collected itself (cash on delivery)
    SALES = "sales"                  # the shop's goods and shipping revenue
    COMMISSION = "commission"        # the platform's commission income
    VAT = "vat_withheld"             # VAT withheld for the state (household sellers, platform-collected)
    PIT = "pit_withheld"             # personal income tax withheld for the state
    ADJUSTMENTS = "adjustments"      # corrections an admin made, with a reason
    # Money on the collecting bank account that pays no order (an unmatched or duplicate transfer, an
    # overpayment's excess): owed back to whoever sent it until it is returned. Its lines have no shop.
    BANK_SUSPENSE = "bank_suspense"


class Kind:
    SALE = "sale"                          # platform collected the order total: platform owes shop
    COD_SALE = "cod_sale"                  # the shop collected the cash itself: no money owed either way
    COMMISSION = "commission"              # shop owes platform
    VAT = "vat"                            # withheld from what the platform owes
    PIT = "pit"
    REFUND = "refund"                      # the platform paid the buyer back, from the shop's balance
    COD_REFUND = "cod_refund"              # the shop paid the buyer back itself
    COMMISSION_REVERSAL = "commission_rev"  # the refunded share of the commission, back to the shop
    VAT_REVERSAL = "vat_rev"
    PIT_REVERSAL = "pit_rev"
    PAYOUT = "payout"                      # the platform transferred the shop's balance to its bank
    RECEIPT = "receipt"                    # the shop paid what it owed (commission due) to the platform
    ADJUSTMENT = "adjustment"
    TRANSFER_HELD = "transfer_held"          # a transfer (or its excess) received that pays no order
    TRANSFER_RETURNED = "transfer_returned"  # … sent back to its payer
    CHOICES = (SALE, COD_SALE, COMMISSION, VAT, PIT, REFUND, COD_REFUND, COMMISSION_REVERSAL, VAT_REVERSAL,
               PIT_REVERSAL, PAYOUT, RECEIPT, ADJUSTMENT, TRANSFER_HELD, TRANSFER_RETURNED)


class LedgerImmutable(Exception):
    """A journal line was about to be updated or deleted: corrections are new lines."""


class LedgerLine(db.Model):
    __tablename__ = "ledger_lines"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("debit <> credit", name="two_accounts"),
        sa.UniqueConstraint("entry", "kind", name="uq_ledger_lines_entry_kind"),
        sa.Index("ix_ledger_lines_shop_created", "shop_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the platform's own bank lines (``Account.BANK_SUSPENSE``), part of no shop's balance
    shop_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    entry: Mapped[str] = mapped_column(sa.String(64))  # the event: "order-12-sale", "refund-7", "payout-3"…
    kind: Mapped[str] = mapped_column(sa.String(24))   # Kind
    debit: Mapped[str] = mapped_column(sa.String(24))  # Account
    credit: Mapped[str] = mapped_column(sa.String(24))
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # int đồng
    method: Mapped[str | None] = mapped_column(sa.String(16))     # the payment method's identifier
    collector: Mapped[str | None] = mapped_column(sa.String(16))  # who collected the buyer's money
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id", ondelete="SET NULL"))
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payouts.id", ondelete="SET NULL"))
    reverses: Mapped[str | None] = mapped_column(sa.String(64))  # the entry this one corrects
    memo: Mapped[str | None] = mapped_column(sa.String(300))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)

    @property
    def effect(self) -> int:
        """What this line does to the shop's balance (+: the platform owes the shop more)."""
        if self.credit == Account.SHOP:
            return self.amount
        if self.debit == Account.SHOP:
            return -self.amount
        return 0


def shop_effect():
    """SQL: a line's effect on its shop's balance (see ``LedgerLine.effect``)."""
    return sa.case((LedgerLine.credit == Account.SHOP, LedgerLine.amount),
                   (LedgerLine.debit == Account.SHOP, -LedgerLine.amount), else_=0)


# --- append-only in the database too (0012_h14_ledger_append_only; here for ``create_all``) ----------------
# An UPDATE is refused unless it only sets references to NULL (ON DELETE SET NULL of an order, refund,
# payout or user: the money facts stay); a DELETE always. TRUNCATE (tests) and dropping the table are not
# row operations; ``wipe_lines`` is the demo reset's way to empty the table.
_FACTS = ("shop_id", "entry", "kind", "debit", "credit", "amount", "method", "collector", "reverses", "memo",
          "created_at")
_REFERENCES = ("order_id", "refund_id", "payout_id", "actor_id")
APPEND_ONLY_MESSAGE = "ledger lines are append-only: post a correcting entry"


def _unchanged_sql(same: str) -> str:
    """The SQL condition of an allowed UPDATE; ``same`` is the dialect's null-safe equality."""
    facts = [f"NEW.{c} {same} OLD.{c}" for c in ("id", *_FACTS)]
    refs = [f"(NEW.{c} {same} OLD.{c} OR NEW.{c} IS NULL)" for c in _REFERENCES]
    return " AND ".join(facts + refs)


PG_TRIGGER_DDL = (
    f"""CREATE OR REPLACE FUNCTION ledger_lines_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_unchanged_sql("IS NOT DISTINCT FROM")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
        MESSAGE = '{APPEND_ONLY_MESSAGE} (' || TG_OP || ' of line ' || OLD.id || ')';
END
$$""",
    """CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
FOR EACH ROW EXECUTE FUNCTION ledger_lines_append_only()""",
)
SQLITE_TRIGGER_DDL = (
    f"""CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines
FOR EACH ROW WHEN NOT ({_unchanged_sql("IS")})
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    f"""CREATE TRIGGER ledger_lines_no_delete BEFORE DELETE ON ledger_lines
FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
)
SQLITE_TRIGGER_NAMES = ("ledger_lines_no_update", "ledger_lines_no_delete")

for _ddl in PG_TRIGGER_DDL:
    event.listen(LedgerLine.__table__, "after_create", sa.DDL(_ddl).execute_if(dialect="postgresql"))
for _ddl in SQLITE_TRIGGER_DDL:
    event.listen(LedgerLine.__table__, "after_create", sa.DDL(_ddl).execute_if(dialect="sqlite"))


def wipe_lines(session: Session) -> None:
    """Empty the ledger (the demo's ``--reset`` only): TRUNCATE on PostgreSQL; on SQLite the triggers are
    dropped, the rows deleted and the triggers created again, in the caller's transaction."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("TRUNCATE ledger_lines"))
        return
    for name in SQLITE_TRIGGER_NAMES:
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    conn.execute(LedgerLine.__table__.delete())
    for ddl in SQLITE_TRIGGER_DDL:
        conn.execute(sa.text(ddl))


@event.listens_for(LedgerLine, "before_update")
def _refuse_update(mapper, connection, target):
    raise LedgerImmutable(f"ledger line {target.id} cannot be changed: post a correcting entry")


@event.listens_for(LedgerLine, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise LedgerImmutable(f"ledger line {target.id} cannot be deleted: post a correcting entry")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state):
    """``update(LedgerLine)`` / ``delete(LedgerLine)`` through the session are refused too (and by the
    database's triggers, whatever path runs them; the demo's reset uses ``wipe_lines``)."""
    if (state.is_update or state.is_delete) and LedgerLine.__mapper__ in state.all_mappers:
        raise LedgerImmutable("ledger lines cannot be updated or deleted: post a correcting entry")


class PayoutStatus:
    PENDING = "pending"  # in a batch, not transferred yet
    PAID = "paid"        # transferred; its ledger line is posted
    CANCELLED = "cancelled"


class PayoutBatch(db.Model):
    """Payouts exported together as one CSV for the bank, then marked paid with the bank's reference."""

    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=PayoutStatus.PENDING)
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    payouts: Mapped[list[Payout]] = relationship(back_populates="batch", order_by="Payout.id")


class Payout(db.Model):
    """Money the platform transfers to a shop's bank account: one positive balance, once (its id is the
    ledger entry ``payout-<id>``). Moved here from ``orders/models.py`` (same table, new columns in
    0010_h14ledger_ledger; earlier rows are paid payouts)."""

    __tablename__ = "payouts"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.Integer)
    reference: Mapped[str | None] = mapped_column(sa.String(120))  # the bank's transfer reference
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(16), default=PayoutStatus.PAID, server_default="paid")
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payout_batches.id", ondelete="SET NULL"), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    batch: Mapped[PayoutBatch | None] = relationship(back_populates="payouts")
    shop = relationship("Shop")


class PayoutAccount(db.Model):
    """Where a shop's payouts go (the seller enters it on the statement page)."""

    __tablename__ = "payout_accounts"

    shop_id: Mapped[int] = mapped_column(sa.ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    bank_name: Mapped[str] = mapped_column(sa.String(120))
    account_number: Mapped[str] = mapped_column(sa.String(34))
    account_name: Mapped[str] = mapped_column(sa.String(120))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
