"""The transactional mail outbox: queued in the change's transaction, delivered by the dispatcher."""
from datetime import timedelta

import sqlalchemy as sa

from marketplace.core import outbox
from marketplace.core.outbox import OutboxMail, dispatch_outbox, queue_mail, read_outbox
from marketplace.core.time import utcnow
from marketplace.extensions import db
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, two_shop_products


def _rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()


def _status_mail(to="lan@example.vn", locale="vi"):
    queue_mail(db.session, to, "order_status", locale, number="CLN-000007", status="shipped",
               labels=["Đang giao", "Shipped"], shop="Gốm Bát Tràng", total="350.000 ₫", carrier="VNPost",
               tracking="EB1VN", refunded="0 ₫", link="http://127.0.0.1:5000/orders/c/x")


def test_rollback_mails_nobody_and_commit_queues_durably(app):
    app.config["MAIL_DISPATCH_AFTER_COMMIT"] = False  # only the dispatcher delivers
    _status_mail()
    db.session.rollback()
    assert _rows() == [] and dispatch_outbox().claimed == 0
    _status_mail()
    _status_mail("emma@example.fr", "en")
    db.session.commit()
    assert [(r.to_address, r.locale, r.sent_at, r.attempts) for r in _rows()] == [
        ("lan@example.vn", "vi", None, 0), ("emma@example.fr", "en", None, 0)]
    assert read_outbox(dispatch=False) == []  # nothing sent in the committing thread
    result = dispatch_outbox()
    assert (result.claimed, result.sent, result.failed) == (2, 2, 0)
    assert all(r.sent_at is not None and r.attempts == 1 for r in _rows())
    assert dispatch_outbox().claimed == 0  # sent once, never again
    vi, en = read_outbox(dispatch=False)
    assert vi["Subject"] == "Đơn CLN-000007: Đang giao" and en["Subject"] == "Order CLN-000007: Shipped"
    assert vi["To"] == "lan@example.vn" and "EB1VN" in vi.get_content()
    assert vi["From"].addresses[0].display_name == "Chợ Làng Nghề"
    assert vi["From"].addresses[0].addr_spec == "no-reply@cholangnghe.vn"


def test_failed_mail_is_retried_later_and_others_still_go(app, monkeypatch):
    app.config["MAIL_DISPATCH_AFTER_COMMIT"] = False
    _status_mail("bad@example.vn")
    _status_mail()
    db.session.commit()
    from marketplace.core import mail

    real = mail.MailSender.send

    def flaky(self, message):
        if message["To"] == "bad@example.vn":
            raise ConnectionError("relay down")
        return real(self, message)

    monkeypatch.setattr(mail.MailSender, "send", flaky)
    result = dispatch_outbox()
    assert (result.sent, result.failed) == (1, 1)
    bad, good = _rows()
    assert bad.sent_at is None and bad.attempts == 1 and "relay down" in bad.last_error
    assert bad.available_at > utcnow()  # backed off
    assert good.sent_at is not None
    assert dispatch_outbox().claimed == 0  # not due yet
    monkeypatch.setattr(mail.MailSender, "send", real)
    db.session.execute(sa.update(OutboxMail).values(available_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert dispatch_outbox().sent == 1
    bad, _ = _rows()
    assert bad.sent_at is not None and bad.attempts == 2 and bad.last_error is None


def test_a_claimed_mail_is_not_claimed_twice_until_its_lease_ends(app):
    app.config["MAIL_DISPATCH_AFTER_COMMIT"] = False
    _status_mail()
    db.session.commit()
    with db.engine.begin() as conn:  # a dispatcher claims it, then dies before sending
        assert len(outbox._claim(conn, 10, utcnow())) == 1
    assert dispatch_outbox().claimed == 0
    db.session.execute(sa.update(OutboxMail).values(available_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert dispatch_outbox().sent == 1  # the lease ran out: delivered (at least once)


def test_after_commit_outside_a_request_sends_at_once(app):
    _status_mail()
    db.session.commit()
    assert len(read_outbox(dispatch=False)) == 1
    assert _rows()[0].sent_at is not None


def test_checkout_mail_goes_after_the_response(client, app):
    vase, _ = two_shop_products()
    add_to_cart(client, vase.variants[0].id, 1)
    token = checkout_token(client)
    response = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "cod"})
    assert response.status_code == 303
    # the buyer's confirmation and the shop's new-order alert, queued with the order, not yet sent
    assert sorted(r.template for r in _rows()) == ["order_placed", "shop_alert"]
    assert all(r.sent_at is None for r in _rows())
    assert read_outbox(dispatch=False) == []
    response.close()  # what the WSGI server does once the response is sent
    [mail] = [m for m in read_outbox(dispatch=False) if m["To"] == "lan@example.vn"]
    assert "đã nhận đơn hàng" in mail["Subject"]
    assert "/orders/c/" in mail.get_content() and "Bình gốm men lam – Tiêu chuẩn × 1" in mail.get_content()
    assert all(r.sent_at is not None for r in _rows())


def test_cli_sends_what_is_queued(app, runner):
    app.config["MAIL_DISPATCH_AFTER_COMMIT"] = False
    _status_mail()
    _status_mail("emma@example.fr", "en")
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Đã gửi 2 thư" in result.output
    assert len(read_outbox(dispatch=False)) == 2
