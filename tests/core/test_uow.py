"""The unit of work: one transaction per view and command, DomainErrors answered in one place."""
from __future__ import annotations

import click
import pytest
import sqlalchemy as sa
from flask import get_flashed_messages, url_for
from flask_wtf import FlaskForm
from wtforms import StringField

from marketplace.catalog.models import CraftVillage
from marketplace.core import uow
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import db
from tests.factories import make_village


def _village_count() -> int:
    with db.engine.connect() as conn:  # another connection: sees only what was committed
        return conn.scalar(sa.select(sa.func.count()).select_from(CraftVillage.__table__))


class NameForm(FlaskForm):
    name = StringField()


@pytest.fixture
def views(app):
    """A few views added to the app the way areas add theirs, then wrapped by ``uow.install``."""

    def ok():
        make_village()
        return "ok"

    def boom():
        make_village()
        raise RuntimeError("boom")

    @uow.error_redirect(lambda slug: f"/back/{slug}")
    def refused(slug):
        make_village()
        raise Conflict("Đã có làng này.")

    def plain_refusal():
        make_village()
        raise InvalidInput("Sai.")

    def form_view():
        form = NameForm(meta={"csrf": False})
        with uow.field_errors(form) as outcome:
            make_village()
            raise InvalidInput("Tên trùng.", field="name")
        return f"{outcome.status}:{form.name.errors}", outcome.status

    def two_commits():
        make_village()
        uow.commit_early("test: the first part must survive the second part's failure")
        make_village()
        raise RuntimeError("second part failed")

    for rule, fn in (("/t/ok", ok), ("/t/boom", boom), ("/t/refused/<slug>", refused), ("/t/plain", plain_refusal),
                     ("/t/form", form_view), ("/t/two", two_commits)):
        app.add_url_rule(rule, fn.__name__, fn, methods=["GET", "POST"])
    uow.install(app)
    return app


def test_a_view_commits_once_when_it_returns(views, client):
    assert client.get("/t/ok").status_code == 200
    assert _village_count() == 1


def test_an_exception_rolls_everything_back(views, client):
    views.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/t/boom").status_code == 500
    assert _village_count() == 0


def test_domain_error_html_flashes_and_redirects_303(views, client):
    response = client.post("/t/refused/bat-trang")
    assert response.status_code == 303 and response.headers["Location"] == "/back/bat-trang"
    assert _village_count() == 0
    with client.session_transaction() as session:
        assert ("error", "Đã có làng này.") in session["_flashes"]


def test_domain_error_json_gets_the_error_document(views, client):
    response = client.post("/t/refused/x", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "Đã có làng này."
    assert _village_count() == 0


def test_domain_error_without_redirect_is_the_error_page(views, client):
    response = client.post("/t/plain")
    assert response.status_code == 400 and "Sai." in response.get_data(as_text=True)
    assert _village_count() == 0


def test_field_errors_roll_back_and_land_on_the_field(views, client):
    response = client.post("/t/form")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "400:['Tên trùng.']"
    assert _village_count() == 0


def test_commit_early_is_the_named_opt_out(views, client):
    views.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/t/two").status_code == 500
    assert _village_count() == 1  # the first part was committed on purpose; the second rolled back
    with pytest.raises(ValueError):
        uow.commit_early("  ")


def test_every_view_and_command_is_wrapped(app):
    unwrapped = [e for e, v in app.view_functions.items() if e != "static" and not getattr(v, "__unit_of_work__", 0)]
    assert unwrapped == []

    def walk(group):
        for command in group.commands.values():
            if isinstance(command, click.Group):
                yield from walk(command)
            elif command.callback is not None:
                yield command

    commands = list(walk(app.cli))
    assert len(commands) > 5
    assert [c.name for c in commands if not getattr(c.callback, "__unit_of_work__", 0)] == []


def test_a_command_commits_or_rolls_back(app, runner):
    @app.cli.command("t-ok")
    def t_ok():
        make_village()

    @app.cli.command("t-fail")
    def t_fail():
        make_village()
        raise click.ClickException("refused")

    uow.install(app)
    assert runner.invoke(args=["t-fail"]).exit_code == 1
    assert _village_count() == 0
    assert runner.invoke(args=["t-ok"]).exit_code == 0
    assert _village_count() == 1


def test_transaction_outside_views(app):
    with pytest.raises(RuntimeError):
        with uow.transaction():
            make_village()
            raise RuntimeError
    assert _village_count() == 0
    with uow.transaction():
        make_village()
    assert _village_count() == 1


def test_done_flashes_and_redirects(app):
    with app.test_request_context("/"):
        response = uow.done("Đã lưu.", url_for("catalog.home"))
        assert response.status_code == 303 and get_flashed_messages(with_categories=True) == [("success", "Đã lưu.")]
        assert response.headers["Location"] == "/"


def test_the_wrapper_itself_rolls_back_before_the_exception_leaves_it(views):
    """Not left to the error handler or the teardown: the session is clean as the exception passes by."""
    with views.test_request_context("/t/boom"):
        with pytest.raises(RuntimeError):
            views.view_functions["boom"]()
        assert not db.session().in_transaction()
