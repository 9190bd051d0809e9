"""Who may manage a shop, and who may handle its orders: the one statement of the rule. Every page, API
endpoint, service and template that asks either question calls a function of this module.

**Managing a shop** (its details, its products, variants, stock, photos, bulk import) —
``can_manage_shop(user, shop)``:

- its owner (``Shop.owner_id``);
- an official or an admin while the shop is *assisted* (``is_assisted``).

An admin does not edit a shop that has an owner: the admin pages verify, suspend and reinstate it
(``shops.services.verify_shop`` & co., admin only), they do not change its listings. The command line
(``catalog.services.SYSTEM``, ``flask catalog import``) is let through by ``catalog.services.can_manage``
before it asks this rule.

**Assisted shops.** An official or an admin (``ASSISTING_ROLES``) opens a shop for an artisan who is not
online, after recording the artisan's consent (``shops.models.ShopConsent``: how and when it was given, the
evidence); such a shop has no owner (``owner_id`` is NULL). While the consent is not handed over
(``handed_over_at`` empty) every official and every admin may manage it, not only the person who opened it;
they reach it through ``/assisted`` and the seller pages with ``?shop=<id>``. ``services.hand_over_shop``
gives it to the artisan's own artisan account (``owner_id`` set, ``handed_over_at`` stamped): from then on only
the owner manages it, like any other shop.

**Handling a shop's orders** (the seller order queue, ship, deliver, refund, answering reviews) —
``can_handle_orders(user, shop)``: an admin (every shop's orders; assisted shops' orders are handled by admins),
or the shop's owner while their account is an artisan's. Officials manage assisted shops' listings but never
handle orders or money. ``handled_shops_clause(user)`` is the same rule as SQL criteria on ``Shop``.
"""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopConsent

ASSISTING_ROLES = (Role.OFFICIAL, Role.ADMIN)


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_owner(user, shop: Shop | None) -> bool:
    """``user`` owns ``shop`` (an assisted shop has no owner)."""
    return (_signed_in(user) and shop is not None and shop.owner_id is not None
            and shop.owner_id == getattr(user, "id", None))


def is_assisted(shop: Shop | None) -> bool:
    """A shop run on an artisan's behalf: consent recorded, not yet handed over."""
    if shop is None or getattr(shop, "id", None) is None:
        return False
    return db.session.scalar(
        sa.select(ShopConsent.id).where(ShopConsent.shop_id == shop.id, ShopConsent.handed_over_at.is_(None))
    ) is not None


def can_manage_shop(user, shop: Shop | None) -> bool:
    """Its owner, or an official/admin while the shop is assisted (see the module docstring)."""
    if not _signed_in(user) or shop is None:
        return False
    if is_owner(user, shop):
        return True
    return user.role in ASSISTING_ROLES and is_assisted(shop)


def can_handle_orders(user, shop: Shop | None) -> bool:
    """An admin, or the shop's owner while they are an artisan (see the module docstring)."""
    if not _signed_in(user):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ARTISAN and is_owner(user, shop)


def handled_shops_clause(user) -> sa.ColumnElement[bool]:
    """``can_handle_orders`` as SQL criteria on ``Shop``: the shops whose orders ``user`` handles."""
    if not _signed_in(user):
        return sa.false()
    if user.role == Role.ADMIN:
        return sa.true()
    if user.role == Role.ARTISAN:
        return Shop.owner_id == user.id
    return sa.false()
