"""API token services: issue, find by secret, revoke. They flush; the caller commits."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.api.models import ApiToken, hash_token
from marketplace.core.time import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.extensions import db

TOKEN_ROLES = (Role.ARTISAN,)


def issue_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (shown once, never stored)."""
    if user.role not in TOKEN_ROLES:
        raise InvalidInput("API write tokens are for artisans", field="role")
    secret = ApiToken.new_secret()
    token = ApiToken(user_id=user.id, name=(name or "")[:80], token_hash=hash_token(secret), hint=secret[:10])
    db.session.add(token)
    db.session.flush()
    return token, secret


def user_for_secret(secret: str | None) -> User | None:
    """The active user behind an active token, stamping its last use (at most once a minute); None otherwise."""
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or not token.is_active:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.active or user.role not in TOKEN_ROLES:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # bookkeeping: committed with the request's unit of work
        db.session.flush()
    return user


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
