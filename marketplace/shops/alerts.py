"""Shop alerts: a new order, a cancellation, a buyer's message, a variant running low and a verification
decision reach the shop's owner by mail (outbox, in the owner's language) — one mail each, or, when the shop
chose ``Shop.alert_digest``, one daily digest (the ``shops.digest`` job, ``JOB_SHOP_DIGEST_CRON``; without a
worker ``flask shops digest`` from cron). Every alert is a ``ShopAlert`` row written in the caller's
transaction; the seller dashboard counts them (``seller.views.work_counts``, one statement)."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.core import jobs
from marketplace.core.outbox import queue_mail
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.shops import bp
from marketplace.shops.models import AlertKind, Shop, ShopAlert

DIGEST_LIMIT = 200  # alerts listed in one digest mail (the rest: "and N more")


def low_stock_threshold(shop) -> int:
    """The shop's own threshold, else the site's ``LOW_STOCK_THRESHOLD`` (works on a Shop or a row)."""
    own = getattr(shop, "low_stock_threshold", None)
    return int(own) if own is not None else int(current_app.config["LOW_STOCK_THRESHOLD"])


def _owner(shop: Shop) -> User | None:
    return db.session.get(User, shop.owner_id) if shop.owner_id else None


def alert_shop(shop: Shop, kind: str, **context) -> ShopAlert:
    """Record an alert for ``shop`` and mail it at once unless the shop takes the daily digest. ``context``
    holds JSON values (order number, link, product and variant names, stock, reason…), never rendered text:
    the mail templates word it in the owner's language."""
    if kind not in AlertKind.CHOICES:
        raise ValueError(f"unknown alert kind {kind!r}")
    alert = ShopAlert(shop_id=shop.id, kind=kind, context=json.dumps(context, ensure_ascii=False),
                      created_at=utcnow())
    db.session.add(alert)
    db.session.flush()
    owner = _owner(shop)
    if not shop.alert_digest:
        alert.mailed_at = alert.created_at
        if owner is not None:
            queue_mail(db.session, owner.email, "shop_alert", owner.locale, kind=kind, shop=shop.name, **context)
    return alert


def send_digests() -> int:
    """Mail each digest shop its alerts not yet mailed, in one mail, and mark them mailed. Idempotent."""
    pending = db.session.execute(
        sa.select(ShopAlert).join(Shop, Shop.id == ShopAlert.shop_id)
        .where(ShopAlert.mailed_at.is_(None)).order_by(ShopAlert.shop_id, ShopAlert.id).with_for_update(of=ShopAlert)
    ).scalars().all()
    by_shop: dict[int, list[ShopAlert]] = {}
    for alert in pending:
        by_shop.setdefault(alert.shop_id, []).append(alert)
    now, sent = utcnow(), 0
    for shop_id, alerts in by_shop.items():
        shop = db.session.get(Shop, shop_id)
        owner = _owner(shop)
        if owner is not None:
            items = [{"kind": a.kind, **json.loads(a.context or "{}")} for a in alerts[:DIGEST_LIMIT]]
            queue_mail(db.session, owner.email, "shop_digest", owner.locale, shop=shop.name, items=items,
                       more=max(len(alerts) - DIGEST_LIMIT, 0))
            sent += 1
        db.session.execute(sa.update(ShopAlert).where(ShopAlert.id.in_([a.id for a in alerts]))
                           .values(mailed_at=now).execution_options(synchronize_session=False))
    return sent


@jobs.job("shops.digest", timeout=300, retries=3, intervals=(60, 600, 3600), cron="JOB_SHOP_DIGEST_CRON")
def digest_job() -> int:
    return send_digests()


@bp.cli.command("digest")
def digest_command():
    """Mail the daily alert digest now (cron line without a worker: ``0 1 * * * flask shops digest``)."""
    print(f"{send_digests()} digest mail(s) queued")
