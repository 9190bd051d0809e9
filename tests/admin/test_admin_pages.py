"""Admin: verify / suspend / reinstate shops, roles, the audit log; suspended shops vanish from the catalog."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from marketplace.shops.models import Shop
from tests.accounts.helpers import make_account
from tests.factories import make_product, make_shop
from tests.shops.helpers import shop_form

MY_BLUEPRINTS = ("accounts", "shops", "admin")


def _entries(action):
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


@pytest.fixture
def admin(app):
    return make_account("admin", email="admin@example.vn")


def test_every_route_of_accounts_shops_admin_declares_access(app):
    from marketplace.accounts.permissions import ACCESS_LEVELS

    seen = set()
    for rule in app.url_map.iter_rules():
        bp = rule.endpoint.split(".", 1)[0]
        if bp not in MY_BLUEPRINTS:
            continue
        seen.add(bp)
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        assert access, f"{rule.rule} declares no access"
        assert set(access) <= set(ACCESS_LEVELS), rule.rule
        if bp == "admin":
            assert access == ("admin",), rule.rule
        if "POST" in rule.methods and rule.endpoint not in ("accounts.login", "accounts.register",
                                                           "accounts.forgot_password", "accounts.reset_password"):
            assert "public" not in access, rule.rule
    assert seen == set(MY_BLUEPRINTS)


@pytest.mark.parametrize("role", ["shopper", "artisan", "official"])
def test_admin_pages_refuse_other_roles(app, client, login, role):
    shop = make_shop()
    db.session.commit()
    login(client, make_account(role))
    for path in ("/admin", "/admin/shops", "/admin/users", "/admin/audit"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "x"}).status_code == 403
    db.session.refresh(shop)
    assert shop.status == "active"


def test_anonymous_admin_goes_to_login(app, client):
    response = client.get("/admin")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_admin_pages_render(app, client, login, admin):
    make_shop(name="Gốm <b>Quý</b>")
    db.session.commit()
    login(client, admin)
    for path in ("/admin", "/admin/shops", "/admin/shops?status=unverified", "/admin/shops?status=bogus&page=x",
                 "/admin/users?role=admin&q=admin", "/admin/audit?action=shop.verify", "/admin/audit?page=999"):
        response = client.get(path)
        assert response.status_code == 200, path
    html = client.get("/admin/shops").get_data(as_text=True)
    assert "Gốm &lt;b&gt;Quý&lt;/b&gt;" in html


def test_verify_shop_audited(app, client, login, admin):
    shop = make_shop(verified=False)
    db.session.commit()
    login(client, admin)
    assert client.get(f"/admin/shops/{shop.id}/verify").status_code == 405
    response = client.post(f"/admin/shops/{shop.id}/verify", data={"back": "/admin/shops?status=unverified"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/shops?status=unverified"
    db.session.refresh(shop)
    assert shop.verified is True
    [entry] = _entries("shop.verify")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "shop", str(shop.id))
    assert entry.before == {"verified": False} and entry.after == {"verified": True}
    page = client.get(f"/shops/{shop.slug}").get_data(as_text=True)
    assert "Đã xác minh" in page
    client.post(f"/admin/shops/{shop.id}/unverify")
    db.session.refresh(shop)
    assert shop.verified is False and len(_entries("shop.unverify")) == 1


def test_back_is_local_only(app, client, login, admin):
    shop = make_shop(verified=False)
    db.session.commit()
    login(client, admin)
    response = client.post(f"/admin/shops/{shop.id}/verify", data={"back": "//evil.example/x"})
    assert response.headers["Location"] == "/admin/shops"


def test_suspend_hides_products_at_once_and_reinstate_restores(app, client, login, admin):
    shop = make_shop()
    product = make_product(shop=shop, title_vi="Bình gốm men lam")
    db.session.commit()
    public = app.test_client()
    assert public.get(f"/products/{product.id}", follow_redirects=True).status_code == 200
    login(client, admin)
    refused = client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "  "})
    assert refused.status_code == 303
    db.session.refresh(shop)
    assert shop.status == "active" and not _entries("shop.suspend")
    client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "Bán hàng giả mạo OCOP"})
    db.session.refresh(shop)
    assert shop.status == "suspended"
    [entry] = _entries("shop.suspend")
    assert entry.note == "Bán hàng giả mạo OCOP" and entry.after == {"status": "suspended"}
    assert public.get(f"/products/{product.id}").status_code == 404
    assert public.get(f"/shops/{shop.slug}").status_code == 404
    assert "Bình gốm men lam" not in public.get("/products").get_data(as_text=True)
    client.post(f"/admin/shops/{shop.id}/reinstate")
    db.session.refresh(shop)
    assert shop.status == "active" and len(_entries("shop.reinstate")) == 1
    assert public.get(f"/products/{product.id}", follow_redirects=True).status_code == 200


def test_unknown_shop_404(app, client, login, admin):
    login(client, admin)
    assert client.post("/admin/shops/999999/verify").status_code == 404
    assert db.session.scalars(sa.select(AuditEntry)).all() == []  # nothing recorded


def test_role_change_audited_and_ends_sessions(app, client, login, admin):
    user = make_account("shopper", email="lan@example.vn")
    login(client, admin)
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "artisan"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.role == "artisan" and user.session_version == 2
    [entry] = _entries("user.role_change")
    assert entry.before == {"role": "shopper"} and entry.after == {"role": "artisan"} and entry.actor_id == admin.id
    client.post(f"/admin/users/{user.id}/role", data={"role": "overlord"})
    db.session.refresh(user)
    assert user.role == "artisan"


def test_admin_cannot_demote_or_lock_self(app, client, login, admin):
    login(client, admin)
    client.post(f"/admin/users/{admin.id}/role", data={"role": "shopper"})
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    db.session.refresh(admin)
    assert admin.role == "admin" and admin.active
    assert not _entries("user.role_change")


def test_lock_account_audited(app, client, login, admin):
    user = make_account("artisan")
    login(client, admin)
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    db.session.refresh(user)
    assert user.active is False and len(_entries("user.deactivate")) == 1


def test_audit_log_lists_entries_with_filters(app, client, login, admin):
    shop = make_shop(verified=False)
    db.session.commit()
    login(client, admin)
    client.post(f"/admin/shops/{shop.id}/verify")
    client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "nghi hàng giả nhãn"})
    html = client.get(f"/admin/audit?target_type=shop&target_id={shop.id}").get_data(as_text=True)
    assert "shop.verify" in html and "shop.suspend" in html and "admin@example.vn" in html
    only = client.get("/admin/audit?action=shop.verify").get_data(as_text=True)
    assert "nghi hàng giả nhãn" not in only and "nghi hàng giả nhãn" in html


def test_suspended_shop_hidden_from_demo_catalog(demo_app, demo_client, login):
    """On the seeded demo data: suspending a real shop takes its products off the catalog pages."""
    from marketplace.accounts.models import User
    from marketplace.catalog.models import Product, visible_products_clause

    admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
    product = db.session.scalars(sa.select(Product).where(visible_products_clause())).first()
    shop = db.session.get(Shop, product.shop_id)
    login(demo_client, admin)
    assert demo_app.test_client().get(f"/products/{product.id}", follow_redirects=True).status_code == 200  # on sale before
    suspended = demo_client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "demo"})
    assert suspended.status_code == 303
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == "suspended"
    visitor = demo_app.test_client()
    assert visitor.get(f"/products/{product.id}").status_code == 404
    listed = visitor.get("/products").get_data(as_text=True) + visitor.get(f"/shops/{shop.slug}").get_data(as_text=True)
    assert f"/products/{product.id}\"" not in listed


def test_huge_ids_are_404_not_500(app, client, login, admin):
    login(client, admin)
    huge = 10**20
    assert client.post(f"/admin/shops/{huge}/verify").status_code == 404
    assert client.post(f"/admin/users/{huge}/role", data={"role": "admin"}).status_code == 404
    assert client.get(f"/assisted/{huge}").status_code == 404
    make_account("artisan", email="a2@example.vn")
    login(client, make_account("artisan"))
    response = client.post("/seller/shop/new", data=shop_form(str(huge)))
    assert response.status_code == 400
    # nothing happened: no audit entry, no shop, no one made admin
    db.session.expire_all()
    assert db.session.scalars(sa.select(AuditEntry)).all() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0
    from marketplace.accounts.models import User

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "admin")) == 1


def test_suspended_shop_leaves_search_at_once(app, client, login, admin):
    shop = make_shop()
    make_product(shop=shop, title_vi="Bình hút lộc men rạn cổ")
    db.session.commit()
    before = app.test_client().get("/search?q=men+ran")
    assert before.status_code == 200
    assert "Bình hút lộc" in before.get_data(as_text=True)
    login(client, admin)
    client.post(f"/admin/shops/{shop.id}/suspend", data={"reason": "kiểm tra"})
    assert "Bình hút lộc" not in app.test_client().get("/search?q=men+ran").get_data(as_text=True)
