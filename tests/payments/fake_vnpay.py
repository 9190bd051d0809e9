"""A local fake of VNPay (payment page, IPN sender, merchant API: querydr and refund), for tests without
network. ``ThreadingHTTPServer`` on 127.0.0.1, port 0.

It validates as VNPay does: the ``vnp_SecureHash`` (HMAC-SHA512 of the sorted, ``quote_plus``-encoded
``vnp_*`` parameters) under the terminal's secret, the terminal code, version 2.1.0, command, VND,
``vnp_Amount`` a whole number × 100 between 5,000 and 1,000,000,000 đồng (× 100), dates as
yyyyMMddHHmmss, a TxnRef used once per terminal with the same amount; the API's pipe-joined checksums
(answers signed the same way), refunds never above what remains, a RequestId reused with other
parameters → 94. The payment page is a small HTML form; paying sends a signed IPN to ``ipn_url`` (when
set; GET, as VNPay does) and redirects the browser to the ReturnUrl with signed parameters.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

from marketplace.payments import vnpay as app_vnpay

VN = timezone(timedelta(hours=7))
_DATE = re.compile(r"^\d{14}$")


def _hash(secret: str, params: dict) -> str:
    data = "&".join(f"{k}={quote_plus(str(params[k]))}" for k in sorted(params)
                    if k.startswith("vnp_") and k not in ("vnp_SecureHash", "vnp_SecureHashType") and params[k] != "")
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def _pipe(secret: str, values: dict, names) -> str:
    return hmac.new(secret.encode(), "|".join(str(values.get(n) or "") for n in names).encode(),
                    hashlib.sha512).hexdigest()


class FakeVNPay:
    def __init__(self, tmn_code: str = "CLNTEST1", secret: str = "VNPAYTESTSECRET0123456789ABCDEF"):
        self.tmn_code, self.secret = tmn_code, secret
        self.lock = threading.RLock()
        self.txns: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.refund_requests: dict[str, tuple[str, dict]] = {}
        self.errors: list[str] = []
        self.ipn_url: str | None = None
        self.ipn_answers: list[dict] = []
        self._no = 14_000_000

    # --- server ----------------------------------------------------------------------------------------

    def start(self) -> FakeVNPay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: str, ctype: str = "text/html; charset=utf-8", headers=None):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/paymentv2/vpcpay.html":
                    status, body = fake.payment_page(dict(parse_qsl(parts.query, keep_blank_values=True)))
                    return self._send(status, body)
                self._send(404, "not found")

            def do_POST(self):
                parts = urlsplit(self.path)
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size).decode()
                if parts.path == "/merchant_webapi/api/transaction":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        return self._send(400, json.dumps({"vnp_ResponseCode": "03"}), "application/json")
                    return self._send(200, json.dumps(fake.api(body)), "application/json")
                match = re.match(r"^/pay/([A-Za-z0-9]+)$", parts.path)
                if match:
                    form = dict(parse_qsl(raw))
                    location = fake.complete(match.group(1), success=form.get("action") != "cancel")
                    return self._send(303, "", headers={"Location": location})
                self._send(404, "not found")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def payment_url(self) -> str:
        return f"{self.base}/paymentv2/vpcpay.html"

    @property
    def api_url(self) -> str:
        return f"{self.base}/merchant_webapi/api/transaction"

    # --- pay ---------------------------------------------------------------------------------------------

    def validate_payment(self, params: dict) -> str | None:
        """None when VNPay would accept these parameters, else the reason."""
        if not hmac.compare_digest(str(params.get("vnp_SecureHash", "")).lower(), _hash(self.secret, params)):
            return "97 invalid signature"
        if params.get("vnp_TmnCode") != self.tmn_code:
            return "02 unknown terminal"
        if params.get("vnp_Version") != "2.1.0" or params.get("vnp_Command") != "pay":
            return "03 version or command"
        if params.get("vnp_CurrCode") != "VND":
            return "03 currency"
        amount = params.get("vnp_Amount", "")
        if not amount.isdigit() or int(amount) % 100 or not 5_000 * 100 <= int(amount) < 1_000_000_000 * 100:
            return "03 invalid amount"
        for key in ("vnp_CreateDate", "vnp_ExpireDate"):
            if not _DATE.match(params.get(key, "")):
                return f"03 {key}"
        for key in ("vnp_TxnRef", "vnp_OrderInfo", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_Locale", "vnp_OrderType"):
            if not params.get(key):
                return f"03 missing {key}"
        if not re.match(r"^[A-Za-z0-9]{1,100}$", params["vnp_TxnRef"]):
            return "03 TxnRef"
        existing = self.txns.get(params["vnp_TxnRef"])
        if existing and existing["amount"] != int(amount):
            return "94 TxnRef reused with another amount"
        if datetime.strptime(params["vnp_ExpireDate"], "%Y%m%d%H%M%S").replace(tzinfo=VN) < datetime.now(VN):
            return "11 expired"
        return None

    def payment_page(self, params: dict) -> tuple[int, str]:
        with self.lock:
            self.requests.append(params)
            error = self.validate_payment(params)
            if error:
                self.errors.append(error)
                return 400, f"<html><body><h1>Lỗi</h1><p id='error'>{escape(error)}</p></body></html>"
            ref = params["vnp_TxnRef"]
            txn = self.txns.setdefault(ref, {"ref": ref, "amount": int(params["vnp_Amount"]), "status": "01",
                                             "create_date": params["vnp_CreateDate"], "no": None, "refunded": 0,
                                             "return_url": params["vnp_ReturnUrl"], "info": params["vnp_OrderInfo"]})
        return 200, (f"<html><head><title>VNPay</title></head><body><h1>Cổng thanh toán VNPAY (fake)</h1>"
                     f"<p id='amount'>{txn['amount'] // 100}</p>"
                     f"<form method='post' action='/pay/{escape(ref)}'><button id='pay' name='action' value='pay'>"
                     f"Thanh toán</button><button id='cancel' name='action' value='cancel'>Hủy</button></form>"
                     f"</body></html>")

    def open_session(self, redirect_url: str) -> dict:
        """Load the payment page (as the browser would) and return the transaction it opened."""
        with urllib.request.urlopen(redirect_url, timeout=10) as response:  # noqa: S310
            assert response.status == 200
        return self.txns[dict(parse_qsl(urlsplit(redirect_url).query))["vnp_TxnRef"]]

    def _result_params(self, txn: dict, code: str, amount: int | None = None) -> dict:
        params = {"vnp_Amount": str(amount if amount is not None else txn["amount"]), "vnp_BankCode": "NCB",
                  "vnp_BankTranNo": f"VNP{txn['no'] or 0}", "vnp_CardType": "ATM", "vnp_OrderInfo": txn["info"],
                  "vnp_PayDate": datetime.now(VN).strftime("%Y%m%d%H%M%S"), "vnp_ResponseCode": code,
                  "vnp_TmnCode": self.tmn_code, "vnp_TransactionNo": str(txn["no"] or 0),
                  "vnp_TransactionStatus": "00" if code == "00" else "02", "vnp_TxnRef": txn["ref"]}
        params["vnp_SecureHash"] = _hash(self.secret, params)
        return params

    def pay(self, ref: str, success: bool = True) -> dict:
        """The shopper pays (or cancels) at VNPay: the transaction's signed result parameters."""
        with self.lock:
            txn = self.txns[ref]
            if txn["no"] is None:
                self._no += 1
                txn["no"] = self._no
            code = "00" if success else "24"
            if success:
                txn["status"] = "00"
            elif txn["status"] != "00":
                txn["status"] = "02"
            return self._result_params(txn, code)

    def ipn_query(self, params: dict) -> str:
        return urlencode(params)

    def send_ipn(self, params: dict) -> dict:
        with urllib.request.urlopen(f"{self.ipn_url}?{urlencode(params)}", timeout=20) as response:  # noqa: S310
            answer = json.loads(response.read().decode())
        self.ipn_answers.append(answer)
        return answer

    def complete(self, ref: str, success: bool = True) -> str:
        params = self.pay(ref, success)
        if self.ipn_url:
            self.send_ipn(params)
        return f"{self.txns[ref]['return_url']}?{urlencode(params)}"

    def signed(self, params: dict) -> dict:
        """Any parameters signed with the terminal's secret (for tests of wrong amounts etc.)."""
        params = {k: v for k, v in params.items() if k != "vnp_SecureHash"}
        params["vnp_SecureHash"] = _hash(self.secret, params)
        return params

    # --- merchant API ------------------------------------------------------------------------------------

    def _answer(self, body: dict, names, **values) -> dict:
        answer = {"vnp_ResponseId": body.get("vnp_RequestId", ""), "vnp_Command": body.get("vnp_Command", ""),
                  "vnp_TmnCode": self.tmn_code, **values}
        answer["vnp_SecureHash"] = _pipe(self.secret, answer, names)
        return answer

    def api(self, body: dict) -> dict:
        with self.lock:
            self.requests.append(body)
            command = body.get("vnp_Command")
            if command == "querydr":
                return self._querydr(body)
            if command == "refund":
                return self._refund(body)
            return self._answer(body, app_vnpay.QUERY_ANSWER_FIELDS, vnp_ResponseCode="03", vnp_Message="command")

    def _querydr(self, body: dict) -> dict:
        names = app_vnpay.QUERY_ANSWER_FIELDS
        if not hmac.compare_digest(str(body.get("vnp_SecureHash", "")), _pipe(self.secret, body, app_vnpay.QUERY_FIELDS)):
            return self._answer(body, names, vnp_ResponseCode="97", vnp_Message="Invalid checksum")
        txn = self.txns.get(body.get("vnp_TxnRef", ""))
        if txn is None or txn["create_date"] != body.get("vnp_TransactionDate"):
            return self._answer(body, names, vnp_ResponseCode="91", vnp_Message="Not found")
        status = "06" if txn["refunded"] else txn["status"]
        return self._answer(body, names, vnp_ResponseCode="00", vnp_Message="OK", vnp_TxnRef=txn["ref"],
                            vnp_Amount=str(txn["amount"]), vnp_BankCode="NCB", vnp_PayDate="",
                            vnp_TransactionNo=str(txn["no"] or ""), vnp_TransactionType="01",
                            vnp_TransactionStatus=status, vnp_OrderInfo=txn["info"], vnp_PromotionCode="",
                            vnp_PromotionAmount="")

    def _refund(self, body: dict) -> dict:
        names = app_vnpay.REFUND_ANSWER_FIELDS
        if not hmac.compare_digest(str(body.get("vnp_SecureHash", "")), _pipe(self.secret, body, app_vnpay.REFUND_FIELDS)):
            return self._answer(body, names, vnp_ResponseCode="97", vnp_Message="Invalid checksum")
        request_id = body.get("vnp_RequestId", "")
        signature = json.dumps({k: v for k, v in body.items() if k not in ("vnp_CreateDate", "vnp_SecureHash")},
                               sort_keys=True)
        if request_id in self.refund_requests:
            previous_signature, previous_answer = self.refund_requests[request_id]
            if previous_signature != signature:
                return self._answer(body, names, vnp_ResponseCode="94", vnp_Message="Duplicate request")
            return previous_answer
        txn = self.txns.get(body.get("vnp_TxnRef", ""))
        if txn is None or txn["create_date"] != body.get("vnp_TransactionDate") or str(txn["no"]) != body.get("vnp_TransactionNo"):
            return self._answer(body, names, vnp_ResponseCode="91", vnp_Message="Not found")
        if txn["status"] != "00":
            return self._answer(body, names, vnp_ResponseCode="95", vnp_Message="Not paid")
        amount = body.get("vnp_Amount", "")
        if not amount.isdigit() or int(amount) % 100 or int(amount) <= 0 or int(amount) > txn["amount"] - txn["refunded"]:
            return self._answer(body, names, vnp_ResponseCode="03", vnp_Message="Invalid amount")
        kind = body.get("vnp_TransactionType")
        if kind not in ("02", "03") or (kind == "02" and int(amount) != txn["amount"]):
            return self._answer(body, names, vnp_ResponseCode="03", vnp_Message="Invalid refund type")
        txn["refunded"] += int(amount)
        answer = self._answer(body, names, vnp_ResponseCode="00", vnp_Message="Refund success", vnp_TxnRef=txn["ref"],
                              vnp_Amount=amount, vnp_BankCode="NCB", vnp_PayDate="", vnp_TransactionNo=str(txn["no"]),
                              vnp_TransactionType=kind, vnp_TransactionStatus="05", vnp_OrderInfo=body.get("vnp_OrderInfo", ""))
        self.refund_requests[request_id] = (signature, answer)
        return answer
