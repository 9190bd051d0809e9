"""Payouts raced: eight admins pay the same balance at once, and eight clicks mark the same payout paid —
the balance is paid exactly once and never goes below zero (PostgreSQL: the shop's row is locked while a
payout is decided; SQLite: one writer at a time, the others are refused)."""
import threading

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from marketplace.accounts.models import User
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerLine, Payout
from marketplace.shops.models import Shop
from tests.factories import make_shop, make_user


def _race(app, job, n: int = 8) -> list[str]:
    results, lock, barrier = [], threading.Lock(), threading.Barrier(n)

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                outcome = "ok" if job() is not False else "noop"
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                outcome = f"refused:{exc.code}"
            except OperationalError:  # SQLite: another writer holds the database
                db.session.rollback()
                outcome = "busy"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _payout_lines(shop_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerLine)
                             .where(LedgerLine.shop_id == shop_id, LedgerLine.kind == "payout"))


def test_the_same_balance_is_paid_once(app):
    shop, admin = make_shop(), make_user("admin")
    db.session.commit()
    ledger.adjust(admin, shop, 250_000, "Số dư mở đầu", token="race-open")
    db.session.commit()
    shop_id, admin_id = shop.id, admin.id
    db.session.remove()

    def pay():
        return ledger.record_payout(db.session.get(User, admin_id), db.session.get(Shop, shop_id), 250_000, "VCB-R")

    results = _race(app, pay)
    assert results.count("ok") == 1, results
    assert all(r in ("ok", "busy", "refused:invalid_input", "refused:conflict") for r in results), results
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1  # the refused ones rolled back
    assert _payout_lines(shop_id) == 1 and ledger.balance(shop_id) == 0


def test_a_payout_marked_paid_by_many_clicks_is_booked_once(app):
    shop, admin = make_shop(), make_user("admin")
    db.session.commit()
    ledger.adjust(admin, shop, 90_000, "Số dư mở đầu", token="race-open-2")
    payout = ledger.create_payout(admin, shop)
    db.session.commit()
    shop_id, admin_id, payout_id = shop.id, admin.id, payout.id
    db.session.remove()

    def mark():
        return ledger.pay_payout(db.session.get(User, admin_id), db.session.get(Payout, payout_id), "VCB-P")

    results = _race(app, mark)
    assert results.count("ok") == 1, results
    assert all(r in ("ok", "noop", "busy") for r in results), results
    assert _payout_lines(shop_id) == 1 and ledger.balance(shop_id) == 0
