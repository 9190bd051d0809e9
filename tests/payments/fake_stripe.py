"""A local fake of the Stripe API endpoints this app uses, for tests without network.

``ThreadingHTTPServer`` on 127.0.0.1, port 0. The real ``stripe`` SDK talks to it through
``STRIPE_API_BASE``. It keeps state (sessions, payment intents, refunds), validates as Stripe does
(lower-case supported currency, integer amounts, quantity ≥ 1, ≤ 100 line items, ``expires_at`` 30 min –
24 h ahead, metadata limits, idempotency-key reuse with different parameters → 400 ``idempotency_error``,
refunds never above what remains) and signs events for the app's webhook with
``stripe.WebhookSignature.generate_signature_header``.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import stripe

CURRENCIES = {"vnd", "usd", "eur", "sgd", "jpy"}
ZERO_DECIMAL = {"vnd", "jpy"}


class StripeFault(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.code, self.message, self.param, self.kind = status, code, message, param, kind


def decode_form(body: str) -> dict:
    """Stripe's bracket notation (``a[0][b]=1``) → nested dicts/lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _int(value, param: str, minimum: int = 0) -> int:
    if not isinstance(value, str) or not value.lstrip("-").isdigit():
        raise StripeFault(400, "parameter_invalid_integer", f"Invalid integer: {value}", param)
    number = int(value)
    if number < minimum:
        raise StripeFault(400, "parameter_invalid_integer", f"{param} must be ≥ {minimum}", param)
    return number


def _check_metadata(metadata, param: str) -> dict:
    metadata = metadata or {}
    if not isinstance(metadata, dict):
        raise StripeFault(400, "parameter_invalid_string", "metadata must be a hash", param)
    if len(metadata) > 50:
        raise StripeFault(400, "parameter_invalid_string", "at most 50 metadata keys", param)
    for key, value in metadata.items():
        if len(key) > 40 or "[" in key or "]" in key or len(str(value)) > 500:
            raise StripeFault(400, "parameter_invalid_string", f"bad metadata {key}", param)
    return metadata


class FakeStripe:
    def __init__(self):
        self.lock = threading.RLock()
        self.sessions: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.idempotency: dict[str, tuple[str, int, dict]] = {}
        self.requests: list[dict] = []
        self.faults: list[tuple[str, int]] = []
        self.refund_status = "succeeded"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def fail_next(self, path_prefix: str, status: int = 500) -> None:
        """The next request whose "METHOD /path" starts with ``path_prefix`` gets ``status`` (once)."""
        self.faults.append((path_prefix, status))

    # --- HTTP --------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _respond(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:12]}")
                self.end_headers()
                self.wfile.write(body)

            def _dispatch(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                status, payload = fake.handle(method, parts.path, raw, parts.query, dict(self.headers))
                self._respond(status, payload)

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

        return Handler

    def handle(self, method: str, path: str, raw: str, query: str, headers: dict) -> tuple[int, dict]:
        with self.lock:
            key = headers.get("Idempotency-Key")
            self.requests.append({"method": method, "path": path, "body": raw, "idempotency_key": key,
                                  "auth": headers.get("Authorization")})
            signature = f"{method} {path}"
            for i, (prefix, status) in enumerate(self.faults):
                if signature.startswith(prefix):
                    del self.faults[i]
                    return status, {"error": {"type": "api_error", "message": "fake outage"}}
            if not (headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            fingerprint = hashlib.sha256(f"{signature}\n{raw}".encode()).hexdigest()
            if method == "POST" and key and key in self.idempotency:
                stored_fp, stored_status, stored_payload = self.idempotency[key]
                if stored_fp != fingerprint:
                    return 400, {"error": {"type": "idempotency_error", "message":
                                           "Keys for idempotent requests can only be used with the same parameters "
                                           "they were first used with."}}
                return stored_status, stored_payload
            try:
                status, payload = 200, self.route(method, path, decode_form(raw if method == "POST" else query))
            except StripeFault as fault:
                status, payload = fault.status, {"error": {"type": fault.kind, "code": fault.code,
                                                           "message": fault.message, "param": fault.param}}
            if method == "POST" and key and status < 500:
                self.idempotency[key] = (fingerprint, status, payload)
            return status, payload

    def route(self, method: str, path: str, params: dict) -> dict:
        bits = path.strip("/").split("/")
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_session(params)
        if method == "GET" and len(bits) == 4 and bits[:3] == ["v1", "checkout", "sessions"]:
            return self._session(bits[3])
        if method == "POST" and len(bits) == 5 and bits[:3] == ["v1", "checkout", "sessions"] and bits[4] == "expire":
            session = self._session(bits[3])
            if session["status"] != "open":
                raise StripeFault(400, "checkout_session_not_open", "Only open sessions can be expired.")
            session["status"] = "expired"
            return session
        if method == "GET" and len(bits) == 3 and bits[:2] == ["v1", "payment_intents"]:
            if bits[2] not in self.payment_intents:
                raise StripeFault(404, "resource_missing", f"No such payment_intent: '{bits[2]}'", "intent")
            return self.payment_intents[bits[2]]
        if method == "POST" and path == "/v1/refunds":
            return self.create_refund(params)
        if method == "GET" and len(bits) == 3 and bits[:2] == ["v1", "refunds"]:
            if bits[2] not in self.refunds:
                raise StripeFault(404, "resource_missing", f"No such refund: '{bits[2]}'", "id")
            return self.refunds[bits[2]]
        raise StripeFault(404, "resource_missing", f"Unrecognized request URL ({method}: {path}).")

    def _session(self, session_id: str) -> dict:
        if session_id not in self.sessions:
            raise StripeFault(404, "resource_missing", f"No such checkout.session: '{session_id}'", "session")
        return self.sessions[session_id]

    def create_session(self, p: dict) -> dict:
        if p.get("mode") != "payment":
            raise StripeFault(400, "parameter_invalid_empty", "mode must be payment", "mode")
        items = p.get("line_items")
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            raise StripeFault(400, "parameter_invalid_array", "1 to 100 line_items", "line_items")
        currencies, total = set(), 0
        for i, item in enumerate(items):
            qty = _int(item.get("quantity"), f"line_items[{i}][quantity]", 1)
            data = item.get("price_data") or {}
            currency = data.get("currency") or ""
            if currency != currency.lower() or currency not in CURRENCIES:
                raise StripeFault(400, "invalid_currency", f"Invalid currency: {currency}", f"line_items[{i}][price_data][currency]")
            amount = _int(data.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]", 0)
            if not (data.get("product_data") or {}).get("name"):
                raise StripeFault(400, "parameter_missing", "product_data.name", f"line_items[{i}][price_data][product_data][name]")
            _check_metadata((data.get("product_data") or {}).get("metadata"), f"line_items[{i}]")
            currencies.add(currency)
            total += qty * amount
        if len(currencies) != 1:
            raise StripeFault(400, "parameter_invalid", "all line items must share a currency", "line_items")
        now = int(time.time())
        expires_at = _int(p.get("expires_at", str(now + 86400)), "expires_at")
        if not now + 1800 <= expires_at <= now + 86400:
            raise StripeFault(400, "parameter_invalid_integer",
                              "The `expires_at` timestamp must be between 30 minutes and 24 hours from creation.", "expires_at")
        metadata = _check_metadata(p.get("metadata"), "metadata")
        _check_metadata((p.get("payment_intent_data") or {}).get("metadata"), "payment_intent_data[metadata]")
        session_id = f"cs_test_{uuid.uuid4().hex}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "currency": currencies.pop(), "amount_total": total, "amount_subtotal": total,
            "metadata": metadata, "client_reference_id": p.get("client_reference_id"),
            "customer_email": p.get("customer_email"), "expires_at": expires_at, "created": now,
            "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"), "payment_intent": None,
            "url": f"{self.url}/pay/{session_id}", "livemode": False,
            "_payment_intent_metadata": (p.get("payment_intent_data") or {}).get("metadata") or {},
            "_line_items": items,
        }
        self.sessions[session_id] = session
        return session

    def create_refund(self, p: dict) -> dict:
        pi_id = p.get("payment_intent")
        if not pi_id or pi_id not in self.payment_intents:
            raise StripeFault(400, "resource_missing", f"No such payment_intent: '{pi_id}'", "payment_intent")
        intent = self.payment_intents[pi_id]
        remaining = intent["amount_received"] - intent["amount_refunded"]
        if remaining <= 0:
            raise StripeFault(400, "charge_already_refunded", "Charge has already been refunded.")
        amount = _int(p.get("amount", str(remaining)), "amount", 1)
        if amount > remaining:
            raise StripeFault(400, "amount_too_large",
                              f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})", "amount")
        if p.get("reason") not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeFault(400, "parameter_invalid_string", "bad reason", "reason")
        refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "object": "refund", "amount": amount,
                  "currency": intent["currency"], "payment_intent": pi_id, "status": self.refund_status,
                  "metadata": _check_metadata(p.get("metadata"), "metadata"), "created": int(time.time())}
        if self.refund_status != "failed":
            intent["amount_refunded"] += amount
        self.refunds[refund["id"]] = refund
        return refund

    # --- test controls -----------------------------------------------------------------------
    def public(self, session: dict) -> dict:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def pay(self, session_id: str, payment_status: str = "paid", amount_total: int | None = None) -> dict:
        """The shopper completes the hosted page (``payment_status='unpaid'`` for delayed methods)."""
        with self.lock:
            session = self.sessions[session_id]
            pi_id = f"pi_{uuid.uuid4().hex[:24]}"
            if amount_total is not None:
                session["amount_total"] = amount_total
            self.payment_intents[pi_id] = {"id": pi_id, "object": "payment_intent", "amount": session["amount_total"],
                                           "amount_received": session["amount_total"] if payment_status == "paid" else 0,
                                           "amount_refunded": 0, "currency": session["currency"],
                                           "metadata": session["_payment_intent_metadata"],
                                           "status": "succeeded" if payment_status == "paid" else "processing"}
            session.update(status="complete", payment_status=payment_status, payment_intent=pi_id)
            return self.public(session)

    def settle_async(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            intent = self.payment_intents[session["payment_intent"]]
            intent.update(status="succeeded", amount_received=intent["amount"])
            session["payment_status"] = "paid"
            return self.public(session)

    def settle_refund(self, refund_id: str, status: str) -> dict:
        """A pending refund ends (``succeeded``, ``failed`` or ``canceled``), as the bank decides."""
        with self.lock:
            refund = self.refunds[refund_id]
            intent = self.payment_intents[refund["payment_intent"]]
            if status in ("failed", "canceled") and refund["status"] != "failed":
                intent["amount_refunded"] -= refund["amount"]
            refund["status"] = status
            return dict(refund)

    def expire(self, session_id: str) -> dict:
        with self.lock:
            self.sessions[session_id]["status"] = "expired"
            return self.public(self.sessions[session_id])

    @staticmethod
    def event(kind: str, obj: dict, event_id: str | None = None) -> dict:
        return {"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": kind,
                "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
                "data": {"object": obj}}

    @staticmethod
    def sign(body: str, secret: str, timestamp: int | None = None) -> str:
        return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)

    def deliver(self, target, event: dict, secret: str, timestamp: int | None = None,
                path: str = "/payments/stripe/webhook"):
        """POST a signed event to the app: ``target`` is a Flask test client or a base URL."""
        body = json.dumps(event)
        headers = {"Stripe-Signature": self.sign(body, secret, timestamp), "Content-Type": "application/json"}
        if isinstance(target, str):
            import urllib.request

            request = urllib.request.Request(target + path, data=body.encode(), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code
        return target.post(path, data=body, headers=headers)
