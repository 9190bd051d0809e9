"""Every table that points at ``users.id`` is covered by the personal-data export and erasure (Law 91/2025).

The three maps below name each foreign key to ``users.id`` once. A table added later with such a key and no
entry here fails ``test_every_user_foreign_key_is_accounted_for``: decide how export and erasure treat it,
change ``marketplace/privacy/services.py`` if needed, then add it here. The behaviour tests prove the maps.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

import marketplace.models  # noqa: F401  (every model's table in db.metadata)
from marketplace.accounts.passwords import hash_password
from marketplace.api.models import ApiToken, hash_token
from marketplace.cart.models import CartItem, Favourite
from marketplace.core.audit import record
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.orders.models import OrderMessage, Review, SavedAddress
from marketplace.privacy.services import delete_account, export_user_data
from tests.factories import make_user
from tests.orders.helpers import place, two_shop_products

PASSWORD = "một mật khẩu dài đủ"

# Exported: (table, column) → the key of the export that carries those rows.
EXPORTED = {
    ("orders", "buyer_id"): "orders",
    # A checkout's personal data is the email given at checkout; every order of the checkout carries the
    # same email (orders[].delivery.email) — the test below checks that.
    ("checkouts", "buyer_id"): "orders",
    ("cart_items", "user_id"): "cart",
    ("favourites", "user_id"): "favourites",
    ("reviews", "buyer_id"): "reviews",
    ("api_tokens", "user_id"): "api_tokens",
    ("saved_addresses", "user_id"): "saved_addresses",
    ("order_messages", "author_id"): "order_messages",
}

# Erased: (table, column) → what deleting the account does to the rows.
ERASED = {
    ("orders", "buyer_id"): "detached",      # kept for accounting and statistics, address fields emptied
    ("checkouts", "buyer_id"): "detached",   # kept with its orders, email emptied
    ("cart_items", "user_id"): "deleted",
    ("favourites", "user_id"): "deleted",
    ("reviews", "buyer_id"): "deleted",
    ("api_tokens", "user_id"): "deleted",
    ("saved_addresses", "user_id"): "deleted",
    ("order_messages", "author_id"): "deleted",  # the shopper's own words; the order and its history stay
}

# Deliberately kept, and why.
KEPT = {
    # The audit trail is not erased: its entries keep pointing at the account row, which erasure anonymises
    # (no email, name, phone or password); the account.delete entry itself carries no personal data.
    ("audit_log", "actor_id"): "anonymised",
    # An order's history (placed, cancelled…) stays with the order; the actor is the anonymised account.
    ("order_events", "actor_id"): "anonymised",
    # Written only by artisans, officials and admins, whose accounts cannot delete themselves
    # (privacy.services.DELETABLE_ROLES is shoppers only; an admin handles those cases by hand).
    ("shops", "owner_id"): "staff only",
    ("payouts", "actor_id"): "staff only",
    ("payout_batches", "actor_id"): "staff only",
    ("ledger_lines", "actor_id"): "staff only",  # journal lines are never changed; only admins act on them
    ("refunds", "actor_id"): "staff only",
    ("bank_transactions", "resolved_by_id"): "staff only",  # the admin who settled a bank transfer
    ("import_runs", "actor_id"): "staff only",  # artisans' bulk imports (artisans cannot delete themselves)
    ("shop_consents", "recorded_by_id"): "staff only",
    ("shop_consents", "handed_over_by_id"): "staff only",
    ("shop_consents", "handed_over_to_id"): "staff only",
    ("official_recorded_values", "entered_by_id"): "staff only",
    ("official_external_presences", "entered_by_id"): "staff only",
    ("official_recognition_decisions", "entered_by_id"): "staff only",
    ("official_craft_recognitions", "entered_by_id"): "staff only",
    ("official_tour_routes", "entered_by_id"): "staff only",
    ("official_indicator_baselines", "entered_by_id"): "staff only",
    ("products", "ocop_reviewed_by_id"): "staff only (the official who reviewed the claim)",
    ("ip_protections", "reviewed_by_id"): "staff only (the official who reviewed the claim)",
}


def user_foreign_keys() -> set[tuple[str, str]]:
    return {(table.name, fk.parent.name) for table in db.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == "users" and fk.column.name == "id"}


def test_every_user_foreign_key_is_accounted_for():
    found = user_foreign_keys()
    handled = set(EXPORTED) | set(ERASED)
    assert set(EXPORTED) == set(ERASED), "a table is exported but not erased, or the other way round"
    assert not handled & set(KEPT)
    assert found - handled - set(KEPT) == set(), "new foreign keys to users.id: teach privacy/services.py about them"
    assert handled | set(KEPT) == found, "entries for foreign keys that no longer exist"


def _shopper_with_everything():
    vase, scarf = two_shop_products()
    shopper = make_user("shopper", email="lan@example.vn", password_hash=hash_password(PASSWORD), phone="0912345678",
                        name="Nguyễn Thị Lan")
    db.session.commit()
    checkout = place({vase.variants[0].id: 1, scarf.variants[0].id: 1}, buyer=shopper)
    db.session.add_all([
        CartItem(user_id=shopper.id, variant_id=vase.variants[0].id, quantity=2),
        Favourite(user_id=shopper.id, product_id=scarf.id),
        Review(product_id=vase.id, buyer_id=shopper.id, shop_id=vase.shop_id, rating=5, body="Đẹp"),
        # tokens are issued to artisans only; erasure must still remove one left from a role change
        ApiToken(user_id=shopper.id, name="old", token_hash=hash_token("secret-of-lan"), hint="secret-of"),
        SavedAddress(user_id=shopper.id, recipient_name="Lan", phone="0912345678", province_code="01",
                     ward="Xã Bát Tràng", street="12 Giang Cao"),
        OrderMessage(order_id=checkout.orders[0].id, shop_id=checkout.orders[0].shop_id, author="buyer",
                     author_id=shopper.id, body="Giao giờ hành chính giúp mình nhé"),
    ])
    record(shopper, "order.cancel", "order", checkout.orders[0].id, note="test")
    db.session.commit()
    return shopper, checkout


def _rows_pointing_at(user_id: int) -> dict[tuple[str, str], int]:
    counts = {}
    for table_name, column in user_foreign_keys():
        table = db.metadata.tables[table_name]
        counts[(table_name, column)] = db.session.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c[column] == user_id))
    return counts


def test_export_carries_every_exported_table(app):
    shopper, checkout = _shopper_with_everything()
    before = _rows_pointing_at(shopper.id)
    data = json.loads(json.dumps(export_user_data(shopper)))  # JSON-ready
    for key, section in EXPORTED.items():
        assert before[key] > 0, f"the test made no {key} row"
        assert data[section], f"{key} rows are missing from the export's {section!r}"
    assert {o["delivery"]["email"] for o in data["orders"]} == {checkout.email}
    assert data["reviews"][0]["body"] == "Đẹp" and data["cart"][0]["quantity"] == 2
    assert data["api_tokens"][0]["name"] == "old"


def test_erasure_leaves_no_row_pointing_at_the_person(app):
    shopper, checkout = _shopper_with_everything()
    user_id, checkout_id = shopper.id, checkout.id
    before = _rows_pointing_at(user_id)
    assert all(before[key] > 0 for key in ERASED)
    assert before[("audit_log", "actor_id")] > 0 and before[("order_events", "actor_id")] > 0
    delete_account(shopper, PASSWORD)
    db.session.commit()
    after = _rows_pointing_at(user_id)
    for key, count in after.items():
        if key in KEPT:
            continue
        assert count == 0, f"{key}: {count} rows still point at the erased account"
    assert after[("audit_log", "actor_id")] >= before[("audit_log", "actor_id")]  # kept, see KEPT
    # detached rows are still there
    orders = db.metadata.tables["orders"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(orders)
                             .where(orders.c.checkout_id == checkout_id)) == 2
    # what the kept rows point at carries nothing personal any more
    row = db.session.execute(sa.text("SELECT email, name, phone, password_hash FROM users WHERE id = :id"),
                             {"id": user_id}).one()
    assert row.email.endswith("@deleted.invalid") and row.name == "" and row.phone is None
    assert row.password_hash is None
    kept_audit = db.session.execute(sa.text("SELECT before, after, note FROM audit_log WHERE actor_id = :id"),
                                    {"id": user_id}).all()
    assert "lan@example.vn" not in json.dumps([tuple(r) for r in kept_audit], default=str)


@pytest.mark.parametrize("role", ["artisan", "official", "admin"])
def test_staff_only_tables_belong_to_accounts_that_cannot_delete_themselves(app, role):
    user = make_user(role, password_hash=hash_password(PASSWORD))
    db.session.commit()
    with pytest.raises(Conflict):
        delete_account(user, PASSWORD)
