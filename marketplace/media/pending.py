"""Photos processed by a background job (``REDIS_URL`` set): the upload answers at once.

``accept_upload`` does only the cheap part in the request — the header checks and the request's budget
(``images.inspect``, nothing decoded) — and gives the ``ProductImage`` a ``pending:<sha256>`` key and the
size it will have; ``hold`` keeps the uploaded bytes in ``pending_images`` (same transaction) and queues
``media.derivatives``, which decodes, renders and stores the sizes, sets the real key and drops the bytes,
in one transaction. Until then pages show a "processing" placeholder (``ProductImage.processing``).

Idempotent: a job for an image that is already done, deleted, or whose bytes are gone does nothing; a
worker killed half-way leaves the row pending and the job is retried (and ``media.sweep`` re-queues rows
left pending, e.g. when Redis was unreachable at the commit). A file found broken while decoding (a
truncated upload the header could not reveal) removes that photo.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.catalog.models import PENDING_KEY_PREFIX, ProductImage
from marketplace.core import jobs
from marketplace.core.audit import record
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.media import staging
from marketplace.media.images import ImageRejected, StoredImage, inspect, prepare
from marketplace.media.models import PendingImage

log = logging.getLogger(__name__)
SWEEP_AFTER = timedelta(minutes=2)
MAX_SWEEPS = 5
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def accept_upload(data: bytes) -> StoredImage:
    """Check ``data`` from its header (refusals as ``ingest_upload``), count it in the request's budget and
    return the pending key with the size the derivatives will have. Nothing is decoded."""
    header = inspect(data)
    staging.current().reserve(header.digest, header.decoded_pixels)
    width, height = header.width, header.height
    if header.orientation in _ROTATED:
        width, height = height, width
    largest = max(current_app.config["MEDIA_SIZES"])
    if max(width, height) > largest:
        scale = largest / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    return StoredImage(f"{PENDING_KEY_PREFIX}{header.digest}", width, height)


def hold(image: ProductImage, data: bytes) -> None:
    """Keep the upload's bytes with the image row and queue its derivatives (pushed at the commit)."""
    db.session.add(PendingImage(image_id=image.id, data=data, created_at=utcnow()))
    db.session.flush()
    jobs.enqueue("media.derivatives", image.id, key=image.id)


@jobs.job("media.derivatives", timeout=300, retries=3, intervals=(10, 60, 300))
def make_derivatives(image_id: int) -> bool:
    """Render and store the sizes of one pending photo; True when this run made them."""
    pending = db.session.get(PendingImage, image_id, with_for_update=True)
    if pending is None:
        return False  # done already (or the photo was deleted)
    image = db.session.get(ProductImage, image_id)
    if image is None or not image.processing:
        db.session.delete(pending)
        return False
    try:
        prepared = prepare(pending.data, prefix="p")
    except ImageRejected as exc:
        log.warning("photo %s of product %s removed: %s", image.id, image.product_id, exc.code)
        record(None, "photo.rejected", "product", image.product_id, after={"image_id": image.id, "reason": exc.code})
        product = image.product
        db.session.delete(pending)
        product.images.remove(image)
        for position, item in enumerate(product.images):
            item.position = position
        return False
    staging.stage(prepared.files)  # written just before this transaction commits
    image.storage_key = prepared.stored.key
    image.width, image.height = prepared.stored.width, prepared.stored.height
    db.session.delete(pending)
    return True


@jobs.job("media.sweep", timeout=120, retries=1, intervals=(60,), every="JOB_MEDIA_SWEEP_EVERY")
def sweep() -> int:
    """Queue again the photos left pending for a while (a lost job); each at most ``MAX_SWEEPS`` times."""
    stale = db.session.scalars(
        sa.select(PendingImage).where(PendingImage.created_at < utcnow() - SWEEP_AFTER,
                                      PendingImage.sweeps < MAX_SWEEPS)
        .order_by(PendingImage.created_at).limit(500)).all()
    for pending in stale:
        pending.sweeps += 1
        jobs.enqueue("media.derivatives", pending.image_id, key=pending.image_id)
    return len(stale)
