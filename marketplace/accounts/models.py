"""People: one table, a role each."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class Role:
    SHOPPER = "shopper"
    ARTISAN = "artisan"
    OFFICIAL = "official"
    ADMIN = "admin"
    CHOICES = (SHOPPER, ARTISAN, OFFICIAL, ADMIN)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("role IN ('shopper','artisan','official','admin')", name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.SHOPPER, index=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="vi")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Bumped on logout-everywhere / password change: old sessions and remember cookies stop working.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    marketing_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    # Set when the owner opened the verification link mailed at sign-up (or reset the password by mail):
    # guest orders placed with this e-mail then join the account (orders.services.claim_guest_orders).
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
