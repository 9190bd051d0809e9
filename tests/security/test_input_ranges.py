"""Every input has a range: out-of-range ids and control characters never reach the database as a 500.

Walks the whole URL map (so routes added later are covered too), on SQLite and PostgreSQL, as a guest and
as an admin, sending: ids past 2^31−1 and 2^63−1 in the path, in the query string and in form fields; NUL
and other control characters in slugs, query strings, form fields and API JSON bodies.
"""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from marketplace.accounts.models import Role
from marketplace.core.inputs import MAX_ID, parse_id
from marketplace.extensions import db
from tests.conftest import login_as
from tests.factories import make_product, make_shop, make_user, make_village

ID_FIELDS = ("id", "variant_id", "product_id", "shop_id", "village_id", "order_id", "image_id", "review_id",
             "quantity", "page", "amount")
TEXT_FIELDS = ("q", "village", "commune", "email", "name", "next", "session_id", "title_vi", "note", "street",
               "recipient_name", "reason", "sort", "category")


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _build(rule, int_value: str, text_value: str) -> str | None:
    values = {}
    for name in rule.arguments:
        if rule.defaults and name in rule.defaults:
            continue
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif getattr(converter, "items", None):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "sample"
    path = rule.build(values, append_unknown=False)[1]
    # put the hostile values in by hand: the converters would refuse to build them
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            path = path.replace("/1", f"/{int_value}", 1)
        elif not getattr(converter, "items", None) and name not in (rule.defaults or {}):
            path = path.replace("sample", text_value, 1)
    return path


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    artisan = make_user(Role.ARTISAN)
    make_product(shop=make_shop(village=make_village(), owner=artisan))
    db.session.commit()
    return {"admin": admin}


@pytest.mark.parametrize("who", ["guest", "admin"])
def test_no_route_answers_5xx_to_out_of_range_ids_or_control_characters(app, world, who):
    client = app.test_client()
    if who == "admin":
        login_as(client, world["admin"])
    failures = []
    for rule in _rules(app):
        methods = sorted(m for m in rule.methods if m in ("GET", "POST", "PUT", "PATCH", "DELETE"))
        for int_value, text_value in ((str(MAX_ID + 1), "a%00b"), ("9223372036854775808", "%7F")):
            path = _build(rule, int_value, text_value)
            query = "&".join([f"{f}={int_value}" for f in ID_FIELDS] + [f"{f}=a%00b" for f in TEXT_FIELDS[:3]])
            form = {f: int_value for f in ID_FIELDS}
            one_bad = [{**{f: "1" for f in ID_FIELDS}, f: int_value} for f in ID_FIELDS]  # the others valid
            hostile_text = {f: "a\x00b" for f in TEXT_FIELDS}
            for method in methods:
                requests = [(path, None, None), (f"{path}?{query}", None, None)]
                requests += [(f"{path}?{f}={int_value}", None, None) for f in ID_FIELDS if method == "GET"]
                if method != "GET":
                    requests += [(path, data, None) for data in one_bad]
                    requests += [(path, form, None), (path, hostile_text, None),
                                 (path, None, {k: "a\x00b" for k in TEXT_FIELDS}),
                                 (path, None, {k: int(v) if v.lstrip("-").isdigit() else v for k, v in form.items()})]
                for url, data, json in requests:
                    try:
                        response = client.open(url, method=method, data=data, json=json)
                    except Exception as exc:  # TESTING propagates exceptions: a 500 in production
                        failures.append(f"{method} {url} data={data} json={json is not None}: {exc!r}"[:300])
                        db.session.rollback()
                        continue
                    if response.status_code >= 500:
                        failures.append(f"{method} {url} data={data and sorted(data)} json={json is not None}: "
                                        f"{response.status_code}")
    assert failures == []


def test_out_of_range_ids_are_404_and_nul_is_400(app, world):
    client = app.test_client()
    for url in (f"/products/{MAX_ID + 1}", "/products/9223372036854775808", f"/api/v1/products/{MAX_ID + 1}"):
        assert client.get(url).status_code == 404, url
    response = client.get("/search?village=a%00b")
    assert response.status_code == 400 and "village" in response.get_data(as_text=True)
    api = client.get("/api/v1/products?commune=a%00b")
    assert api.status_code == 400 and api.get_json()["error"]["field"] == "commune"
    form = client.post("/accounts/login", data={"email": "a\x00b@example.vn", "password": "x"})
    assert form.status_code == 400 and "email" in form.get_data(as_text=True)


def test_text_areas_keep_tabs_and_newlines(app, world):
    client = app.test_client()
    response = client.post("/accounts/login", data={"email": "khach@example.vn\t", "password": "a\nb"})
    assert response.status_code != 400 or "ký tự điều khiển" not in response.get_data(as_text=True)


@pytest.mark.parametrize("value,expected", [
    ("1", 1), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("0", None), ("-1", None), ("", None), (None, None),
    ("1.5", None), ("١٢", None), ("9" * 40, None), (" 7 ", 7),
])
def test_parse_id(value, expected):
    assert parse_id(value) == expected
