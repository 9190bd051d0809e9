"""Provider callbacks: the Stripe webhook (raw body signature, CSRF-exempt) and the return page (which
never marks paid by itself: it asks the provider); VietQR's transfer page, QR image and bank webhook;
VNPay's IPN and return page; the admin's bank-transfer review and statement upload. Providers are reached
only through their gateway."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.accounts.permissions import public, role_required
from marketplace.core import uow
from marketplace.core.time import to_vn
from marketplace.errors import DomainError
from marketplace.extensions import csrf, db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, OrderStatus
from marketplace.payments import bank_transfers, bp, registry, services, statements, vietqr, vnpay
from marketplace.payments.forms import ActionForm, ConfirmImportForm, StatementUploadForm
from marketplace.payments.gateway import PaymentGatewayError, SignatureError

log = logging.getLogger(__name__)


@bp.route("/payments/stripe/webhook", methods=["POST"])
@public
def stripe_webhook():
    gateway = registry.get("stripe")
    try:
        event = gateway.parse_webhook(request.get_data(), request.headers)
    except SignatureError as exc:
        log.warning("rejected %s webhook: %s", gateway.identifier, exc)
        return jsonify({"error": "invalid signature"}), 400
    with uow.field_errors() as outcome:
        result = services.handle_event(gateway, event)
    if isinstance(outcome.error, services.DuplicateEvent):  # rolled back: applied once already
        return jsonify({"received": True, "duplicate": True}), 200
    if outcome.error is not None:  # rolled back (the event id too): a 500, so the provider delivers it again
        log.error("%s event %s %s not processed: %r", gateway.identifier, event.id, event.type, outcome.error)
        return jsonify({"error": "not processed"}), 500
    # Any other exception escapes: the unit of work rolls back and the app answers 500 as well.
    log.info("%s event %s %s: %s", gateway.identifier, event.id, event.type, result)
    return jsonify({"received": True, "outcome": result}), 200


csrf.exempt(stripe_webhook)


@bp.route("/checkout/success")
@public
def success():
    """Where Stripe sends the shopper back. Paid only if a server-side retrieve of the session says so."""
    session_id = (request.args.get("session_id") or "")[:255]
    checkout = db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == session_id)) if session_id else None
    if checkout is None:
        return render_template("payments/unknown.html"), 404
    gateway = registry.get(checkout.payment_method)
    if gateway.enabled(current_app.config) and any(o.status == OrderStatus.PENDING_PAYMENT for o in checkout.orders):
        with uow.field_errors() as outcome:  # the provider unreachable: the webhook or reconcile settles it
            services.settle_payment(gateway, gateway.reconcile_payment(session_id), label="success_page")
        if outcome.error is not None and not isinstance(outcome.error, PaymentGatewayError):
            raise outcome.error
    return redirect(orders.checkout_url(checkout), 303)


# --- VietQR bank transfer --------------------------------------------------------------------------------

def _vietqr_checkout(token: str) -> tuple[Checkout, str]:
    reference = vietqr.reference_from_token(token)
    checkout = (db.session.scalar(sa.select(Checkout).where(Checkout.stripe_session_id == reference))
                if reference else None)
    if checkout is None or checkout.payment_method != vietqr.IDENTIFIER or not vietqr.enabled(current_app.config):
        abort(404)  # (a collecting account no longer configured: no code to show)
    return checkout, reference


@bp.route("/payments/vietqr/pay/<token>")
@public
def vietqr_page(token: str):
    """The shopper's transfer page: the VietQR code (an image from this site) and the same facts as text."""
    checkout, reference = _vietqr_checkout(token)
    statuses = {o.status for o in checkout.orders}
    details = vietqr.transfer_details(checkout.total, reference)
    return render_template("payments/vietqr.html", checkout=checkout, details=details, token=token,
                           waiting=OrderStatus.PENDING_PAYMENT in statuses,
                           hold_until=to_vn(checkout.hold_expires_at).strftime("%H:%M %d/%m/%Y")
                           if checkout.hold_expires_at else "",
                           paid=bool(statuses) and all(o.paid_at for o in checkout.orders),
                           order_url=orders.checkout_url(checkout))


@bp.route("/payments/vietqr/pay/<token>/qr.png")
@public
def vietqr_image(token: str):
    checkout, reference = _vietqr_checkout(token)
    png = vietqr.qr_png(vietqr.transfer_details(checkout.total, reference).payload)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/payments/vietqr/webhook", methods=["POST"])
@public
def vietqr_webhook():
    """The bank-notification service's call for one incoming transfer (HMAC-SHA256 of the raw body in
    ``X-Signature``). Replays and concurrent duplicates answer 200 and change nothing."""
    try:
        transfer = vietqr.parse_transaction(request.get_data(), request.headers,
                                            current_app.config["VIETQR_WEBHOOK_SECRET"])
    except SignatureError as exc:
        log.warning("rejected vietqr webhook: %s", exc)
        return jsonify({"error": "invalid signature"}), 401
    except ValueError as exc:
        return jsonify({"error": "invalid transaction", "detail": str(exc)[:200]}), 400
    with uow.field_errors() as outcome:
        _row, result = bank_transfers.record_transfer(transfer, "webhook")
    if isinstance(outcome.error, services.DuplicateEvent):
        return jsonify({"received": True, "duplicate": True}), 200
    if outcome.error is not None:
        raise outcome.error
    log.info("vietqr transfer %s (%s đồng): %s", transfer.transaction_id, transfer.amount, result)
    return jsonify({"received": True, "outcome": result}), 200


csrf.exempt(vietqr_webhook)


# --- VNPay ---------------------------------------------------------------------------------------------

_IPN_ANSWERS = {"paid": vnpay.RSP_CONFIRMED, "needs_review": vnpay.RSP_CONFIRMED, "released": vnpay.RSP_CONFIRMED,
                "noop": vnpay.RSP_CONFIRMED, "already": vnpay.RSP_ALREADY, "unknown": vnpay.RSP_NOT_FOUND,
                "mismatch": vnpay.RSP_AMOUNT, "unpaid": vnpay.RSP_CONFIRMED}


class _IpnNotApplied(DomainError):
    """An IPN that failed while being applied: rolled back, answered 99 (VNPay sends it again)."""

    code = "ipn_not_applied"


def _rsp(answer: tuple[str, str]):
    return jsonify({"RspCode": answer[0], "Message": answer[1]}), 200


@bp.route("/payments/vnpay/ipn")
@public
def vnpay_ipn():
    """VNPay's server-to-server notification (a GET with the signed ``vnp_*`` query): applied once;
    answered with VNPay's RspCode."""
    gateway = registry.get(vnpay.IDENTIFIER)
    if not gateway.enabled(current_app.config):
        return _rsp(vnpay.RSP_UNKNOWN)
    try:
        event = gateway.parse_webhook(request.query_string, request.headers)
    except SignatureError as exc:
        log.warning("rejected vnpay IPN: %s", exc)
        return _rsp(vnpay.RSP_CHECKSUM)
    state = event.payment
    checkout = db.session.get(Checkout, state.checkout_id) if state.checkout_id else None
    if checkout is None or checkout.stripe_session_id != state.session_id or checkout.payment_method != gateway.identifier:
        return _rsp(vnpay.RSP_NOT_FOUND)
    if state.amount != checkout.total:  # VNPay's spec: a wrong amount is answered 04 and changes nothing
        log.error("vnpay IPN for checkout %s: amount %s ≠ total %s", checkout.id, state.amount, checkout.total)
        return _rsp(vnpay.RSP_AMOUNT)
    with uow.field_errors() as outcome:
        try:
            result = services.handle_event(gateway, event)
        except DomainError:
            raise
        except Exception as exc:  # VNPay's protocol wants an answer (99, it retries): rolled back as a DomainError
            log.exception("vnpay IPN %s could not be applied", event.id)
            raise _IpnNotApplied(str(exc)[:200]) from exc
    if isinstance(outcome.error, services.DuplicateEvent):
        return _rsp(vnpay.RSP_ALREADY)
    if outcome.error is not None:
        log.error("vnpay IPN %s failed: %r", event.id, outcome.error)
        return _rsp(vnpay.RSP_UNKNOWN)
    log.info("vnpay IPN %s: %s", event.id, result)
    return _rsp(_IPN_ANSWERS.get(result, vnpay.RSP_CONFIRMED))



@bp.route("/payments/vnpay/return")
@public
def vnpay_return():
    """Where VNPay sends the shopper back. The signature is checked, but only VNPay's answer to a
    transaction query (or the IPN) marks anything paid."""
    gateway = registry.get(vnpay.IDENTIFIER)
    try:
        params = vnpay.parse_ipn(request.query_string)
    except SignatureError:
        return render_template("payments/unknown.html"), 400
    state = vnpay.payment_state(params)
    checkout = db.session.get(Checkout, state.checkout_id) if state.checkout_id else None
    if checkout is None or checkout.stripe_session_id != state.session_id:
        return render_template("payments/unknown.html"), 404
    if gateway.enabled(current_app.config) and any(o.status == OrderStatus.PENDING_PAYMENT for o in checkout.orders):
        with uow.field_errors() as outcome:  # VNPay unreachable: the IPN or reconcile settles it
            services.settle_payment(gateway, gateway.reconcile_payment(checkout.stripe_session_id), label="return_page")
        if outcome.error is not None and not isinstance(outcome.error, PaymentGatewayError):
            raise outcome.error
    if params.get("vnp_ResponseCode") != "00":
        flash(_("VNPay báo giao dịch chưa thành công: đơn hàng chưa được thanh toán."),
              "warning")
    return redirect(orders.checkout_url(checkout), 303)


# --- admin: bank transfers to review, statement upload ---------------------------------------------

def _bank_page(upload_form=None, preview=None, parsed=None, status=200):
    return render_template("payments/bank_review.html", rows=bank_transfers.review_list(),
                           upload_form=upload_form or StatementUploadForm(), form=ActionForm(),
                           preview=preview, parsed=parsed, confirm_form=ConfirmImportForm(),
                           headers=statements.DEFAULT_HEADERS), status


@bp.route("/admin/payments/bank")
@role_required("admin")
def bank_review():
    return _bank_page()


@bp.route("/admin/payments/bank/preview", methods=["POST"])
@role_required("admin")
def bank_preview():
    """Read the uploaded statement and show what importing it would do, row by row (nothing written)."""
    form = StatementUploadForm()
    if not form.validate():
        return _bank_page(upload_form=form, status=400)
    upload = form.statement.data
    parsed = statements.parse_statement(upload.filename or "", upload.read(), form.mapping())
    if parsed.problem:
        form.statement.errors = [*form.statement.errors, parsed.problem]
        return _bank_page(upload_form=form, parsed=parsed, status=400)
    confirm = ConfirmImportForm()
    confirm.rows.data = _rows_serializer().dumps([_row_json(r) for r in parsed.rows])
    return render_template("payments/bank_review.html", rows=bank_transfers.review_list(), upload_form=form,
                           form=ActionForm(), preview=bank_transfers.preview_statement(parsed.rows), parsed=parsed,
                           confirm_form=confirm, headers=statements.DEFAULT_HEADERS)


@bp.route("/admin/payments/bank/import", methods=["POST"])
@role_required("admin")
@uow.error_redirect("payments.bank_review")
def bank_import():
    form = ConfirmImportForm()
    try:
        data = _rows_serializer().loads(form.rows.data or "")
        rows = [_row_from_json(item) for item in data]
    except (BadSignature, TypeError, ValueError, KeyError):
        return uow.done(_("Dữ liệu xem trước không hợp lệ; vui lòng tải tệp lên lại."), url_for("payments.bank_review"),
                        "error")
    counts = bank_transfers.import_statement(current_user, rows)
    return uow.done(_("Đã nhập sao kê: %(new)s giao dịch mới (%(paid)s đơn được xác nhận thanh toán, %(review)s cần "
                      "kiểm tra), %(known)s giao dịch đã có từ trước.", **counts), url_for("payments.bank_review"))


def _rows_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="bank-statement-preview")


def _row_json(r: statements.StatementRow) -> list:
    t = r.transfer
    return [r.row, t.transaction_id, t.amount, t.description, t.occurred_at.isoformat() if t.occurred_at else None]


def _row_from_json(item: list) -> statements.StatementRow:
    row, transaction_id, amount, description, occurred = item
    return statements.StatementRow(int(row), statements.BankTransfer(
        statements.clean_transaction_id(transaction_id), statements.clean_amount(amount),
        statements.clean_description(description), datetime.fromisoformat(occurred) if occurred else None))


@bp.route("/admin/payments/bank/<int:txn_id>/settle", methods=["POST"])
@role_required("admin")
@uow.error_redirect("payments.bank_review")
def bank_settle(txn_id: int):
    form = ActionForm()
    if not form.validate():
        abort(400)
    bank_transfers.settle_transaction(current_user, bank_transfers.get_transaction(txn_id), form.note.data)
    return uow.done(_("Đã xác nhận thanh toán cho đơn."), url_for("payments.bank_review"))


@bp.route("/admin/payments/bank/<int:txn_id>/refund", methods=["POST"])
@role_required("admin")
@uow.error_redirect("payments.bank_review")
def bank_refund(txn_id: int):
    form = ActionForm()
    if not form.validate():
        abort(400)
    bank_transfers.refund_transaction(current_user, bank_transfers.get_transaction(txn_id), form.note.data)
    return uow.done(_("Đã ghi nhận chuyển trả tiền."), url_for("payments.bank_review"))


@bp.route("/admin/payments/bank/<int:txn_id>/attach", methods=["POST"])
@role_required("admin")
@uow.error_redirect("payments.bank_review")
def bank_attach(txn_id: int):
    form = ActionForm()
    if not form.validate():
        abort(400)
    outcome = bank_transfers.attach_transaction(current_user, bank_transfers.get_transaction(txn_id),
                                                form.reference.data)
    message = (_("Đã gắn giao dịch và xác nhận thanh toán cho đơn.") if outcome == "paid"
               else _("Đã gắn giao dịch vào đơn; vẫn cần kiểm tra (%(reason)s).", reason=outcome))
    return uow.done(message, url_for("payments.bank_review"))
