"""Account services: registration, sign-in checks, passwords, reset tokens, roles."""
from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import (
    burn_verify_time,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from marketplace.accounts.phone import normalize_vn_mobile
from marketplace.core.audit import record
from marketplace.errors import Conflict, InvalidInput, NotAllowed
from marketplace.extensions import db

log = logging.getLogger("marketplace.security")

SELF_SERVICE_ROLES = (Role.SHOPPER, Role.ARTISAN)
RESET_SALT = "password-reset"


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str | None) -> User | None:
    email = normalize_email(email)
    if not email:
        return None
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))


def create_user(email: str, password: str | None, *, name: str = "", role: str = Role.SHOPPER,
                marketing_consent: bool = False, locale: str = "vi", check_policy: bool = True) -> User:
    email = normalize_email(email)
    if role not in Role.CHOICES:
        raise InvalidInput("unknown role", field="role")
    if user_by_email(email) is not None:
        raise Conflict("email taken", field="email")
    if password is not None and check_policy:
        problem = password_problem(password, email=email)
        if problem:
            raise InvalidInput(problem, field="password")
    user = User(email=email, name=(name or "").strip()[:120], role=role, locale=locale if locale in ("vi", "en") else "vi",
                password_hash=hash_password(password) if password else None,
                marketing_consent=bool(marketing_consent), session_version=1, active=True)
    db.session.add(user)
    db.session.flush()
    return user


def register_user(email: str, password: str, *, name: str, role: str, marketing_consent: bool = False,
                  locale: str = "vi", phone: str | None = None) -> User:
    """Self-service sign-up: only shopper or artisan; a phone, when given, is a Vietnamese mobile number."""
    if role not in SELF_SERVICE_ROLES:
        raise NotAllowed("role not allowed", field="role")
    normalized = normalize_vn_mobile(phone) if phone else None
    if phone and normalized is None:
        raise InvalidInput(_("Số điện thoại di động không hợp lệ (ví dụ 0912 345 678)."), field="phone")
    user = create_user(email, password, name=name, role=role, marketing_consent=marketing_consent, locale=locale)
    user.phone = normalized
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active account, else None (same cost either way)."""
    user = user_by_email(email)
    if user is None or not user.password_hash:
        burn_verify_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def end_other_sessions(user: User) -> None:
    """Every session and remember-me cookie carrying the old version stops working."""
    user.session_version = (user.session_version or 1) + 1


def update_profile(user: User, *, name: str, phone: str | None, locale: str, marketing_consent: bool) -> None:
    """The account page's own details. A phone number, when given, must be a Vietnamese mobile number."""
    normalized = None
    if phone:
        normalized = normalize_vn_mobile(phone)
        if normalized is None:
            raise InvalidInput(_("Số điện thoại di động không hợp lệ (ví dụ 0912 345 678)."), field="phone")
    user.name = name
    user.phone = normalized
    user.locale = locale
    user.marketing_consent = bool(marketing_consent)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput("wrong current password", field="current_password")
    set_password(user, new_password)


def set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise InvalidInput(problem, field="password")
    user.password_hash = hash_password(new_password)
    end_other_sessions(user)


# --- password reset tokens ---------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does, so a used token (or one issued before a change) is dead."""
    return hashlib.sha256(f"{user.id}:{user.password_hash or ''}".encode()).hexdigest()[:20]


def make_reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_reset_token(token: str, max_age: int | None = None) -> User | None:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"] if max_age is None else max_age
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    try:
        user = db.session.get(User, int(data.get("u")))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


# --- administration ------------------------------------------------------------------------------------

def change_role(admin: User, user: User, role: str) -> None:
    if role not in Role.CHOICES:
        raise InvalidInput("unknown role", field="role")
    if user.id == admin.id and role != Role.ADMIN:
        raise NotAllowed("an admin cannot demote themselves", field="role")
    before = user.role
    if before == role:
        return
    user.role = role
    end_other_sessions(user)  # pages the old role could open must not stay open in a live session
    record(admin, "user.role_change", "user", user.id, before={"role": before}, after={"role": role})


def set_active(admin: User, user: User, active: bool) -> None:
    if user.id == admin.id:
        raise NotAllowed("an admin cannot deactivate themselves")
    if bool(user.active) == bool(active):
        return
    user.active = bool(active)
    end_other_sessions(user)
    record(admin, "user.activate" if active else "user.deactivate", "user", user.id,
           before={"active": not active}, after={"active": bool(active)})
