"""Password hashing with argon2id (argon2-cffi defaults: m=64 MiB, t=3, p=4) and the password policy.

The cost parameters come from the config (``ARGON2_*``; the testing config makes them cheap); outside an
app, ``config.Config``'s. Verification reads the parameters from the stored hash, so any hash verifies.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

from config import Config

MIN_LENGTH = 8
MAX_LENGTH = 1024  # refuse absurd inputs (hashing cost), far above any real passphrase
ARGON2_SETTINGS = ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")


@lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def _hasher() -> PasswordHasher:
    if has_app_context():
        return _hasher_for(*(int(current_app.config[name]) for name in ARGON2_SETTINGS))
    return _hasher_for(*(int(getattr(Config, name)) for name in ARGON2_SETTINGS))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


_DUMMY_HASH: dict[tuple, str] = {}


def burn_verify_time(password: str) -> None:
    """Spend about the time of a real verification (unknown email), so timing does not tell emails apart."""
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not-a-real-password-0000")
    verify_password(_DUMMY_HASH[key], password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-case), ``common_passwords.txt`` in this package."""
    text = resources.files("marketplace.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """None when the password is acceptable; otherwise a key naming the problem
    (``too_short``, ``too_long``, ``common``, ``personal``)."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.strip().lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return "common"
    local = (email or "").split("@", 1)[0].lower()
    if local and len(local) >= 4 and lowered in {local, local + "123", local + "1234"}:
        return "personal"
    if email and lowered == email.lower():
        return "personal"
    return None
