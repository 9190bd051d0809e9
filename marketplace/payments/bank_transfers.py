"""Incoming bank transfers (VietQR) matched to checkouts, and the admin's review of the rest.

A transfer (from the bank's webhook or an uploaded statement) is stored once per bank transaction id
(``bank_transactions.transaction_id`` is unique: a replayed webhook or a re-uploaded statement changes
nothing). It settles its checkout only when its description carries the checkout's reference (see
``vietqr.find_reference``) AND the amount is exactly the checkout's total — or completes, to the đồng,
the underpaid transfers already received for it. Settling goes through ``services.settle_payment`` like
every other method (so the orders' transitions and whatever hooks them happen once). Anything else is
listed for review with its reason: unmatched, underpaid, overpaid, late (the hold had ended) or
duplicate (the checkout was paid already). Nothing is marked paid on a partial amount.

Review actions (admin): settle (the transfers attached to a checkout cover its total), refund (the money
was sent back by hand; if it had paid orders after their hold ended, those orders are refunded through
``orders.services.refund_order``), attach (to the checkout whose reference the admin gives).
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from marketplace.core.audit import record
from marketplace.core.money import format_vnd
from marketplace.core.time import utcnow
from marketplace.errors import Conflict, InvalidInput, NotAllowed, NotFound
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout
from marketplace.orders.models import OrderStatus as S
from marketplace.payments import registry, services, vietqr
from marketplace.payments.gateway import PaymentState, PaymentStatus
from marketplace.payments.models import BankTransaction, BankTxnReason, BankTxnStatus
from marketplace.payments.statements import BankTransfer, StatementRow

log = logging.getLogger(__name__)
R, T = BankTxnReason, BankTxnStatus
OPEN_STATES = (S.PENDING_PAYMENT,)
ENDED_STATES = (S.EXPIRED, S.CANCELLED)


def _require_admin(user) -> None:
    if getattr(user, "role", None) != "admin":
        raise NotAllowed(_("Chỉ quản trị viên xử lý giao dịch ngân hàng."))


def _new_row(transfer: BankTransfer, source: str) -> BankTransaction:
    return BankTransaction(transaction_id=transfer.transaction_id, source=source, amount=transfer.amount,
                           description=transfer.description, occurred_at=transfer.occurred_at,
                           status=T.REVIEW, reason=R.UNMATCHED)


def record_transfer(transfer: BankTransfer, source: str = "webhook") -> tuple[BankTransaction, str]:
    """Store one incoming transfer and match it. A transaction id seen before (even concurrently) raises
    ``services.DuplicateEvent`` after the flush: the caller's transaction rolls back, nothing changes."""
    row = _new_row(transfer, source)
    checkout = _locate(row)
    if checkout is not None and row.amount == checkout.total and _statuses(checkout) & set(OPEN_STATES):
        row.status, row.reason = T.MATCHED, None  # what settling will make it (else ``_apply`` says why not)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        raise services.DuplicateEvent(transfer.transaction_id) from None
    return row, _match_located(row, checkout)


def _locate(row: BankTransaction) -> Checkout | None:
    """The bank-transfer checkout whose reference the description carries (sets ``reference`` and
    ``checkout_id`` on the row), or None."""
    found = vietqr.find_reference(row.description)
    if found is None:
        return None
    row.reference = found[0]
    checkout = db.session.get(Checkout, found[1], options=services.with_orders())
    if checkout is None or checkout.payment_method != vietqr.IDENTIFIER or checkout.stripe_session_id != found[0]:
        return None
    row.checkout_id = checkout.id
    return checkout


def _match_located(row: BankTransaction, checkout: Checkout | None) -> str:
    return _apply(row, checkout) if checkout is not None else _review(row, R.UNMATCHED)


def match(row: BankTransaction) -> str:
    """Match a stored transfer (again): by reference and exact amount."""
    return _match_located(row, _locate(row))


def _review(row: BankTransaction, reason: str, status: str = T.REVIEW) -> str:
    row.status, row.reason = status, reason
    db.session.flush()
    if status == T.REVIEW:
        log.warning("bank transaction %s (%s đồng) needs review: %s", row.transaction_id, row.amount, reason)
    return reason


def _underpaid_rows(checkout: Checkout, row: BankTransaction) -> list[BankTransaction]:
    return db.session.scalars(sa.select(BankTransaction).where(
        BankTransaction.checkout_id == checkout.id, BankTransaction.id != row.id,
        BankTransaction.status == T.REVIEW, BankTransaction.reason == R.UNDERPAID).order_by(BankTransaction.id)).all()


def _statuses(checkout: Checkout) -> set[str]:
    """The checkout's order statuses (the orders ``settle_payment`` then uses; a transition expires them)."""
    return {o.status for o in checkout.orders}


def _settle(checkout: Checkout, rows: list[BankTransaction], label: str, status: str) -> str:
    """Settle the checkout with these transfers (their sum covers its total) through settle_payment."""
    state = PaymentState(session_id=checkout.stripe_session_id, checkout_id=checkout.id, status=PaymentStatus.COMPLETE,
                         paid=True, amount=checkout.total, currency="vnd",
                         payment_id=f"vietqr:{rows[-1].transaction_id}"[:255])
    outcome = services.settle_payment(registry.get(vietqr.IDENTIFIER), state, label=label)
    if outcome == "paid":
        for r in rows:
            r.status, r.reason = status, None
        db.session.flush()
        return "paid"
    if outcome == "needs_review":  # paid after the hold ended: the orders wait for an admin (refund)
        for r in rows:
            _review(r, R.LATE)
        return R.LATE
    return _review(rows[-1], R.DUPLICATE)


def _apply(row: BankTransaction, checkout: Checkout, label: str = "bank_transfer") -> str:
    statuses = _statuses(checkout)
    total = checkout.total
    if statuses & set(OPEN_STATES) or (statuses and statuses <= set(ENDED_STATES)):
        if row.amount == total:
            return _settle(checkout, [row], label, T.MATCHED)
        partial = _underpaid_rows(checkout, row)
        if row.amount < total and partial and sum(r.amount for r in partial) + row.amount == total:
            return _settle(checkout, [*partial, row], label, T.MATCHED)
        if statuses <= set(ENDED_STATES):
            return _review(row, R.LATE)
        return _review(row, R.UNDERPAID if row.amount < total else R.OVERPAID)
    return _review(row, R.DUPLICATE)


# --- statements --------------------------------------------------------------------------------------

def preview_statement(rows: list[StatementRow]) -> list[dict]:
    """What importing these rows would do, row by row, without writing anything."""
    known = _known_ids([r.transfer.transaction_id for r in rows])
    out = []
    for r in rows:
        t = r.transfer
        if t.transaction_id in known:
            outcome = "known"
        else:
            found = vietqr.find_reference(t.description)
            checkout = db.session.get(Checkout, found[1]) if found else None
            if checkout is None or checkout.stripe_session_id != found[0]:
                outcome = R.UNMATCHED
            elif t.amount == checkout.total:
                outcome = "match"
            else:
                outcome = R.UNDERPAID if t.amount < checkout.total else R.OVERPAID
        out.append({"row": r.row, "transaction_id": t.transaction_id, "amount": t.amount,
                    "description": t.description, "occurred_at": t.occurred_at, "outcome": outcome})
    return out


def _known_ids(ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        known.update(db.session.scalars(sa.select(BankTransaction.transaction_id)
                                        .where(BankTransaction.transaction_id.in_(chunk))).all())
    return known


def import_statement(user, rows: list[StatementRow]) -> dict:
    """Store and match every row whose transaction id is new; the known ones change nothing. Returns the
    counts (``new``, ``known``, ``paid``, ``review``). A transaction id inserted concurrently by the
    webhook makes the whole import a Conflict (rolled back): importing again is safe."""
    _require_admin(user)
    known = _known_ids([r.transfer.transaction_id for r in rows])
    counts = {"new": 0, "known": 0, "paid": 0, "review": 0}
    for r in rows:
        if r.transfer.transaction_id in known:
            counts["known"] += 1
            continue
        row = _new_row(r.transfer, "statement")
        checkout = _locate(row)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict(_("Một giao dịch vừa được ghi nhận cùng lúc; vui lòng tải lại tệp.")) from None
        counts["new"] += 1
        counts["paid" if _match_located(row, checkout) == "paid" else "review"] += 1
    record(user, "bank_statement.import", "bank_statement", None, after=counts)
    return counts


# --- review ------------------------------------------------------------------------------------------

def review_list(limit: int = 200) -> list[BankTransaction]:
    return db.session.scalars(sa.select(BankTransaction).where(BankTransaction.status == T.REVIEW)
                              .order_by(BankTransaction.id.desc()).limit(limit)).all()


def get_transaction(txn_id: int) -> BankTransaction:
    row = db.session.get(BankTransaction, txn_id)
    if row is None:
        raise NotFound(_("Không tìm thấy giao dịch."))
    return row


def _claim(row: BankTransaction, user, status: str, note: str | None = None) -> None:
    """REVIEW → ``status`` once (a conditional UPDATE: two admins cannot both act on it)."""
    result = db.session.execute(
        sa.update(BankTransaction).where(BankTransaction.id == row.id, BankTransaction.status == T.REVIEW)
        .values(status=status, resolved_by_id=user.id, resolved_at=utcnow(), note=(note or None) and note[:300])
        .execution_options(synchronize_session=False))
    db.session.expire(row)
    if result.rowcount != 1:
        raise Conflict(_("Giao dịch này đã được xử lý."))


def settle_transaction(user, row: BankTransaction, note: str | None = None) -> str:
    """The admin accepts the transfers attached to the row's checkout as its payment: allowed only when
    they cover its total. An overpayment's excess is booked as held for its payer (``ledger``
    ``transfer_held``), and as sent back when ``note`` (the bank reference of that transfer) is given."""
    _require_admin(user)
    if row.status != T.REVIEW or row.checkout_id is None:
        raise Conflict(_("Chỉ giao dịch đang chờ kiểm tra và đã gắn với một đơn mới có thể xác nhận."))
    checkout = db.session.get(Checkout, row.checkout_id)
    if not _statuses(checkout) & set(OPEN_STATES):
        raise Conflict(_("Đơn này không còn chờ thanh toán (đã thanh toán, hết hạn hoặc đã hủy)."))
    rows = [*_underpaid_rows(checkout, row), row] if row.reason == R.UNDERPAID else [row]
    received = sum(r.amount for r in rows)
    if received < checkout.total:
        raise Conflict(_("Số tiền nhận được (%(got)s) chưa đủ tổng đơn (%(total)s): không thể xác nhận thanh toán.",
                         got=format_vnd(received), total=format_vnd(checkout.total)))
    excess = received - checkout.total
    note = (note or "").strip()[:200]
    for r in rows:
        _claim(r, user, T.SETTLED, note=(f"excess {excess} returned: {note}" if note else f"excess {excess} to send back")
               if excess else None)
    outcome = _settle(checkout, rows, "admin", T.SETTLED)
    if outcome != "paid":
        raise Conflict(_("Không xác nhận được thanh toán cho đơn này."))
    if excess:  # the sale booked the checkout's total; the rest is the payer's money
        entry = ledger.bank_entry(row.id, excess=True)
        ledger.post_transfer_held(entry, excess, vietqr.IDENTIFIER, memo=f"{row.transaction_id} {row.reference or ''}",
                                  actor=user)
        if note:
            ledger.post_transfer_returned(entry, vietqr.IDENTIFIER, memo=note, actor=user)
    record(user, "bank_transaction.settle", "bank_transaction", row.id,
           after={"checkout_id": checkout.id, "received": received, "total": checkout.total, "excess": excess,
                  "returned": note or None})
    return outcome


def refund_transaction(user, row: BankTransaction, note: str) -> list[int]:
    """The money was sent back to the payer by hand (``note``: the bank reference of that transfer).
    Orders that this transfer paid after their hold ended are refunded through ``refund_order``."""
    _require_admin(user)
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Ghi mã giao dịch chuyển trả tiền."), field="note")
    _claim(row, user, T.REFUNDED, note=note)
    refunded, booked = [], False
    if row.reason == R.LATE and row.checkout_id is not None:
        checkout = db.session.get(Checkout, row.checkout_id)
        for order in checkout.orders:
            db.session.refresh(order)
            booked = booked or order.paid_at is not None  # this money was booked as the orders' sale
            amount = orders.refundable_amount(order)
            if order.status == S.NEEDS_REVIEW and amount:
                orders.refund_order(user, order, amount, _("Thanh toán đến sau khi hết hạn giữ hàng"))
                refunded.append(order.id)
    if not booked:  # money that paid no order: in and back out, so the ledger follows the bank statement
        entry = ledger.bank_entry(row.id)
        ledger.post_transfer_held(entry, row.amount, vietqr.IDENTIFIER,
                                  memo=f"{row.transaction_id} {row.reason or ''}".strip(), actor=user)
        ledger.post_transfer_returned(entry, vietqr.IDENTIFIER, memo=note, actor=user)
    record(user, "bank_transaction.refund", "bank_transaction", row.id, after={"note": note, "orders": refunded})
    return refunded


def attach_transaction(user, row: BankTransaction, reference: str) -> str:
    """Attach a transfer to the checkout with this reference (the payer typed it wrong, or it completes
    an earlier partial payment), then match it again."""
    _require_admin(user)
    if row.status != T.REVIEW:
        raise Conflict(_("Giao dịch này đã được xử lý."))
    found = vietqr.find_reference(reference or "")
    checkout = db.session.get(Checkout, found[1]) if found else None
    if checkout is None or checkout.payment_method != vietqr.IDENTIFIER or checkout.stripe_session_id != found[0]:
        raise InvalidInput(_("Không có đơn chuyển khoản nào với mã tham chiếu này."), field="reference")
    if row.checkout_id == checkout.id and row.reason in (R.DUPLICATE, R.LATE):
        raise Conflict(_("Giao dịch đã gắn với đơn này."))
    row.reference, row.checkout_id = found[0], checkout.id
    row.resolved_by_id, row.resolved_at = user.id, utcnow()
    outcome = _apply(row, checkout, label="admin")
    record(user, "bank_transaction.attach", "bank_transaction", row.id,
           after={"checkout_id": checkout.id, "outcome": outcome})
    return outcome
