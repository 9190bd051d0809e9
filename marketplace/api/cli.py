"""``flask users token <email>`` (create an API token, printed once), ``flask users tokens <email>``,
``flask users revoke-token <email> <id>``. Joins the accounts area's ``users`` group when it exists.

Each command runs in one transaction (the unit of work commits when it returns)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from marketplace.accounts.models import User
from marketplace.api.services import issue_token, revoke_token, tokens_of
from marketplace.errors import DomainError
from marketplace.extensions import db


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


@click.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token(email: str, name: str):
    """Create an API token for an artisan and print it (it is not shown again)."""
    try:
        token, secret = issue_token(_user(email), name)
    except DomainError as exc:  # a message for the terminal; the unit of work rolls back
        raise click.ClickException(exc.message) from None
    click.echo(secret)
    click.echo(f"token #{token.id} for {email}; use it as: Authorization: Bearer <token>", err=True)


@click.command("tokens")
@click.argument("email")
def list_tokens(email: str):
    """List a user's API tokens."""
    for token in tokens_of(_user(email)):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"#{token.id} {token.hint}… {token.name!r} {state} created {token.created_at:%Y-%m-%d} "
                   f"last used {token.last_used_at or '-'}")


@click.command("revoke-token")
@click.argument("email")
@click.argument("token_id", type=int)
def revoke(email: str, token_id: int):
    """Revoke one of a user's API tokens."""
    try:
        revoke_token(_user(email), token_id)
    except DomainError as exc:  # a message for the terminal; the unit of work rolls back
        raise click.ClickException(exc.message) from None
    click.echo(f"token #{token_id} revoked")


def register_cli(app: Flask) -> None:
    group = app.cli.commands.get("users")
    if not isinstance(group, click.Group):
        group = AppGroup("users", help="User accounts.")
        app.cli.add_command(group)
    for command in (create_token, list_tokens, revoke):
        group.add_command(command)
