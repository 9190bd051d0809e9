"""Bank transfer by VietQR: the ``VietQRTransfer`` payment method (see ``gateway.py``).

The shopper is sent to our own page (``payments.vietqr_page``) with a VietQR code for exactly the
checkout's total to the collecting account (``VIETQR_BANK_BIN``, ``VIETQR_ACCOUNT_NUMBER``,
``VIETQR_ACCOUNT_NAME``), the checkout's reference in the transfer's purpose, and the same facts as text.
The money arrives at the bank, not at a provider: it is matched by reference and exact amount from the
bank's notification webhook (``parse_transaction``: HMAC-SHA256 of the raw body) or an admin's statement
upload (``payments.statements``), in ``payments.bank_transfers``. Stock is held ``VIETQR_HOLD_HOURS``.

The reference is ``CLN`` + the checkout id + 4 check characters (HMAC of the id with SECRET_KEY), so a
typo or a guessed number matches nothing, and the same checkout always gets the same reference.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import segno
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.payments import emvco
from marketplace.payments.gateway import (
    EventKind,
    PaymentEvent,
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
from marketplace.payments.statements import (
    BankTransfer,
    clean_amount,
    clean_description,
    clean_transaction_id,
    parse_iso_time,
)

IDENTIFIER = "vietqr"
PREFIX = "CLN"
SIGNATURE_HEADER = "X-Signature"
_CHECK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# Names shoppers know for the most common BINs (NAPAS list); VIETQR_BANK_NAME overrides.
BANK_NAMES = {
    "970436": "Vietcombank", "970415": "VietinBank", "970418": "BIDV", "970405": "Agribank",
    "970422": "MB Bank", "970407": "Techcombank", "970416": "ACB", "970432": "VPBank", "970423": "TPBank",
    "970403": "Sacombank", "970443": "SHB", "970441": "VIB", "970448": "OCB", "970426": "MSB",
}


def enabled(config: Mapping) -> bool:
    return bool(config["VIETQR_BANK_BIN"] and config["VIETQR_ACCOUNT_NUMBER"] and config["VIETQR_ACCOUNT_NAME"])


def _check(checkout_id: int) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"vietqr-{checkout_id}".encode(), hashlib.sha256)
    return "".join(_CHECK_ALPHABET[b % len(_CHECK_ALPHABET)] for b in digest.digest()[:4])


def reference_for(checkout_id: int) -> str:
    """The checkout's transfer reference: ``CLN<id><4 check characters>`` (A–Z, 0–9)."""
    return f"{PREFIX}{int(checkout_id)}{_check(int(checkout_id))}"


def find_reference(description: str) -> tuple[str, int] | None:
    """The first valid reference in a transfer's description (banks add words, drop or insert spaces and
    hyphens, change case): ``(reference, checkout_id)``, or None."""
    text = _NOT_ALNUM.sub("", (description or "").upper())
    start = text.find(PREFIX)
    while start != -1:
        digits = start + len(PREFIX)
        end = digits
        while end < len(text) and text[end].isdigit() and end - digits < 12:
            end += 1
        for cut in range(end, digits, -1):  # the id may be followed by check characters that are digits
            checkout_id, check = int(text[digits:cut]), text[cut:cut + 4]
            if len(check) == 4 and hmac.compare_digest(check, _check(checkout_id)):
                return f"{PREFIX}{checkout_id}{check}", checkout_id
        start = text.find(PREFIX, start + 1)
    return None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="vietqr-page")


def page_token(reference: str) -> str:
    return _serializer().dumps(reference)


def reference_from_token(token: str) -> str | None:
    try:
        value = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TransferDetails:
    """What the shopper needs to make the transfer (the page shows each as copyable text)."""

    bank_bin: str
    bank_name: str
    account_number: str
    account_name: str
    amount: int
    reference: str

    @property
    def payload(self) -> str:
        return emvco.build(bank_bin=self.bank_bin, account=self.account_number, amount=self.amount,
                           reference=self.reference)


def transfer_details(amount: int, reference: str, config: Mapping | None = None) -> TransferDetails:
    cfg = current_app.config if config is None else config
    bank_bin = str(cfg["VIETQR_BANK_BIN"])
    return TransferDetails(bank_bin=bank_bin, bank_name=cfg["VIETQR_BANK_NAME"] or BANK_NAMES.get(bank_bin, bank_bin),
                           account_number=str(cfg["VIETQR_ACCOUNT_NUMBER"]), account_name=str(cfg["VIETQR_ACCOUNT_NAME"]),
                           amount=int(amount), reference=reference)


def qr_png(payload: str, scale: int = 6) -> bytes:
    """The payload as a PNG QR code (error correction M, quiet zone 4 modules), drawn here by segno."""
    out = io.BytesIO()
    segno.make_qr(payload, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


# --- the bank's notification webhook -------------------------------------------------------------------

def sign(payload: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def parse_transaction(payload: bytes, headers: Mapping, secret: str | None) -> BankTransfer:
    """Verify ``X-Signature`` (hex HMAC-SHA256 of the raw body, ``sha256=`` prefix allowed) and decode the
    JSON ``{"transaction_id", "amount", "description", "time"}``. Raises SignatureError (bad or missing
    signature) or ValueError (signed, but not a transfer we can read)."""
    given = (headers.get(SIGNATURE_HEADER) or "").strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not secret or not given:
        raise SignatureError("missing signature or secret")
    if not hmac.compare_digest(given.lower(), sign(payload, secret)):
        raise SignatureError("signature does not match")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("body is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("body is not a JSON object")
    return BankTransfer(transaction_id=clean_transaction_id(data.get("transaction_id")),
                        amount=clean_amount(data.get("amount")),
                        description=clean_description(data.get("description")),
                        occurred_at=parse_iso_time(data.get("time")))


class VietQRTransfer:
    """Bank transfer by VietQR: our page with the code; settled by matching incoming transfers."""

    identifier = IDENTIFIER
    label = _l("Chuyển khoản ngân hàng (VietQR)")
    prepaid = True
    collector = "platform"  # the money arrives on the platform's account
    itemised = False  # one amount in the QR code

    @property
    def stock_hold(self) -> timedelta | None:
        """``VIETQR_HOLD_HOURS`` of the running app (None outside an app context)."""
        return timedelta(hours=int(current_app.config["VIETQR_HOLD_HOURS"])) if has_app_context() else None

    def enabled(self, config: Mapping) -> bool:
        return enabled(config)

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        reference = reference_for(request.checkout_id)
        transfer_details(request.amount, reference).payload  # noqa: B018 - refuses a setting the QR cannot carry
        return PaymentStart(redirect_url=external_url("payments.vietqr_page", token=page_token(reference)),
                            session_id=reference)

    def refund(self, request: RefundRequest) -> RefundResult:
        # The money is on the platform's bank account: an admin transfers it back by hand; booked now.
        return RefundResult(refund_id=None, status=RefundState.SUCCEEDED)

    def parse_webhook(self, payload: bytes, headers: Mapping) -> PaymentEvent:
        """Bank transfers are not events about one payment session: they are matched by reference and
        amount (``payments.bank_transfers.record_transfer``); verified here, answered as IGNORED."""
        transfer = parse_transaction(payload, headers, current_app.config["VIETQR_WEBHOOK_SECRET"])
        return PaymentEvent(id=f"vietqr:{transfer.transaction_id}", type="bank.transaction", kind=EventKind.IGNORED)

    def reconcile_payment(self, session_id: str) -> PaymentState:
        # Nothing to ask: transfers settle the checkout when they arrive. Open until the hold ends.
        return PaymentState(session_id=session_id, checkout_id=None, status=PaymentStatus.OPEN, paid=False,
                            amount=None, currency=None, payment_id=None)

    def cancel_payment(self, session_id: str) -> None:
        return None  # a QR code cannot be withdrawn; a transfer after the hold goes to review as late

    def reconcile_refund(self, refund_id: str) -> RefundResult:
        return RefundResult(refund_id=refund_id, status=RefundState.SUCCEEDED)
