"""``flask users create --email … --role admin`` (prompts for the password)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from marketplace.accounts.models import Role
from marketplace.accounts.passwords import password_problem
from marketplace.accounts.services import create_user
from marketplace.core.audit import record
from marketplace.errors import Conflict

PROBLEMS = {
    "too_short": "at least 8 characters",
    "too_long": "too long",
    "common": "too common; choose another",
    "personal": "must not be the email address",
}


@click.group("users")
def users_cli():
    """Manage user accounts."""


@users_cli.command("create")
@click.option("--email", required=True, help="The account's email address.")
@click.option("--role", type=click.Choice(Role.CHOICES), default=Role.SHOPPER, show_default=True)
@click.option("--name", default="", help="Display name.")
@click.password_option("--password", prompt="Password", confirmation_prompt=True, help="Prompted when omitted.")
@with_appcontext
def create_user_command(email: str, role: str, name: str, password: str):
    """Create an account (e.g. the first admin)."""
    problem = password_problem(password, email=email)
    if problem:
        raise click.ClickException(f"Password refused: {PROBLEMS[problem]}")
    try:
        user = create_user(email, password, name=name or email.split("@")[0], role=role)
    except Conflict:
        raise click.ClickException(f"An account with {email.strip().lower()} already exists") from None
    record(None, "user.create_cli", "user", user.id, after={"email": user.email, "role": user.role})
    click.echo(f"Created {user.role} {user.email} (id {user.id})")
