"""Refunds exactly once: the conditional UPDATE (paid − refunded ≥ amount, and nobody refunded in between) is
what stops two refunds that each passed the Python check, on SQLite and PostgreSQL, with real threads.

Each test here fails when the UPDATE in ``orders.services.refund_order`` loses its conditions: the
interleaving test and the threaded ones let two refunds through (more refunded than paid)."""
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from marketplace.core.outbox import read_outbox
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent
from marketplace.payments.models import Refund
from tests.orders.helpers import place, shopper, two_shop_products

TOTAL = 730_000  # 2 × 350.000 ₫ + 30.000 ₫ shipping


def _delivered_cod_order():
    """A cash-on-delivery order, delivered (so paid); its refunds are booked at once (succeeded)."""
    vase, _ = two_shop_products()
    order = place({vase.variants[0].id: 2}, buyer=shopper()).orders[0]
    owner = vase.shop.owner
    services.ship_order(owner, order, "GHN", "G1")
    services.deliver_order(owner, order)
    db.session.commit()
    assert order.total == TOTAL
    return order.id, owner.id


def _refund_rows():
    db.session.expire_all()
    return db.session.execute(sa.select(Refund.amount, Refund.status).order_by(Refund.id)).all()


def _refunded(order_id):
    db.session.expire_all()
    return db.session.get(Order, order_id).refunded_amount


def test_a_refund_on_a_stale_order_is_refused_by_the_database(app):
    """Request A loaded the order (nothing refunded yet) and passed the Python check; request B refunded
    500.000 ₫ and committed in between. A's 500.000 ₫ would exceed what was paid: the conditional UPDATE
    refuses it (409), nothing of A is written."""
    from marketplace.accounts.models import User

    order_id, owner_id = _delivered_cod_order()
    db.session.remove()
    stale = db.session.get(Order, order_id)
    owner = db.session.get(User, owner_id)
    assert stale.refunded_amount == 0
    with db.engine.connect() as other:  # request B, committed while A holds its stale copy
        other.execute(sa.update(Order).where(Order.id == order_id).values(refunded_amount=500_000))
        other.commit()
    outbox_before = len(read_outbox(dispatch=False))
    with pytest.raises(Conflict) as caught:
        services.refund_order(owner, stale, 500_000, "lần hai")
    assert caught.value.status_code == 409
    assert caught.value.message == "Đơn vừa được hoàn tiền bởi người khác, vui lòng tải lại trang."
    db.session.rollback()
    assert _refunded(order_id) == 500_000  # B's, and only B's
    assert _refund_rows() == []
    assert len(read_outbox(dispatch=False)) == outbox_before


def test_a_stale_refund_within_what_is_left_is_still_refused(app):
    """Even when A's amount would fit in what is left, A decided on a state that no longer holds (its
    ``before``): it is asked to reload rather than booked against an idempotency key of the old state."""
    from marketplace.accounts.models import User

    order_id, owner_id = _delivered_cod_order()
    db.session.remove()
    stale = db.session.get(Order, order_id)
    owner = db.session.get(User, owner_id)
    with db.engine.connect() as other:
        other.execute(sa.update(Order).where(Order.id == order_id).values(refunded_amount=100_000))
        other.commit()
    with pytest.raises(Conflict):
        services.refund_order(owner, stale, 100_000)
    db.session.rollback()
    assert _refunded(order_id) == 100_000 and _refund_rows() == []


def _race(app, order_id, owner_id, amounts):
    """Each thread loads the order and the owner, waits for the others (so all passed the Python check on
    the same state), then refunds and commits."""
    from marketplace.accounts.models import User

    results, lock = [], threading.Lock()
    barrier = threading.Barrier(len(amounts))

    def worker(amount):
        with app.app_context():
            order = db.session.get(Order, order_id)
            owner = db.session.get(User, owner_id)
            assert order.refunded_amount == 0
            barrier.wait()
            try:
                services.refund_order(owner, order, amount, "race")
                db.session.commit()
                outcome = ("ok", amount)
            except Conflict as exc:
                db.session.rollback()
                outcome = ("conflict", exc.status_code)
            except InvalidInput as exc:
                db.session.rollback()
                outcome = ("invalid", exc.status_code)
            except Exception as exc:  # a 500: recorded, asserted against below
                db.session.rollback()
                outcome = ("error", repr(exc))
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(a,)) for a in amounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return sorted(results)


def test_two_concurrent_refunds_that_together_exceed_the_order_one_succeeds(app):
    order_id, owner_id = _delivered_cod_order()
    db.session.remove()
    results = _race(app, order_id, owner_id, [500_000, 400_000])
    assert [r[0] for r in results] == ["conflict", "ok"], results
    assert results[0][1] == 409
    rows = _refund_rows()
    assert len(rows) == 1 and rows[0].amount == results[1][1] and rows[0].status == "succeeded"
    assert _refunded(order_id) == results[1][1] <= TOTAL
    assert db.session.get(Order, order_id).status == "delivered"


def test_the_same_amount_twice_at_once_is_one_refund_and_a_409(app):
    """Same order, same amount, same moment: the same idempotency key. One refund, the other a clear
    409 (never a duplicate-key error, never a 500)."""
    order_id, owner_id = _delivered_cod_order()
    db.session.remove()
    results = _race(app, order_id, owner_id, [200_000, 200_000])
    assert results == [("conflict", 409), ("ok", 200_000)], results
    assert _refund_rows() == [(200_000, "succeeded")]
    assert _refunded(order_id) == 200_000


def test_the_full_amount_twice_at_once_refunds_once(app):
    order_id, owner_id = _delivered_cod_order()
    db.session.remove()
    results = _race(app, order_id, owner_id, [TOTAL, TOTAL])
    assert results == [("conflict", 409), ("ok", TOTAL)], results
    assert _refund_rows() == [(TOTAL, "succeeded")]
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.refunded_amount == TOTAL and order.status == "refunded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                             .where(OrderEvent.order_id == order_id, OrderEvent.to_status == "refunded")) == 1


def test_two_refund_forms_posted_at_once_answer_303_and_409(app, login):
    """Through the page: both requests have loaded the order and passed every check when they reach the
    UPDATE together (held at a barrier just before it). One 303, one 409 with the message; never a 500."""
    order_id, owner_id = _delivered_cod_order()
    from marketplace.accounts.models import User

    owner = db.session.get(User, owner_id)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login(c, owner)
    db.session.remove()
    barrier = threading.Barrier(2)
    seen = threading.local()

    def hold(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE orders SET refunded_amount") and not getattr(seen, "held", False):
            seen.held = True
            barrier.wait(30)

    event.listen(db.engine, "before_cursor_execute", hold)
    answers, lock = [], threading.Lock()

    def post(c):
        r = c.post(f"/seller/orders/{order_id}/refund", data={"amount": 300_000, "reason": "vỡ"})
        with lock:
            answers.append((r.status_code, r.get_data(as_text=True)))

    try:
        threads = [threading.Thread(target=post, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        event.remove(db.engine, "before_cursor_execute", hold)
    codes = sorted(code for code, _ in answers)
    assert codes == [303, 409], codes
    page = next(body for code, body in answers if code == 409)
    assert "Đơn vừa được hoàn tiền bởi người khác" in page
    assert _refund_rows() == [(300_000, "succeeded")]
    assert _refunded(order_id) == 300_000


@pytest.mark.parametrize("amount", [0, -1, True, "100000", 1.5, None])
def test_a_refund_amount_must_be_a_positive_whole_number_of_dong(app, amount):
    order_id, owner_id = _delivered_cod_order()
    from marketplace.accounts.models import User

    with pytest.raises(InvalidInput) as caught:
        services.refund_order(db.session.get(User, owner_id), db.session.get(Order, order_id), amount)
    assert caught.value.field == "amount"
    db.session.rollback()
    assert _refunded(order_id) == 0 and _refund_rows() == []


def test_one_dong_then_the_rest_then_nothing(app):
    """The smallest refund is 1 đồng; the rest of the order after it; then nothing is left (a clear 400)."""
    order_id, owner_id = _delivered_cod_order()
    from marketplace.accounts.models import User

    owner = db.session.get(User, owner_id)
    services.refund_order(owner, db.session.get(Order, order_id), 1)
    db.session.commit()
    assert _refunded(order_id) == 1
    services.refund_order(owner, db.session.get(Order, order_id), TOTAL - 1)
    db.session.commit()
    assert _refunded(order_id) == TOTAL and db.session.get(Order, order_id).status == "refunded"
    with pytest.raises(InvalidInput):
        services.refund_order(owner, db.session.get(Order, order_id), 1)
    db.session.rollback()
    assert [r.amount for r in _refund_rows()] == [1, TOTAL - 1]


def test_a_refund_touches_only_its_own_order(app):
    """The conditional UPDATE names its order: the other shop's order of the same checkout is untouched."""
    vase, scarf = two_shop_products()
    checkout = place({vase.variants[0].id: 1, scarf.variants[0].id: 1}, buyer=shopper())
    for order in checkout.orders:
        owner = order.shop.owner
        services.ship_order(owner, order, "GHN", f"G{order.id}")
        services.deliver_order(owner, order)
    db.session.commit()
    first, second = checkout.orders
    services.refund_order(first.shop.owner, first, 10_000)
    db.session.commit()
    assert (_refunded(first.id), _refunded(second.id)) == (10_000, 0)
    assert db.session.get(Order, second.id).status == "delivered"


def test_a_refund_row_records_who_and_why(app):
    """Who refunded (the acting user) and why (at most 300 characters; empty → none) are kept on the row."""
    order_id, owner_id = _delivered_cod_order()
    from marketplace.accounts.models import User

    owner = db.session.get(User, owner_id)
    services.refund_order(owner, db.session.get(Order, order_id), 1_000, "vỡ " * 200)
    services.refund_order(owner, db.session.get(Order, order_id), 2_000, "")
    services.refund_order(owner, db.session.get(Order, order_id), 3_000)
    db.session.commit()
    rows = db.session.scalars(sa.select(Refund).order_by(Refund.id)).all()
    assert [r.actor_id for r in rows] == [owner_id] * 3
    assert rows[0].reason == ("vỡ " * 200)[:300] and len(rows[0].reason) == 300
    assert rows[1].reason is None and rows[2].reason is None
