"""Route inventory (ASVS 8.2.1) and CSRF (ASVS 3.5.1), written over the URL map so that they keep
covering the routes other areas add.

1. Every rule (except static) names who may use it: its view has ``access`` (``@public`` /
   ``@role_required``) with known levels.
2. A crawl as each role (anonymous, shopper, artisan, official, admin) of every GET page reserved for
   other roles gets 401/403/404 or a redirect to the login page.
3. With CSRF on, every POST route refuses a request without a token (400), except the API (bearer
   tokens, no cookies) and the Stripe webhook (signature-authenticated), which must be exempt.
"""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from marketplace.accounts.models import Role
from marketplace.accounts.permissions import ACCESS_LEVELS, PUBLIC
from marketplace.extensions import csrf, db
from tests.factories import make_product, make_shop, make_user, make_village

ROLES = ("anonymous", Role.SHOPPER, Role.ARTISAN, Role.OFFICIAL, Role.ADMIN)
CSRF_EXEMPT_ENDPOINTS = {"payments.stripe_webhook", "payments.vietqr_webhook"}
CSRF_EXEMPT_PATHS = ("/payments/stripe/webhook", "/payments/vietqr/webhook")
API_PREFIX = "/api/"


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _samples():
    """One of each object a URL may name, so the crawl reaches real rows."""
    from marketplace.orders.models import Checkout, Order, OrderStatus

    artisan = make_user(Role.ARTISAN)
    village = make_village()
    shop = make_shop(village=village, owner=artisan)
    product = make_product(shop=shop, images=1)
    shopper = make_user(Role.SHOPPER)
    checkout = Checkout(token="sample-checkout", buyer_id=shopper.id, payment_method="cod", total=380_000)
    db.session.add(checkout)
    db.session.flush()
    order = Order(checkout_id=checkout.id, shop_id=shop.id, buyer_id=shopper.id, status=OrderStatus.AWAITING_SHIPMENT,
                  payment_method="cod", subtotal=350_000, shipping_fee=30_000, total=380_000)
    db.session.add(order)
    db.session.flush()
    ints = {"product_id": product.id, "shop_id": shop.id, "village_id": village.id, "order_id": order.id,
            "variant_id": product.variants[0].id, "image_id": product.images[0].id, "user_id": shopper.id,
            "checkout_id": checkout.id}
    strings = {"slug": shop.slug, "shop_slug": shop.slug, "village_slug": village.slug, "commune": "xã Bát Tràng",
               "key": "test/none.jpg", "token": "x" * 20, "lang": "en", "fmt": "csv", "format": "csv"}
    return ints, strings


def _url_for_rule(rule, ints, strings):
    values = {}
    for name in rule.arguments:
        if rule.defaults and name in rule.defaults:
            continue
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            values[name] = ints.get(name, 1)
        else:
            values[name] = strings.get(name, "sample")
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:  # a converter with stricter rules (e.g. any(...)): take the first choice if we can
        for name, converter in rule._converters.items():
            items = getattr(converter, "items", None)
            if items and name in values:
                values[name] = sorted(items)[0]
        return rule.build(values, append_unknown=False)[1]


def test_every_route_declares_its_access(app):
    missing, unknown = [], []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access", None)
        if not access:
            missing.append(f"{rule.rule} ({rule.endpoint})")
        elif not set(access) <= set(ACCESS_LEVELS):
            unknown.append(f"{rule.rule}: {access}")
    assert missing == [], "routes without @public/@role_required:\n" + "\n".join(missing)
    assert unknown == [], "unknown access levels:\n" + "\n".join(unknown)


def test_inventory_has_the_expected_shape(app):
    """The foundation's public pages are public; any private area page is not."""
    access = {rule.endpoint: app.view_functions[rule.endpoint].access for rule in _rules(app)}
    for endpoint in ("catalog.home", "catalog.products", "catalog.product_detail", "site.healthz"):
        assert access[endpoint] == (PUBLIC,)
    for endpoint, levels in access.items():
        if endpoint.split(".")[0] in {"seller", "admin"}:
            assert PUBLIC not in levels, endpoint


def _is_refusal(response, role) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        return "login" in location
    return False


@pytest.mark.parametrize("role", ROLES)
def test_crawl_other_roles_pages(app, login, role):
    ints, strings = _samples()
    users = {r: make_user(r) for r in ROLES if r != "anonymous"}
    db.session.commit()
    client = app.test_client()
    if role != "anonymous":
        login(client, users[role])
    checked, leaks = 0, []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        access = app.view_functions[rule.endpoint].access
        if PUBLIC in access or role in access:
            continue
        url = _url_for_rule(rule, ints, strings)
        response = client.get(url)
        checked += 1
        if not _is_refusal(response, role):
            leaks.append(f"{role} GET {url} ({rule.endpoint}, for {access}) → {response.status_code}")
    assert leaks == [], "\n".join(leaks)
    if role == "anonymous":
        private_get = [r for r in _rules(app) if "GET" in r.methods
                       and PUBLIC not in app.view_functions[r.endpoint].access]
        assert checked == len(private_get)


def _post_rules(app):
    return [rule for rule in _rules(app) if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]


def test_every_form_post_needs_a_csrf_token(app):
    ints, strings = _samples()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    accepted = []
    checked = 0
    for rule in _post_rules(app):
        if rule.rule.startswith(API_PREFIX) or rule.endpoint in CSRF_EXEMPT_ENDPOINTS \
                or rule.rule in CSRF_EXEMPT_PATHS:
            continue
        url = _url_for_rule(rule, ints, strings)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            response = client.open(url, method=method, data={"name": "x"})
            checked += 1
            if response.status_code != 400 or b"CSRF" not in response.data:
                accepted.append(f"{method} {url} ({rule.endpoint}) → {response.status_code}")
    assert accepted == [], "POST routes that did not refuse a missing CSRF token:\n" + "\n".join(accepted)
    app.config["WTF_CSRF_ENABLED"] = False
    # the test is meaningful only if it saw something (the foundation has none; areas add them)
    assert checked == sum(len(r.methods & {"POST", "PUT", "PATCH", "DELETE"}) for r in _post_rules(app)
                          if not (r.rule.startswith(API_PREFIX) or r.endpoint in CSRF_EXEMPT_ENDPOINTS
                                  or r.rule in CSRF_EXEMPT_PATHS))


def _view_location(view) -> str:
    return f"{view.__module__}.{view.__name__}"


def test_only_the_webhook_and_the_api_are_csrf_exempt(app):
    exempt_views = set(csrf._exempt_views)
    exempt_blueprints = {bp.name for bp in csrf._exempt_blueprints}
    for rule in _post_rules(app):
        view = app.view_functions[rule.endpoint]
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        is_exempt = _view_location(view) in exempt_views or blueprint in exempt_blueprints
        should_be = rule.rule.startswith(API_PREFIX) or rule.endpoint in CSRF_EXEMPT_ENDPOINTS \
            or rule.rule in CSRF_EXEMPT_PATHS
        assert is_exempt == should_be, f"{rule.rule} ({rule.endpoint}): exempt={is_exempt}, expected {should_be}"


def test_api_writes_ignore_the_session_cookie(app, login):
    """The API is CSRF-exempt because it authenticates by bearer token only: a browser session is not enough."""
    ints, strings = _samples()
    artisan = make_user(Role.ARTISAN)
    db.session.commit()
    client = app.test_client()
    login(client, artisan)
    checked = 0
    for rule in _post_rules(app):
        if not rule.rule.startswith(API_PREFIX) or PUBLIC in app.view_functions[rule.endpoint].access:
            continue
        url = _url_for_rule(rule, ints, strings)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            response = client.open(url, method=method, json={})
            checked += 1
            assert response.status_code == 401, f"{method} {url} → {response.status_code}"
            assert response.get_json()["error"]["code"] == "unauthorized"
    assert checked > 0 or not any(r.rule.startswith(API_PREFIX) for r in _post_rules(app))


def test_state_changes_refuse_get(app):
    """ASVS 3.5.3: a route that changes state (POST-only) answers 405 to GET (logout, add-to-cart, delete…)."""
    ints, strings = _samples()
    db.session.commit()
    client = app.test_client()
    wrong = []
    readable = {rule.rule for rule in _rules(app) if "GET" in rule.methods}
    for rule in _post_rules(app):
        if "GET" in rule.methods or rule.rule in readable:  # the same URL also has a page or a read
            continue
        url = _url_for_rule(rule, ints, strings)
        status = client.get(url).status_code
        if status != 405:
            wrong.append(f"GET {url} ({rule.endpoint}) → {status}")
    assert wrong == [], "\n".join(wrong)
