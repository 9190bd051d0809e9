"""Account pages: register, log in/out, password reset, the account page."""
from __future__ import annotations

import logging

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from marketplace.accounts import bp, services
from marketplace.accounts.forms import (
    PASSWORD_MESSAGES,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from marketplace.accounts.models import Role
from marketplace.accounts.permissions import login_required_any, public
from marketplace.core import uow
from marketplace.core.mail import send_mail
from marketplace.core.templating import current_lang
from marketplace.core.urls import safe_next
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import limiter

log = logging.getLogger("marketplace.security")


def _after_login_url(next_target: str | None) -> str:
    nxt = safe_next(next_target)
    if nxt:
        return nxt
    if current_user.is_authenticated and current_user.role == Role.ARTISAN and "seller.dashboard" in current_app.view_functions:
        return url_for("seller.dashboard")
    return url_for("catalog.home")


def _login_failed(response) -> bool:
    return response.status_code not in (302, 303)


def _login_account_key() -> str:
    return "acct:" + services.normalize_email(request.form.get("email"))[:254]


def _login_ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


@bp.route("/account/register", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"], scope="register")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        with uow.field_errors() as outcome:
            user = services.register_user(
                form.email.data, form.password.data, name=form.name.data, role=form.role.data,
                marketing_consent=form.marketing_consent.data, locale=current_lang(), phone=form.phone.data or None,
            )
        if isinstance(outcome.error, Conflict):
            form.email.errors.append(_("Không thể đăng ký bằng email này. Nếu bạn đã có tài khoản, hãy đăng nhập "
                                       "hoặc dùng \"Quên mật khẩu\"."))
        elif isinstance(outcome.error, InvalidInput):
            form.password.errors.append(_password_message(outcome.error))
        elif outcome.error is not None:
            raise outcome.error
        else:
            login_user(user)
            welcome = _("Chào mừng %(name)s! Tài khoản của bạn đã sẵn sàng.", name=user.name)
            if user.role == Role.ARTISAN and "shops.new" in current_app.view_functions:
                return uow.done(welcome, url_for("shops.new"))
            return uow.done(welcome, _after_login_url(request.args.get("next")))
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/account/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_ip_limit, methods=["POST"], deduct_when=_login_failed, scope="login-ip",
               error_message="Bạn đã thử đăng nhập quá nhiều lần. Vui lòng đợi một lát rồi thử lại.")
@limiter.limit(_login_account_limit, key_func=_login_account_key, methods=["POST"], deduct_when=_login_failed,
               scope="login-account",
               error_message="Bạn đã thử đăng nhập quá nhiều lần. Vui lòng đợi một lát rồi thử lại.")
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_after_login_url(request.args.get("next")))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:  # (a rehash with current parameters, if one was needed, commits with the view)
            login_user(user, remember=bool(form.remember.data))
            log.info("login ok user=%s ip=%s", user.id, request.remote_addr)
            return redirect(_after_login_url(form.next.data or request.args.get("next")), code=303)
        known = services.user_by_email(form.email.data)
        log.warning("login failed user=%s ip=%s", known.id if known else "unknown", request.remote_addr)
        form.password.errors.append(_("Email hoặc mật khẩu không đúng."))
    return render_template("accounts/login.html", form=form), (401 if form.errors else 200)


@bp.post("/account/logout")
@login_required_any
def logout():
    user = current_user._get_current_object()
    services.end_other_sessions(user)
    logout_user()
    return uow.done(_("Bạn đã đăng xuất."), url_for("catalog.home"))


@bp.route("/account/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"], scope="forgot")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.user_by_email(form.email.data)
        if user is not None and user.active:
            token = services.make_reset_token(user)
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            try:
                send_mail(user.email, "password_reset", user.locale or "vi", user=user, minutes=minutes,
                          reset_url=current_app.config["SITE_URL"].rstrip("/")
                          + url_for("accounts.reset_password", token=token))
            except Exception:  # same answer either way; the failure is logged for the operators
                log.exception("password-reset mail to user %s failed", user.id)
        # The same answer whether or not the address has an account.
        return uow.done(_("Nếu email này có tài khoản, chúng tôi vừa gửi thư hướng dẫn đặt lại mật khẩu. "
                          "Hãy kiểm tra hộp thư (cả mục thư rác)."), url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), (400 if form.errors else 200)


@bp.route("/account/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    form._account_email = user.email
    if form.validate_on_submit():
        with uow.field_errors() as outcome:
            services.set_password(user, form.password.data)
        if isinstance(outcome.error, InvalidInput):
            form.password.errors.append(_password_message(outcome.error))
        elif outcome.error is not None:
            raise outcome.error
        else:
            uow.commit_early("the password-changed mail goes out only once the new password is stored")
            _notify_password_changed(user)
            if current_user.is_authenticated:
                logout_user()
            return uow.done(_("Đã đặt mật khẩu mới. Mời bạn đăng nhập."), url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), (400 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@login_required_any
def account():
    user = current_user._get_current_object()
    which = request.form.get("form") if request.method == "POST" else None
    profile = ProfileForm(prefix="profile", obj=None if which == "profile" else user,
                          formdata=request.form if which == "profile" else None)
    password = ChangePasswordForm(prefix="pw", formdata=request.form if which == "password" else None)
    password._account_email = user.email
    status = 200
    if which == "profile":
        if profile.validate():
            with uow.field_errors(profile) as outcome:
                services.update_profile(user, name=profile.name.data, phone=profile.phone.data or None,
                                        locale=profile.locale.data, marketing_consent=profile.marketing_consent.data)
            if outcome.error is None:
                return uow.done(_("Đã lưu thông tin tài khoản."), url_for("accounts.account"))
        status = 400
    elif which == "password":
        if password.validate():
            with uow.field_errors() as outcome:
                services.change_password(user, password.current_password.data, password.password.data)
            if isinstance(outcome.error, InvalidInput) and outcome.error.field == "current_password":
                password.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
            elif isinstance(outcome.error, InvalidInput):
                password.password.errors.append(_password_message(outcome.error))
            elif outcome.error is not None:
                raise outcome.error
            else:
                uow.commit_early("the password-changed mail goes out only once the new password is stored")
                _notify_password_changed(user)
                login_user(user)  # this session continues under the new version; every other one ends
                return uow.done(_("Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất."),
                                url_for("accounts.account"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("accounts/account.html", profile=profile, password=password, user=user), status


def _password_message(exc: InvalidInput) -> str:
    """The services name a password problem by a code (``too_short``, ``common`` …); the form shows its text."""
    return PASSWORD_MESSAGES.get(exc.message, _("Mật khẩu không hợp lệ."))


def _notify_password_changed(user) -> None:
    try:
        send_mail(user.email, "password_changed", user.locale or "vi", user=user,
                  forgot_url=current_app.config["SITE_URL"].rstrip("/") + url_for("accounts.forgot_password"))
    except Exception:  # the change is done; a mail failure must not turn it into an error page
        log.exception("password-changed mail to user %s failed", user.id)
