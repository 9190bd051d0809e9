"""Fixtures shared by the officials' tests."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from tests.factories import make_user


@pytest.fixture
def official(app):
    user = make_user(Role.OFFICIAL, name="Chị Mai")
    db.session.commit()
    return user
