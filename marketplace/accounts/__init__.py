"""Accounts: users, roles and sign-in (Flask-Login)."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, request
from flask_login import login_url

from marketplace.accounts.cli import users_cli
from marketplace.accounts.models import User
from marketplace.errors import error_payload, wants_json
from marketplace.extensions import db, login_manager

bp = Blueprint("accounts", __name__)


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "warning"
    app.cli.add_command(users_cli)


@login_manager.unauthorized_handler
def unauthorized():
    """JSON clients (/api/…) get a 401 with the usual error shape; pages redirect to the sign-in form."""
    if wants_json():
        return jsonify(error_payload(401, "unauthorized", "Sign in required")), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.full_path.rstrip("?")))


@login_manager.user_loader
def load_user(user_id: str):
    """The id carries a session version: bumping it signs out every session and remember cookie."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


from marketplace.accounts import views  # noqa: E402,F401
