"""``flask users create``."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.accounts.passwords import verify_password
from marketplace.core.audit import AuditEntry
from marketplace.extensions import db


def test_create_admin_prompts_for_password(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "Boss@Example.vn", "--role", "admin"],
                           input="quan-tri-lang-nghe\nquan-tri-lang-nghe\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.vn"))
    assert user.role == "admin" and verify_password(user.password_hash, "quan-tri-lang-nghe")
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.target_id == str(user.id))) == "user.create_cli"


def test_create_refuses_weak_password_and_duplicates(app, runner):
    weak = runner.invoke(args=["users", "create", "--email", "a@example.vn", "--role", "admin"], input="123456789\n123456789\n")
    assert weak.exit_code != 0 and "common" in weak.output
    ok = runner.invoke(args=["users", "create", "--email", "a@example.vn"], input="quan-tri-lang-nghe\nquan-tri-lang-nghe\n")
    assert ok.exit_code == 0
    dup = runner.invoke(args=["users", "create", "--email", "A@example.vn"], input="quan-tri-lang-nghe\nquan-tri-lang-nghe\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
