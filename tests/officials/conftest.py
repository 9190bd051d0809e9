"""Fixtures shared by the officials' tests."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.officials import aggregates
from tests.factories import make_user


@pytest.fixture
def official(app):
    user = make_user(Role.OFFICIAL, name="Chị Mai")
    db.session.commit()
    return user


@pytest.fixture(autouse=True)
def aggregates_agree(request):
    """After every scenario of the officials' tests: the sales aggregates equal a recomputation from the
    orders (what ``flask stats verify`` checks)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")  # set up before this fixture, so torn down after its check
    yield
    with app.app_context():
        db.session.rollback()
        differences = aggregates.verify(db.session.connection())
        db.session.rollback()
    assert differences == [], [str(d) for d in differences]
