"""VNPay (domestic ATM cards, VNPay QR, international cards): the ``VNPayCheckout`` payment method (see
``gateway.py``), following VNPay's payment API 2.1.0.

- Pay: the shopper is redirected to ``VNPAY_PAYMENT_URL`` with the ``vnp_*`` parameters, sorted by name,
  URL-encoded (``quote_plus``), joined with ``&`` and signed with HMAC-SHA512 of that string under
  ``VNPAY_HASH_SECRET`` (``vnp_SecureHash``). ``vnp_Amount`` is the amount × 100 (VNPay's unit).
- Return URL (``payments.vnpay_return``): its signature is verified, but it only sends the shopper back;
  the payment is asked of VNPay (querydr) before anything is marked paid.
- IPN (``payments.vnpay_ipn``, server to server): signature checked, applied once (``processed_events``),
  answered with VNPay's ``RspCode`` JSON (00 confirmed, 01 order not found, 02 already confirmed,
  04 invalid amount, 97 invalid checksum, 99 unknown error).
- Transaction query (``querydr``) and refund (``refund``) through ``VNPAY_API_URL`` (JSON, checksum over
  the fields joined with ``|``, checked on the answer too). Reconcile settles what the IPN missed.

The merchant reference ``vnp_TxnRef`` is ``CLN<checkout id>T<create date>``: it is the payment session id
stored on the checkout and carries the transaction date that querydr and refund need. The payment id kept
after payment is ``<TxnRef>:<vnp_TransactionNo>:<amount paid>`` (a refund of all of it is type 02, else 03).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote_plus

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.errors import Conflict
from marketplace.payments.gateway import (
    EventKind,
    PaymentEvent,
    PaymentGatewayError,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    PaymentStatus,
    RefundRequest,
    RefundResult,
    RefundState,
    SignatureError,
    external_url,
)

IDENTIFIER = "vnpay"
VERSION = "2.1.0"
VN_TIME = timezone(timedelta(hours=7))
_TXN_REF = re.compile(r"^CLN(\d{1,10})T(\d{14})$")
TIMEOUT = 15  # seconds for an API call

# IPN answers (VNPay's RspCode list for the merchant's IPN endpoint).
RSP_CONFIRMED = ("00", "Confirm Success")
RSP_NOT_FOUND = ("01", "Order not found")
RSP_ALREADY = ("02", "Order already confirmed")
RSP_AMOUNT = ("04", "Invalid amount")
RSP_CHECKSUM = ("97", "Invalid Checksum")
RSP_UNKNOWN = ("99", "Unknown error")

QUERY_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef", "vnp_TransactionDate",
                "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERY_ANSWER_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                       "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                       "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
                       "vnp_PromotionAmount")
REFUND_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
                 "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate",
                 "vnp_IpAddr", "vnp_OrderInfo")
REFUND_ANSWER_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                        "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                        "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo")


def enabled(config: Mapping) -> bool:
    return bool(config["VNPAY_TMN_CODE"] and config["VNPAY_HASH_SECRET"])


def vn_time(moment: datetime) -> str:
    """A naive UTC datetime as VNPay's ``yyyyMMddHHmmss`` in GMT+7."""
    return moment.replace(tzinfo=UTC).astimezone(VN_TIME).strftime("%Y%m%d%H%M%S")


def _now_vn() -> str:
    return datetime.now(VN_TIME).strftime("%Y%m%d%H%M%S")


def hmac_sha512(secret: str, data: str) -> str:
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def hash_data(params: Mapping[str, str]) -> str:
    """VNPay's signed string: ``vnp_*`` parameters but the hash, sorted by name, ``quote_plus``-encoded."""
    return "&".join(f"{key}={quote_plus(str(params[key]))}" for key in sorted(params)
                    if key.startswith("vnp_") and key not in ("vnp_SecureHash", "vnp_SecureHashType")
                    and params[key] not in (None, ""))


def sign_params(params: Mapping[str, str], secret: str) -> str:
    return hmac_sha512(secret, hash_data(params))


def verify_params(params: Mapping[str, str], secret: str) -> bool:
    given = str(params.get("vnp_SecureHash") or "")
    return bool(secret and given) and hmac.compare_digest(given.lower(), sign_params(params, secret))


def pipe_hash(values: Mapping[str, str], names: tuple[str, ...], secret: str) -> str:
    return hmac_sha512(secret, "|".join(str(values.get(name) or "") for name in names))


def txn_ref(checkout_id: int, created_utc: datetime) -> str:
    return f"CLN{int(checkout_id)}T{vn_time(created_utc)}"


def parse_txn_ref(ref: str) -> tuple[int, str] | None:
    """``(checkout id, create date yyyyMMddHHmmss)`` from a TxnRef of ours, or None."""
    match = _TXN_REF.match(ref or "")
    return (int(match.group(1)), match.group(2)) if match else None


def _ip() -> str:
    return (request.remote_addr or "127.0.0.1")[:45] if has_request_context() else "127.0.0.1"


def _locale() -> str:
    return "en" if str(get_locale() or "vi").startswith("en") else "vn"


def payment_url(req: PaymentRequest, hold: timedelta) -> tuple[str, str]:
    """The signed redirect to VNPay for this checkout, and its TxnRef. The same checkout gives the same
    TxnRef and dates (created = end of the hold − the hold), so 'pay again' opens the same transaction."""
    cfg = current_app.config
    created = req.expires_at - hold
    ref = txn_ref(req.checkout_id, created)
    params = {
        "vnp_Version": VERSION, "vnp_Command": "pay", "vnp_TmnCode": cfg["VNPAY_TMN_CODE"],
        "vnp_Amount": str(int(req.amount) * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": ref,
        "vnp_OrderInfo": f"Thanh toan don hang {ref}", "vnp_OrderType": "other", "vnp_Locale": _locale(),
        "vnp_ReturnUrl": external_url("payments.vnpay_return"), "vnp_IpAddr": _ip(),
        "vnp_CreateDate": vn_time(created), "vnp_ExpireDate": vn_time(req.expires_at),
    }
    query = "&".join(f"{key}={quote_plus(params[key])}" for key in sorted(params))
    return f"{cfg['VNPAY_PAYMENT_URL']}?{query}&vnp_SecureHash={sign_params(params, cfg['VNPAY_HASH_SECRET'])}", ref


def _amount(raw) -> int | None:
    """VNPay's amount (× 100) as int đồng; None when it is not a whole number of đồng."""
    text = str(raw or "")
    if not text.isdigit() or int(text) % 100:
        return None
    return int(text) // 100


def payment_state(params: Mapping[str, str]) -> PaymentState:
    """An IPN, return-URL or querydr answer as the site's PaymentState."""
    ref = str(params.get("vnp_TxnRef") or "")
    parsed = parse_txn_ref(ref)
    code = params.get("vnp_ResponseCode")
    status = params.get("vnp_TransactionStatus")
    paid = code == "00" and status == "00"
    amount = _amount(params.get("vnp_Amount"))
    payment_id = f"{ref}:{params.get('vnp_TransactionNo')}:{amount}" if paid and params.get("vnp_TransactionNo") else None
    state = (PaymentStatus.COMPLETE if paid else PaymentStatus.OPEN if status in (None, "", "01")
             else PaymentStatus.EXPIRED)
    return PaymentState(session_id=ref or None, checkout_id=parsed[0] if parsed else None, status=state, paid=paid,
                        amount=amount, currency="vnd", payment_id=payment_id)


def _api(body: dict, answer_fields: tuple[str, ...]) -> dict:
    cfg = current_app.config
    data = json.dumps(body).encode("utf-8")
    call = urllib.request.Request(cfg["VNPAY_API_URL"], data=data, method="POST",
                                  headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=TIMEOUT) as response:  # noqa: S310 - a configured https URL
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PaymentGatewayError(_("Cổng thanh toán đang bận hoặc không phản hồi. Vui lòng thử lại sau ít phút."),
                                  details={"retryable": True, "vnpay": str(exc)[:200]}) from exc
    if not isinstance(answer, dict):
        raise PaymentGatewayError(_("Cổng thanh toán trả lời không hợp lệ."), details={"retryable": True})
    given = str(answer.get("vnp_SecureHash") or "")
    if not hmac.compare_digest(given.lower(), pipe_hash(answer, answer_fields, cfg["VNPAY_HASH_SECRET"])):
        raise PaymentGatewayError(_("Cổng thanh toán trả lời không hợp lệ."),
                                  details={"retryable": True, "vnpay": "answer checksum does not match"})
    return answer


def _request_id(seed: str | None = None) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:32] if seed else uuid.uuid4().hex


def query(ref: str) -> dict:
    """``querydr``: VNPay's word on the transaction with this TxnRef (a dict of ``vnp_*``)."""
    parsed = parse_txn_ref(ref)
    if parsed is None:
        raise PaymentGatewayError(_("Không tìm thấy phiên thanh toán."), details={"not_found": True})
    cfg = current_app.config
    body = {"vnp_RequestId": _request_id(), "vnp_Version": VERSION, "vnp_Command": "querydr",
            "vnp_TmnCode": cfg["VNPAY_TMN_CODE"], "vnp_TxnRef": ref, "vnp_OrderInfo": f"Truy van {ref}",
            "vnp_TransactionDate": parsed[1], "vnp_CreateDate": _now_vn(), "vnp_IpAddr": "127.0.0.1"}
    body["vnp_SecureHash"] = pipe_hash(body, QUERY_FIELDS, cfg["VNPAY_HASH_SECRET"])
    answer = _api(body, QUERY_ANSWER_FIELDS)
    if answer.get("vnp_ResponseCode") == "91":  # no such transaction: the shopper never paid at VNPay
        return {"vnp_TxnRef": ref, "vnp_ResponseCode": "91", "vnp_TransactionStatus": "01"}
    if answer.get("vnp_ResponseCode") != "00":
        raise PaymentGatewayError(_("Cổng thanh toán từ chối yêu cầu."),
                                  details={"retryable": answer.get("vnp_ResponseCode") == "99",
                                           "vnpay_code": answer.get("vnp_ResponseCode")})
    return answer


def refund(payment_id: str, amount: int, idempotency_key: str) -> dict:
    try:
        ref, transaction_no, paid = payment_id.split(":")
        parsed = parse_txn_ref(ref)
        paid_amount = int(paid)
    except (AttributeError, ValueError):
        parsed = None
    if parsed is None:
        raise Conflict(_("Chưa có mã giao dịch VNPay cho đơn này."))
    cfg = current_app.config
    body = {"vnp_RequestId": _request_id(idempotency_key), "vnp_Version": VERSION, "vnp_Command": "refund",
            "vnp_TmnCode": cfg["VNPAY_TMN_CODE"], "vnp_TransactionType": "02" if amount == paid_amount else "03",
            "vnp_TxnRef": ref, "vnp_Amount": str(int(amount) * 100), "vnp_OrderInfo": f"Hoan tien {ref}",
            "vnp_TransactionNo": transaction_no, "vnp_TransactionDate": parsed[1], "vnp_CreateBy": "cholangnghe",
            "vnp_CreateDate": _now_vn(), "vnp_IpAddr": "127.0.0.1"}
    body["vnp_SecureHash"] = pipe_hash(body, REFUND_FIELDS, cfg["VNPAY_HASH_SECRET"])
    answer = _api(body, REFUND_ANSWER_FIELDS)
    if answer.get("vnp_ResponseCode") != "00":
        raise PaymentGatewayError(_("Cổng thanh toán từ chối hoàn tiền."),
                                  details={"retryable": answer.get("vnp_ResponseCode") == "99",
                                           "vnpay_code": answer.get("vnp_ResponseCode")})
    answer["_refund_id"] = f"vnpay:{ref}:{body['vnp_RequestId']}"
    return answer


def parse_ipn(query_string: bytes) -> dict:
    """The IPN's (or return URL's) parameters, verified. Raises SignatureError."""
    try:
        params = dict(parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise SignatureError("not UTF-8") from exc
    cfg = current_app.config
    if not verify_params(params, cfg["VNPAY_HASH_SECRET"]):
        raise SignatureError("vnp_SecureHash does not match")
    if params.get("vnp_TmnCode") != cfg["VNPAY_TMN_CODE"]:
        raise SignatureError("another terminal's notification")
    return params


class VNPayCheckout:
    """VNPay's hosted payment page, IPN, querydr and refund."""

    identifier = IDENTIFIER
    label = _l("VNPay (thẻ ATM nội địa, QR, thẻ quốc tế)")
    prepaid = True
    collector = "platform"  # VNPay settles to the platform's merchant account
    itemised = False  # one amount (vnp_Amount)

    @property
    def stock_hold(self) -> timedelta | None:
        """``VNPAY_HOLD_MINUTES`` of the running app (None outside an app context)."""
        return timedelta(minutes=int(current_app.config["VNPAY_HOLD_MINUTES"])) if has_app_context() else None

    def enabled(self, config: Mapping) -> bool:
        return enabled(config)

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        url, ref = payment_url(request, self.stock_hold)
        return PaymentStart(redirect_url=url, session_id=ref)

    def refund(self, request: RefundRequest) -> RefundResult:
        if not request.payment_id:
            raise Conflict(_("Chưa có mã giao dịch VNPay cho đơn này."))
        answer = refund(request.payment_id, request.amount, request.idempotency_key)
        return RefundResult(refund_id=answer["_refund_id"], status=RefundState.SUCCEEDED,
                            payment_id=request.payment_id, amount=request.amount, currency="vnd",
                            provider_status=answer.get("vnp_TransactionStatus"))

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        """``payload`` is the IPN's query string."""
        params = parse_ipn(payload)
        state = payment_state(params)
        event_id = ":".join(["vnpay", str(params.get("vnp_TxnRef")), str(params.get("vnp_TransactionNo")),
                             str(params.get("vnp_ResponseCode")), str(params.get("vnp_TransactionStatus"))])
        kind = EventKind.PAYMENT if state.paid else EventKind.PAYMENT_FAILED
        return PaymentEvent(id=event_id, type=f"ipn.{params.get('vnp_ResponseCode')}", kind=kind, payment=state)

    def reconcile_payment(self, session_id: str) -> PaymentState:
        return payment_state(query(session_id))

    def cancel_payment(self, session_id: str) -> None:
        return None  # the payment URL carries vnp_ExpireDate: VNPay refuses it after the hold

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        return RefundResult(refund_id=refund_id, status=RefundState.SUCCEEDED)  # refunds answer 00 at once
