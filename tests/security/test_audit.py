"""Admin actions leave audit entries (who, what, when, before/after). Every admin POST route must be
listed here with a way to exercise it, so a new admin action without an audit test fails."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from tests.factories import make_shop, make_user


def _shop(**kw):
    return make_shop(**kw).id


# endpoint → (make the target, form data, expected action)
ADMIN_ACTIONS = {
    "admin.verify_shop": (lambda: _shop(verified=False), {}, "shop"),
    "admin.unverify_shop": (lambda: _shop(verified=True), {}, "shop"),
    "admin.suspend_shop": (lambda: _shop(), {"reason": "Hàng giả mạo nhãn hiệu"}, "shop"),
    "admin.reinstate_shop": (lambda: _shop(status="suspended"), {"note": "Đã khắc phục"}, "shop"),
    "admin.change_role": (lambda: make_user("shopper").id, {"role": "artisan"}, "user"),
    "admin.set_active": (lambda: make_user("shopper").id, {"active": "0"}, "user"),
}


# Admin actions on background jobs act on a failed job kept in Redis (no database target for the generic test
# below); their views record job.retry / job.delete like every other action.
AUDITED_WITHOUT_DB_TARGET = {"admin.retry_job", "admin.delete_job"}


def _admin_post_rules(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("admin.") and "POST" in rule.methods}


def test_every_admin_action_is_covered(app):
    rules = _admin_post_rules(app)
    assert rules, "the admin area has POST actions"
    missing = set(rules) - set(ADMIN_ACTIONS) - AUDITED_WITHOUT_DB_TARGET
    assert not missing, f"add these admin actions to ADMIN_ACTIONS: {missing}"


@pytest.mark.parametrize("endpoint", sorted(ADMIN_ACTIONS))
def test_admin_action_is_audited(app, client, login, endpoint):
    rules = _admin_post_rules(app)
    assert endpoint in rules, f"{endpoint} is listed in ADMIN_ACTIONS but is not a route"
    make_target, data, target_type = ADMIN_ACTIONS[endpoint]
    admin = make_user("admin")
    target_id = make_target()
    db.session.commit()
    login(client, admin)
    rule = rules[endpoint]
    (arg,) = rule.arguments
    url = rule.build({arg: target_id})[1]
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    response = client.post(url, data=data)
    assert response.status_code == 303, response.status_code  # done: flash and back (uow.done)
    back = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-success"' in back and 'class="flash flash-error"' not in back, endpoint
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id).offset(before)).all()
    assert entries, f"{endpoint} wrote no audit entry"
    entry = entries[-1]
    assert entry.actor_id == admin.id and entry.actor_role == "admin"
    assert entry.target_type == target_type and entry.target_id == str(target_id)
    assert entry.created_at is not None and (entry.before is not None or entry.after is not None)
    # the audit log page shows it to admins
    if "admin.audit" in app.view_functions:
        assert client.get("/admin/audit").status_code == 200
