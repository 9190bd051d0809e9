"""Checkouts per second through the real checkout service (``orders.services.place_checkout``: token,
price lookup, conditional stock UPDATEs in id order, one order per shop with snapshot lines, recorded
transition, confirmation mail queued in the ``mail_outbox`` table, commit) against a bare SQL transaction
measured in the same run (``UPDATE variants SET stock = stock - 1 WHERE id = :id AND stock >= 1`` + ``INSERT INTO orders``,
commit), with 1, 8 and 32 concurrent buyers (threads) over a hot set of 10 products, on PostgreSQL
(``BENCH_DATABASE_URL``, default a ``bench_checkout`` database on 127.0.0.1, created if missing; skipped
if unreachable) and a SQLite file. "oversold" counts units sold beyond the stock taken (must be 0); a
last-units race (32 buyers, 20 units) is checked too. Goal: service ≥ 30 % of the bare transaction.

The prepaid paths are measured the same way, each transaction against the same run's bare transaction:
"vietqr" = the shopper's checkout (stock held) + its VietQR payment (reference, EMVCo payload), committed;
"qr-paid" = the bank's notification of the exact transfer for one of those checkouts, matched and settled
(``bank_transfers.record_transfer``), committed; "vnpay" = the checkout + its signed VNPay redirect;
"ipn" = VNPay's signed IPN for one of those, verified and applied (``gateway.parse_webhook`` +
``services.handle_event``). A settlement cell ends early when every checkout of its run is paid (its
rate is over the time it ran). Goal: each ≥ 30 % of the bare transaction.

Delivering the queued mail (render, build the message, write the .eml, mark sent) is the dispatcher's
work, after the response (``marketplace.core.outbox``); its rate is measured separately on the mail the
checkouts queued ("mail dispatch").
"""
from __future__ import annotations

import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from config import _database_url, env_value  # noqa: E402

SECONDS = float(env_value("BENCH_SECONDS", "3"))
CLIENTS = (1, 8, 32)
HOT = 10
STOCK = 1_000_000


VNPAY_SECRET = "bench-vnpay-secret-0123456789abcdef"


def make_app(uri: str, data_dir: str):
    from marketplace import create_app

    opts = {"pool_size": 40, "max_overflow": 10} if uri.startswith("postgresql") else {}
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "DATA_DIR": data_dir,
                       "SQLALCHEMY_ENGINE_OPTIONS": opts, "SEARCH_ENABLED": False,
                       "VIETQR_BANK_BIN": "970436", "VIETQR_ACCOUNT_NUMBER": "0011001234567",
                       "VIETQR_ACCOUNT_NAME": "CHO LANG NGHE", "VNPAY_TMN_CODE": "BENCH001",
                       "VNPAY_HASH_SECRET": VNPAY_SECRET, "VNPAY_PAYMENT_URL": "https://vnpay.invalid/pay",
                       "VNPAY_API_URL": "https://vnpay.invalid/api"})


def setup(app, stock: int = STOCK) -> list[int]:
    from marketplace.extensions import db
    from tests.factories import make_product, make_shop

    with app.app_context():
        db.drop_all()
        db.create_all()
        shops = [make_shop(), make_shop()]
        ids = [make_product(shops[i % 2], stock=stock, price=150_000 + i * 1000).variants[0].id for i in range(HOT)]
        db.session.commit()
        # one checkout row for the bare transaction's orders to hang on
        db.session.execute(sa.text("INSERT INTO checkouts (token, payment_method, total, created_at) "
                                   "VALUES ('bare', 'cod', 0, CURRENT_TIMESTAMP)"))
        db.session.commit()
        return ids


def service_job(app, ids):
    from marketplace.errors import OutOfStock
    from marketplace.extensions import db
    from marketplace.orders import services

    address = services.Address(recipient_name="Bench", phone="0912345678", province="Thành phố Hà Nội",
                               ward="Xã Bát Tràng", street="1", email="bench@example.vn")

    def one(rng):
        try:
            services.place_checkout(None, {rng.choice(ids): 1}, address, "cod", uuid.uuid4().hex)
            db.session.commit()
            return True
        except OutOfStock:
            db.session.rollback()
            return False
    return one


def _address():
    from marketplace.orders import services

    return services.Address(recipient_name="Bench", phone="0912345678", province="Thành phố Hà Nội",
                            ward="Xã Bát Tràng", street="1", email="bench@example.vn")


_PENDING: dict[str, list] = {"vietqr": [], "vnpay": []}  # checkouts placed, waiting for their payment
_PENDING_LOCK = threading.Lock()


def _prepaid_checkout_job(method: str):
    """The shopper's transaction for a prepaid method: checkout (stock held) + its payment started
    (VietQR: reference and EMVCo payload; VNPay: the signed redirect), committed."""
    def make(app, ids):
        from marketplace.errors import OutOfStock
        from marketplace.extensions import db
        from marketplace.orders import services

        address = _address()

        def one(rng):
            try:
                checkout = services.place_checkout(None, {rng.choice(ids): 1}, address, method, uuid.uuid4().hex)
                services.start_payment(checkout)
                pending = (checkout.stripe_session_id, checkout.total)
                db.session.commit()
            except OutOfStock:
                db.session.rollback()
                return False
            with _PENDING_LOCK:
                _PENDING[method].append(pending)
            return True
        return one
    return make


def _next_pending(method: str):
    with _PENDING_LOCK:
        return _PENDING[method].pop() if _PENDING[method] else None


def vietqr_paid_job(app, ids):
    """The bank's notification of an exact transfer, matched to its checkout and settled, committed."""
    from marketplace.extensions import db
    from marketplace.payments import bank_transfers
    from marketplace.payments.statements import BankTransfer

    def one(rng):
        pending = _next_pending("vietqr")
        if pending is None:
            return None  # every checkout of the run is paid
        reference, total = pending
        _row, outcome = bank_transfers.record_transfer(
            BankTransfer(uuid.uuid4().hex, total, f"CK {reference}", None), "webhook")
        db.session.commit()
        return outcome == "paid"
    return one


def vnpay_ipn_job(app, ids):
    """VNPay's signed IPN for a checkout, verified and applied (orders paid), committed."""
    from marketplace.extensions import db
    from marketplace.payments import registry, vnpay
    from marketplace.payments import services as payment_services

    gateway = registry.get("vnpay")

    def one(rng):
        pending = _next_pending("vnpay")
        if pending is None:
            return None
        ref, total = pending
        params = {"vnp_Amount": str(total * 100), "vnp_BankCode": "NCB", "vnp_ResponseCode": "00",
                  "vnp_TmnCode": "BENCH001", "vnp_TransactionNo": str(rng.randrange(10**9)),
                  "vnp_TransactionStatus": "00", "vnp_TxnRef": ref, "vnp_PayDate": "20261207101500"}
        params["vnp_SecureHash"] = vnpay.sign_params(params, VNPAY_SECRET)
        event = gateway.parse_webhook(urlencode(params).encode(), {})
        outcome = payment_services.handle_event(gateway, event)
        db.session.commit()
        return outcome == "paid"
    return one


PREPAID_PATHS = (("vietqr", _prepaid_checkout_job("vietqr")), ("qr-paid", vietqr_paid_job),
                 ("vnpay", _prepaid_checkout_job("vnpay")), ("ipn", vnpay_ipn_job))


def bare_job(app, ids):
    from marketplace.extensions import db

    checkout_id = None

    def one(rng):
        nonlocal checkout_id
        with db.engine.begin() as conn:
            if checkout_id is None:
                checkout_id = conn.scalar(sa.text("SELECT id FROM checkouts WHERE token = 'bare'"))
            vid = rng.choice(ids)
            if conn.execute(sa.text("UPDATE variants SET stock = stock - 1 WHERE id = :id AND stock >= 1"),
                            {"id": vid}).rowcount != 1:
                return False
            shop_id = conn.scalar(sa.text("SELECT p.shop_id FROM variants v JOIN products p ON p.id = v.product_id "
                                          "WHERE v.id = :id"), {"id": vid})
            conn.execute(sa.text("INSERT INTO orders (checkout_id, shop_id, status, payment_method, subtotal, "
                                 "shipping_fee, total, refunded_amount, commission, created_at) VALUES (:c, :s, "
                                 "'awaiting_shipment', 'cod', 150000, 0, 150000, 0, 0, CURRENT_TIMESTAMP)"),
                         {"c": checkout_id, "s": shop_id})
            return True
    return one


def run(app, make_job, ids, clients: int, seconds: float) -> tuple[float, int, int]:
    from marketplace.extensions import db

    done = [0] * clients
    failed = [0] * clients
    errors = []
    start_barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(i):
        rng = random.Random(i)
        # like the checkout view: inside a request (links in the mail are built from it)
        with app.test_request_context(base_url=app.config["SITE_URL"]):
            job = make_job(app, ids)
            start_barrier.wait()
            while not stop.is_set():
                try:
                    result = job(rng)
                    if result is None:  # nothing left to do (settlement paths): the cell ends here
                        stop.set()
                    elif result:
                        done[i] += 1
                    else:
                        failed[i] += 1
                except Exception as exc:  # counted, reported
                    db.session.rollback()
                    errors.append(repr(exc)[:200])
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start_barrier.wait()
    t0 = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        print(f"  ({len(errors)} errors, e.g. {errors[0]})", flush=True)
    return sum(done) / elapsed, sum(done), len(errors)


def oversold(app, ids, initial: int) -> int:
    """Units sold beyond the stock taken: order lines (service) + bare orders vs the stock decrease."""
    from marketplace.extensions import db

    with app.app_context():
        stock = db.session.scalar(sa.select(sa.func.sum(sa.text("stock"))).select_from(sa.text("variants")))
        minimum = db.session.scalar(sa.text("SELECT MIN(stock) FROM variants"))
        lines = db.session.scalar(sa.text("SELECT COALESCE(SUM(quantity), 0) FROM order_lines"))
        bare = db.session.scalar(sa.text("SELECT COUNT(*) FROM orders WHERE subtotal = 150000 AND id NOT IN "
                                         "(SELECT order_id FROM order_lines)"))
        db.session.remove()
    taken = initial * len(ids) - stock
    return max(lines + bare - taken, 0) + max(-minimum, 0)


def scarce_race(app) -> tuple[int, int]:
    """32 buyers race for 20 units: (sold, oversold)."""
    from marketplace.extensions import db

    ids = setup(app, stock=2)
    run(app, service_job, ids, 32, 1.0)
    with app.app_context():
        sold = db.session.scalar(sa.text("SELECT COALESCE(SUM(quantity), 0) FROM order_lines"))
        minimum = db.session.scalar(sa.text("SELECT MIN(stock) FROM variants"))
        db.session.remove()
    return sold, max(sold - 2 * HOT, 0) + max(-minimum, 0)


def dispatch_rate(app, seconds: float) -> tuple[float, int]:
    """Mails/s delivered by ``dispatch_outbox`` (one thread) from what the checkouts queued."""
    from marketplace.core.outbox import dispatch_outbox
    from marketplace.extensions import db

    sent = 0
    with app.app_context():
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            result = dispatch_outbox(limit=100)
            if not result.claimed:
                break
            sent += result.sent
        elapsed = time.perf_counter() - t0
        db.session.remove()
    return (sent / elapsed if elapsed else 0.0), sent


def pg_uri() -> str | None:
    url = env_value("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_checkout")
    uri = _database_url(url)
    target = sa.engine.make_url(uri)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping it", flush=True)
        return None
    finally:
        admin.dispose()
    return uri


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="bench-checkout-")
    backends = []
    uri = pg_uri()
    if uri:
        backends.append(("PostgreSQL", uri))
    backends.append(("SQLite (file, WAL)", f"sqlite:///{tmp}/bench.sqlite"))
    rows, bad = [], 0
    for name, uri in backends:
        app = make_app(uri, f"{tmp}/{name[:3]}")
        for clients in CLIENTS:
            ids = setup(app)
            for pending in _PENDING.values():  # checkouts of an earlier cell are gone with its tables
                pending.clear()
            bare_rate, _, bare_err = run(app, bare_job, ids, clients, SECONDS)
            service_rate, _, svc_err = run(app, service_job, ids, clients, SECONDS)
            over = oversold(app, ids, STOCK)
            bad += over
            rows.append((name, clients, service_rate, bare_rate, service_rate / bare_rate if bare_rate else 0,
                         over, bare_err + svc_err))
            for path, job in PREPAID_PATHS:
                rate, _, errs = run(app, job, ids, clients, SECONDS)
                rows.append((name, f"{clients} {path}", rate, bare_rate, rate / bare_rate if bare_rate else 0, 0, errs))
                bad += errs
            print(f"  {name} {clients} clients done", flush=True)
        rate, sent = dispatch_rate(app, SECONDS)
        rows.append((name, "mail", rate, sent, 0, 0, 0))
        sold, over = scarce_race(app)
        bad += over
        rows.append((name, "race", sold, 2 * HOT, 0, over, 0))
        with app.app_context():
            from marketplace.extensions import db

            db.engine.dispose()
    print()
    print(f"{'database':<20} {'buyers':>6} {'path':>6} {'service/s':>10} {'bare tx/s':>10} {'ratio':>7} {'oversold':>8} "
          f"{'errors':>6}")
    for name, clients, svc, bare, ratio, over, errs in rows:
        if clients == "race":
            print(f"{name:<20} {'32':>6}   last-units race: sold {svc} of {bare} units, oversold {over}")
        elif clients == "mail":
            print(f"{name:<20} {'1':>6}   mail dispatch: {svc:.0f} mails/s ({bare} queued mails delivered)")
        else:
            buyers, _, path = str(clients).partition(" ")
            print(f"{name:<20} {buyers:>6} {path or 'cod':>6} {svc:>10.0f} {bare:>10.0f} {ratio:>6.0%} {over:>8} {errs:>6}")
    print(f"\n{SECONDS:.0f} s per cell; goal: each path (checkouts: cod, vietqr, vnpay; settlements: qr-paid, ipn) "
          "≥ 30 % of the bare transaction; oversold must be 0.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
