"""HTTP hardening: security headers on every response and ProxyFix behind a proxy.

Called once from ``create_app`` after the blueprints are registered.

Content-Security-Policy: scripts and styles only from our own origin (no ``unsafe-inline``: no
inline ``<script>``, no ``on*=`` handlers, no ``style=`` attributes in templates; a test scans them),
images from our origin and ``data:``, no plugins, no framing. ``form-action`` also allows Stripe
Checkout and VNPay's payment page (when configured), where the checkout form redirects.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def content_security_policy(app: Flask) -> str:
    form_action = "'self'"
    if app.config["STRIPE_SECRET_KEY"]:
        form_action += f" {STRIPE_CHECKOUT_ORIGIN}"
    if app.config["VNPAY_TMN_CODE"] and app.config["VNPAY_HASH_SECRET"]:
        parts = urlsplit(app.config["VNPAY_PAYMENT_URL"])
        form_action += f" {parts.scheme}://{parts.netloc}"  # checkout redirects to VNPay's payment page
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": form_action,
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(app: Flask) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(app),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    hsts = int(app.config["HSTS_SECONDS"])
    if hsts > 0:
        headers["Strict-Transport-Security"] = f"max-age={hsts}; includeSubDomains"
    return headers


def _add_headers(response: Response) -> Response:
    for name, value in current_app.extensions["security_headers"].items():
        response.headers.setdefault(name, value)
    return response


def _install_proxy_fix(app: Flask) -> None:
    """Trust ``X-Forwarded-*`` from that many proxies (0 = off, the default)."""
    counts = {key: int(app.config[f"PROXY_FIX_X_{key.upper()}"]) for key in ("for", "proto", "host", "prefix")}
    if not any(counts.values()):
        return
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=counts["for"], x_proto=counts["proto"], x_host=counts["host"],
                            x_prefix=counts["prefix"])


def init_app(app: Flask) -> None:
    app.extensions["security_headers"] = security_headers(app)
    app.after_request(_add_headers)
    _install_proxy_fix(app)
