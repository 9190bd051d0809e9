"""Shop pages: an artisan's own shop (/seller/shop/new, /seller/shop/edit) and assisted listing
(/assisted/...) for officials and admins."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from marketplace.accounts.models import User
from marketplace.accounts.permissions import role_required
from marketplace.catalog.models import CraftVillage
from marketplace.core import uow
from marketplace.core.audit import AuditEntry
from marketplace.core.templating import label
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import db
from marketplace.shops import bp
from marketplace.shops import services as shop_services
from marketplace.shops.access import can_manage_shop
from marketplace.shops.forms import AssistedShopForm, HandOverForm, ShopForm
from marketplace.shops.models import ConsentMethod, Shop


def _village_choices() -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(CraftVillage.id, CraftVillage.name_vi, CraftVillage.commune_vi).order_by(CraftVillage.name_vi)
    ).all()
    return [SelectChoice("", _("— Chọn làng nghề —"))] + [
        SelectChoice(str(vid), f"{name} ({commune})" if commune else name) for vid, name, commune in rows
    ]


def _refused_input(outcome: uow.Outcome, form) -> bool:
    """True when the service refused the form's values: each message goes next to its field (the shop
    services name every bad field in ``details["errors"]``). Any other refusal answers as an error page."""
    exc = outcome.error
    if exc is None:
        return False
    if not isinstance(exc, InvalidInput):
        raise exc
    errors = (exc.details or {}).get("errors") or ({exc.field: exc.message} if exc.field else {})
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors or []) + [message]
    return True


def _prepare(form) -> None:
    form.village_id.choices = _village_choices()
    if hasattr(form, "method"):
        form.method.choices = [SelectChoice("", _("— Chọn —"))] + [
            SelectChoice(k, label(ConsentMethod.LABELS, k)) for k in ConsentMethod.CHOICES]


def _fill(form, shop: Shop) -> None:
    for name in shop_services.SHOP_FIELDS:
        value = getattr(shop, name)
        if name in ("shipping_fee", "free_shipping_over", "shipping_fee_hanoi"):
            value = "" if value is None else f"{value:,}".replace(",", ".")
        elif name == "village_id":
            value = str(value)
        getattr(form, name).data = value or ""


# --- an artisan's own shop ---------------------------------------------------------------------------

@bp.route("/seller/shop/new", methods=["GET", "POST"])
@role_required("artisan", "admin")
def new():
    if shop_services.shop_of(current_user) is not None:
        return redirect(url_for("shops.edit"))
    form = ShopForm()
    _prepare(form)
    status = 200
    if form.validate_on_submit():
        with uow.field_errors() as outcome:
            shop = shop_services.create_shop(current_user._get_current_object(), **form.values())
        if isinstance(outcome.error, Conflict):  # a shop opened meanwhile (one per artisan)
            return redirect(url_for("shops.edit"))
        if not _refused_input(outcome, form):
            return uow.done(_("Đã mở cửa hàng \"%(name)s\". Hãy đăng sản phẩm đầu tiên!", name=shop.name),
                            _after_save_url(shop))
    if form.is_submitted():
        status = 400
    return render_template("shops/form.html", form=form, shop=None, title=_("Mở cửa hàng")), status


@bp.route("/seller/shop/edit", methods=["GET", "POST"])
@role_required("artisan", "admin")
def edit():
    shop = shop_services.shop_of(current_user)
    if shop is None:
        return redirect(url_for("shops.new"))
    return _edit_shop(shop, template="shops/form.html", title=_("Thông tin cửa hàng"),
                      done_url=url_for("shops.edit"))


def _edit_shop(shop: Shop, *, template: str, title: str, done_url: str, **context):
    form = ShopForm()
    _prepare(form)
    if request.method == "GET":
        _fill(form, shop)
    status = 200
    if form.validate_on_submit():
        with uow.field_errors() as outcome:
            shop_services.update_shop(current_user._get_current_object(), shop, **form.values())
        if not _refused_input(outcome, form):
            return uow.done(_("Đã lưu thông tin cửa hàng."), done_url)
    if form.is_submitted():
        status = 400
    return render_template(template, form=form, shop=shop, title=title, **context), status


def _after_save_url(shop: Shop) -> str:
    if "seller.dashboard" in current_app.view_functions:
        return url_for("seller.dashboard")
    return url_for("shops.edit")


# --- assisted listing ----------------------------------------------------------------------------------

def _assisted_shop_or_404(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id) if 0 < shop_id < 2**31 else None
    if shop is None or shop_services.consent_for(shop) is None:
        abort(404)
    return shop


@bp.get("/assisted")
@role_required("official", "admin")
def assisted_list():
    return render_template("shops/assisted_list.html", rows=shop_services.assisted_shops())


@bp.route("/assisted/new", methods=["GET", "POST"])
@role_required("official", "admin")
def assisted_new():
    form = AssistedShopForm()
    _prepare(form)
    status = 200
    if form.is_submitted():
        with uow.field_errors() as outcome:
            shop = shop_services.create_assisted_shop(current_user._get_current_object(), form.consent_values(),
                                                      **form.values())
        if not _refused_input(outcome, form):
            return uow.done(_("Đã mở cửa hàng hỗ trợ \"%(name)s\".", name=shop.name),
                            url_for("shops.assisted_detail", shop_id=shop.id))
        status = 400
    return render_template("shops/assisted_new.html", form=form), status


@bp.get("/assisted/<int:shop_id>")
@role_required("official", "admin")
def assisted_detail(shop_id: int):
    shop = _assisted_shop_or_404(shop_id)
    return _render_detail(shop, HandOverForm(), can_manage_shop(current_user, shop))


def _render_detail(shop: Shop, form, can_manage: bool, status: int = 200):
    consent = shop_services.consent_for(shop)
    history = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_type == "shop", AuditEntry.target_id == str(shop.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(200)
    ).all()
    actor_ids = {e.actor_id for e in history if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids or {0})))}
    return render_template("shops/assisted_detail.html", shop=shop, consent=consent, history=history, actors=actors,
                           form=form, can_manage=can_manage, consent_labels=ConsentMethod.LABELS), status


@bp.route("/assisted/<int:shop_id>/edit", methods=["GET", "POST"])
@role_required("official", "admin")
def assisted_edit(shop_id: int):
    shop = _assisted_shop_or_404(shop_id)
    if not can_manage_shop(current_user, shop):
        abort(404)
    return _edit_shop(shop, template="shops/form.html", title=_("Sửa cửa hàng hỗ trợ"),
                      done_url=url_for("shops.assisted_detail", shop_id=shop.id), assisted=True)


@bp.post("/assisted/<int:shop_id>/handover")
@role_required("official", "admin")
def assisted_handover(shop_id: int):
    shop = _assisted_shop_or_404(shop_id)
    if not can_manage_shop(current_user, shop):
        abort(404)
    form = HandOverForm()
    if not form.validate_on_submit():
        abort(400)
    with uow.field_errors() as outcome:
        shop_services.hand_over_shop(current_user._get_current_object(), shop, form.email.data or "")
    if _refused_input(outcome, form):
        return _render_detail(shop, form, True, 400)
    return uow.done(_("Đã bàn giao cửa hàng cho %(email)s.", email=shop.owner.email),
                    url_for("shops.assisted_detail", shop_id=shop.id))
