"""Bulk import of products (digitization drives): a UTF-8 CSV, plus an optional ZIP of the photos it names.

Every row is validated first (``plan_import``) and errors are reported per CSV line. ``run_import`` then
creates the products of every valid row group through the same services as the editor, in the caller's
transaction (the caller commits once), or nothing at all when ``all_or_nothing`` and any row is invalid.

Rows that share a ``product_ref`` are one product with several variants; product fields come from the
group's first row. ZIP entries are read into memory by bare file name only (never extracted, no paths),
with caps on entry count, per-photo size and total uncompressed size (``MAX_ZIP_UNCOMPRESSED``), checked on
the declared sizes before anything is extracted and again on the bytes actually read.

Photos are held to the request's image budget (``media/staging.py``) before any is decoded: the number of
distinct photos the CSV names is checked first, then each photo's header (read from the first bytes of its
entry) gives the pixels it would decode to; over ``MAX_IMAGES_PER_REQUEST`` or ``MAX_IMAGE_PIXELS_PER_REQUEST``
the whole import is refused. Each photo is then decoded once (``images.prepare``) and its derivatives are
written to storage only when the import's transaction commits.

With background jobs (``REDIS_URL``) the page only reads the CSV header and queues the import
(``queue_import``: an ``ImportRun`` row keeps the files); the ``catalog.import`` job (``run_import_job``)
plans it once (the plan is stored, so a resumed run never plans again), creates the products as drafts in
chunks, each chunk committed with the progress (the artisan's page shows it; a run stopped half-way resumes
from the last committed chunk), then publishes every product marked ``publish`` in one transaction at the
end: none goes on sale before all are created. All-or-nothing imports with an invalid row create nothing.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from marketplace.accounts.models import User
from marketplace.catalog import services
from marketplace.catalog.models import ImportRun, IpProtection, Product, Variant
from marketplace.core import jobs, uow
from marketplace.core.time import utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.extensions import db
from marketplace.media import staging
from marketplace.media.images import inspect, prepare
from marketplace.shops.models import Shop

COLUMNS = (
    "product_ref", "title_vi", "title_en", "description_vi", "description_en", "category", "materials",
    "technique", "dimensions", "weight_grams", "ip_registration_number", "ocop_stars", "ocop_certificate_number",
    "ocop_issuer", "ocop_issued_on", "ocop_expires_on", "variant_name", "sku", "price", "stock", "photos",
    "photo_alt", "publish",
)
REQUIRED_COLUMNS = ("title_vi", "description_vi", "price")
PRODUCT_COLUMNS = tuple(c for c in COLUMNS if c in services.PRODUCT_FIELDS)
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_ZIP_ENTRIES = 500
HEADER_BYTES = 64 * 1024  # enough for the header of a PNG/WebP and of almost every JPEG
TRUE_WORDS = {"1", "x", "yes", "y", "true", "có", "co", "c"}

TEMPLATE_ROWS = (
    ("BT-001", "Bình hút lộc men lam", "Blue-glazed fortune vase",
     "Bình gốm men lam vẽ tay, nung 1.200 °C tại lò gas ở Bát Tràng.", "Hand-painted blue-glazed vase.",
     "ceramics", "Đất sét trắng, men lam", "Vẽ tay, nung 1.200 °C", "Cao 30 cm", "1500", "", "4",
     "123/QĐ-UBND", "UBND thành phố Hà Nội", "2024-05-20", "", "Cỡ nhỏ", "", "350.000", "12",
     "binh-1.jpg;binh-2.jpg", "Bình men lam trên bàn gỗ", "có"),
    ("BT-001", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "Cỡ lớn", "", "690.000", "4", "", "", ""),
)


class ImportFileError(InvalidInput):
    """The file itself cannot be read (not UTF-8, no header, too big, bad ZIP)."""


FILE_LEVEL = (ImportFileError, staging.ImageBudgetExceeded)  # refuse the whole import, not one row


@dataclass
class PlannedProduct:
    lines: list[int]
    data: dict
    variants: list[dict]
    photos: list[str]
    alt: str
    publish: bool


@dataclass
class ImportPlan:
    total_rows: int = 0
    products: list[PlannedProduct] = field(default_factory=list)
    errors: OrderedDict[int, list[str]] = field(default_factory=OrderedDict)

    @property
    def valid_rows(self) -> int:
        return sum(len(p.lines) for p in self.products)

    def add_error(self, line: int, message: str) -> None:
        self.errors.setdefault(line, []).append(message)


@dataclass
class ImportResult:
    plan: ImportPlan
    applied: bool
    created: int = 0
    photos: int = 0


def template_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then open it as UTF-8


# --- reading files --------------------------------------------------------------------------------

def read_csv(data: bytes) -> list[tuple[int, dict]]:
    if len(data) > MAX_CSV_BYTES:
        raise ImportFileError(_("Tệp CSV quá lớn: tối đa %(mb)s MB.", mb=MAX_CSV_BYTES // (1024 * 1024)), field="csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("Tệp CSV phải lưu dạng UTF-8 (trong Excel: “CSV UTF-8”)."), field="csv") from None
    if not text.strip():
        raise ImportFileError(_("Tệp CSV rỗng."), field="csv")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = [h.strip().lower() for h in (reader.fieldnames or []) if h]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise ImportFileError(_("Thiếu cột bắt buộc: %(cols)s. Hãy dùng tệp mẫu.", cols=", ".join(missing)), field="csv")
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            row = {(k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else "" for k, v in record.items()
                   if k is not None}
            if not any(row.values()):
                continue
            rows.append((line, row))
            if len(rows) > MAX_ROWS:
                raise ImportFileError(_("Tối đa %(n)s dòng mỗi lần nhập.", n=MAX_ROWS), field="csv")
    except csv.Error:
        raise ImportFileError(_("Tệp CSV bị lỗi định dạng (dòng %(n)s).", n=reader.line_num), field="csv") from None
    return rows


class PhotoArchive:
    """Photos in a ZIP, looked up by bare file name; guarded against bombs and path tricks."""

    def __init__(self, data: bytes | None):
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.ambiguous: set[str] = set()
        self.zip: zipfile.ZipFile | None = None
        self.read_total = 0
        self.max_total = int(current_app.config["MAX_ZIP_UNCOMPRESSED"])
        self._cache: dict[str, bytes] = {}
        if not data:
            return
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ImportFileError(_("Tệp ZIP ảnh bị hỏng hoặc không phải ZIP."), field="zip") from None
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ImportFileError(_("Tệp ZIP có quá nhiều tệp (tối đa %(n)s).", n=MAX_ZIP_ENTRIES), field="zip")
        if sum(i.file_size for i in infos) > self.max_total:
            raise self._too_big()
        for info in infos:
            name = info.filename.replace("\\", "/")
            if info.is_dir() or name.startswith("/") or ".." in name.split("/") or info.flag_bits & 0x1:
                continue  # directories, absolute or parent paths, encrypted entries: ignored
            base = PurePosixPath(name).name
            if not base or base.startswith("."):
                continue
            if base in self.entries:
                self.ambiguous.add(base)
            self.entries[base] = info

    def _too_big(self) -> ImportFileError:
        return ImportFileError(
            _("Tệp ZIP quá lớn khi giải nén: tối đa %(mb)s MB (MAX_ZIP_UNCOMPRESSED).",
              mb=self.max_total // (1024 * 1024)), field="zip")

    def has(self, name: str) -> bool:
        return self.zip is not None and name in self.entries and name not in self.ambiguous

    def _info(self, name: str) -> zipfile.ZipInfo:
        limit = int(current_app.config["MAX_CONTENT_LENGTH"])
        if name in self.ambiguous:
            raise InvalidInput(_("Ảnh %(name)s xuất hiện nhiều lần trong ZIP.", name=name), field="photos")
        info = self.entries.get(name)
        if info is None or self.zip is None:
            raise InvalidInput(_("Không có ảnh %(name)s trong tệp ZIP.", name=name), field="photos")
        if info.file_size > limit:
            raise InvalidInput(_("Ảnh %(name)s quá lớn.", name=name), field="photos")
        return info

    def _extract(self, name: str, size: int) -> bytes:
        """At most ``size`` bytes of the entry, counted against the archive's uncompressed cap."""
        info = self._info(name)
        try:
            with self.zip.open(info) as fh:
                data = fh.read(size)  # do not trust the declared size
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            raise InvalidInput(_("Không đọc được ảnh %(name)s trong ZIP.", name=name), field="photos") from None
        self.read_total += len(data)
        if self.read_total > self.max_total:
            raise self._too_big()
        return data

    def header(self, name: str) -> bytes:
        """The first bytes of ``name`` (enough to read an image's header without decoding anything)."""
        if name in self._cache:
            return self._cache[name]
        return self._extract(name, HEADER_BYTES)

    def read(self, name: str) -> bytes:
        """The bytes of ``name``; raises InvalidInput when absent, ambiguous or over the size cap."""
        if name in self._cache:
            return self._cache[name]
        limit = int(current_app.config["MAX_CONTENT_LENGTH"])
        data = self._extract(name, limit + 1)
        if len(data) > limit:
            raise InvalidInput(_("Ảnh %(name)s quá lớn.", name=name), field="photos")
        self._cache[name] = data
        return data


def _photo_header(archive: PhotoArchive, name: str):
    """The header facts of a photo in the ZIP, from its first bytes when they suffice (no decoding)."""
    head = archive.header(name)
    try:
        return inspect(head)
    except InvalidInput as exc:
        if exc.code == "too_many_pixels" or len(head) < HEADER_BYTES:
            raise  # the whole file was read, or its header already said too big
    return inspect(archive.read(name))  # a long header (large EXIF): the whole entry, still not decoded


def check_photo_budget(archive: PhotoArchive, groups) -> dict[str, str]:
    """Refuse the import (``ImageBudgetExceeded``) when its photos are over the request's budget, counted from
    their headers before any is decoded. Returns the photos refused on their own (name → message)."""
    names: list[str] = []
    for group in groups:
        for _line, row in group:
            for name in _photo_names(row.get("photos", "")):
                if archive.has(name) and name not in names:
                    names.append(name)
    budget = staging.current()
    budget.check_totals(len(names), 0, "zip")  # 200 photos for a budget of 40: refused before reading any
    refused: dict[str, str] = {}
    pixels = 0
    for name in names:
        try:
            pixels += _photo_header(archive, name).decoded_pixels
        except FILE_LEVEL:
            raise
        except InvalidInput as exc:
            refused[name] = exc.message
    budget.check_totals(len(names) - len(refused), pixels, "zip")
    return refused


# --- planning -------------------------------------------------------------------------------------

def _photo_names(value: str) -> list[str]:
    return [n.strip() for n in value.replace("|", ";").replace(",", ";").split(";") if n.strip()]


def plan_import(shop: Shop, csv_data: bytes, zip_data: bytes | None = None,
                archive: PhotoArchive | None = None) -> ImportPlan:
    rows = read_csv(csv_data)
    archive = archive or PhotoArchive(zip_data)
    plan = ImportPlan(total_rows=len(rows))
    ips = {ip.registration_number: ip.id for ip in db.session.scalars(
        sa.select(IpProtection).where(IpProtection.village_id == shop.village_id)) if ip.registration_number}

    groups: OrderedDict[str, list[tuple[int, dict]]] = OrderedDict()
    for line, row in rows:
        ref = row.get("product_ref") or f"__line{line}"
        groups.setdefault(ref, []).append((line, row))

    seen_skus: dict[str, int] = {}
    checked_photos: dict[str, str | None] = dict(check_photo_budget(archive, groups.values()))
    for group in groups.values():
        first_line, first = group[0]
        group_ok = True
        data = {k: first.get(k, "") for k in PRODUCT_COLUMNS}
        reg = first.get("ip_registration_number", "")
        data["ip_protection_id"] = ""
        if reg:
            if reg in ips:
                data["ip_protection_id"] = ips[reg]
            else:
                plan.add_error(first_line, _("ip_registration_number: không có văn bằng %(n)s của làng nghề này.", n=reg))
                group_ok = False
        _clean, errors = services.clean_product_data(shop, data)
        for key, message in errors.items():
            plan.add_error(first_line, f"{key}: {message}")
            group_ok = False
        if len(group) > services.MAX_VARIANTS:
            plan.add_error(first_line, _("Tối đa %(n)s phân loại cho một sản phẩm.", n=services.MAX_VARIANTS))
            group_ok = False
        variants = []
        for line, row in group:
            vdata = {"name": row.get("variant_name", ""), "sku": row.get("sku", ""), "price": row.get("price", ""),
                     "stock": row.get("stock", "")}
            vclean, verrors = services.clean_variant_data(vdata)
            sku = vclean.get("sku")
            if sku and not verrors.get("sku"):
                if sku in seen_skus:
                    verrors["sku"] = _("trùng với dòng %(n)s.", n=seen_skus[sku])
                elif db.session.scalar(sa.select(Variant.id).where(Variant.sku == sku)) is not None:
                    verrors["sku"] = _("Mã SKU này đã được dùng.")
                else:
                    seen_skus[sku] = line
            for key, message in verrors.items():
                plan.add_error(line, f"{'variant_name' if key == 'name' else key}: {message}")
                group_ok = False
            variants.append(vdata)
        photo_names: list[str] = []
        for line, row in group:
            for name in _photo_names(row.get("photos", "")):
                if "/" in name or "\\" in name or name.startswith("."):
                    plan.add_error(line, _("photos: chỉ ghi tên tệp ảnh, không ghi thư mục (%(name)s).", name=name[:80]))
                    group_ok = False
                    continue
                if name not in checked_photos:
                    try:
                        prepare(archive.read(name))  # decoded once; stored with the transaction, if applied
                        checked_photos[name] = None
                    except FILE_LEVEL:
                        raise
                    except InvalidInput as exc:
                        checked_photos[name] = exc.message
                if checked_photos[name]:
                    plan.add_error(line, f"photos: {name[:80]} — {checked_photos[name]}")
                    group_ok = False
                elif name not in photo_names:
                    photo_names.append(name)
        if len(photo_names) > services.MAX_PHOTOS:
            plan.add_error(first_line, _("photos: tối đa %(n)s ảnh cho một sản phẩm.", n=services.MAX_PHOTOS))
            group_ok = False
        publish = first.get("publish", "").strip().lower() in TRUE_WORDS
        if publish and not photo_names:  # the rule of services.publish_product, told before anything is created
            plan.add_error(first_line, _("publish: cần ít nhất một ảnh sản phẩm trước khi đăng bán."))
            group_ok = False
        elif publish and not any((services.parse_int(v.get("stock")) or 0) > 0 for v in variants):
            plan.add_error(first_line, _("publish: cần ít nhất một phân loại còn hàng trước khi đăng bán."))
            group_ok = False
        if group_ok:
            plan.products.append(PlannedProduct(
                lines=[line for line, _r in group], data=data, variants=variants, photos=photo_names,
                alt=first.get("photo_alt", ""), publish=publish,
            ))
    return plan


def run_import(actor, shop: Shop, csv_data: bytes, zip_data: bytes | None = None, *,
               all_or_nothing: bool = False, dry_run: bool = False) -> ImportResult:
    """Validate everything, then create the valid products (in the caller's transaction)."""
    services._require(actor, shop)
    archive = PhotoArchive(zip_data)
    plan = plan_import(shop, csv_data, archive=archive)
    if dry_run or (all_or_nothing and plan.errors) or not plan.products:
        return ImportResult(plan=plan, applied=False)
    result = ImportResult(plan=plan, applied=True)
    for planned in plan.products:
        product = services.create_product(actor, shop, planned.data, variants=planned.variants)
        for name in planned.photos:
            services.add_photo(actor, product, archive.read(name), planned.alt or None)
            result.photos += 1
        if planned.publish:
            services.publish_product(actor, product)
        result.created += 1
    return result


# --- background imports (REDIS_URL) -----------------------------------------------------------------

CHUNK = 10  # products created per committed step of a background import


def queue_import(actor, shop: Shop, csv_data: bytes, zip_data: bytes | None, *, all_or_nothing: bool) -> ImportRun:
    """Check what can be checked without decoding (the CSV's columns and size, the ZIP's directory and the
    photos' budget from their headers) and queue the import; raises ``InvalidInput`` with nothing queued."""
    services._require(actor, shop)
    archive = PhotoArchive(zip_data)
    rows = read_csv(csv_data)
    groups: OrderedDict[str, list] = OrderedDict()
    for line, row in rows:
        groups.setdefault(row.get("product_ref") or f"__line{line}", []).append((line, row))
    check_photo_budget(archive, groups.values())
    run = ImportRun(shop_id=shop.id, actor_id=actor.id, all_or_nothing=all_or_nothing, csv_data=csv_data,
                    zip_data=zip_data or None, status=ImportRun.QUEUED, total_rows=len(rows))
    db.session.add(run)
    db.session.flush()
    jobs.enqueue("catalog.import", run.id, key=run.id)
    return run


def _plan_to_json(plan: ImportPlan) -> str:
    return json.dumps([{"lines": p.lines, "data": p.data, "variants": p.variants, "photos": p.photos,
                        "alt": p.alt, "publish": p.publish} for p in plan.products], ensure_ascii=False)


def _touch(run: ImportRun, **values) -> None:
    for key, value in values.items():
        setattr(run, key, value)
    run.updated_at = utcnow()
    db.session.flush()


def _import_failed(run_id: int, exc: BaseException) -> None:
    """After a failed attempt (its transaction rolled back): the artisan's page says so; the job is retried
    and continues from the last committed chunk (or the artisan resumes it)."""
    run = db.session.get(ImportRun, run_id)
    if run is not None and run.status not in (ImportRun.DONE, ImportRun.REFUSED):
        message = exc.message if isinstance(exc, DomainError) else f"{exc.__class__.__name__}: {exc}"
        _touch(run, status=ImportRun.FAILED, message=message[:1000])


@jobs.job("catalog.import", timeout=1800, retries=2, intervals=(30, 300), queue=jobs.BULK_QUEUE,
          on_error=_import_failed)
def run_import_job(run_id: int) -> str:
    """Plan (once), create in committed chunks, publish at the end. Idempotent and resumable."""
    run = db.session.get(ImportRun, run_id, with_for_update=True)
    if run is None or run.status in (ImportRun.DONE, ImportRun.REFUSED):
        return "nothing to do"
    return _advance(run)


def _advance(run: ImportRun) -> str:
    shop = db.session.get(Shop, run.shop_id)
    actor = db.session.get(User, run.actor_id) if run.actor_id else None
    if shop is None or actor is None:
        _touch(run, status=ImportRun.REFUSED, csv_data=None, zip_data=None, message="shop or artisan gone")
        return "refused"
    archive = PhotoArchive(run.zip_data)
    if run.plan is None:
        plan = plan_import(shop, run.csv_data or b"", archive=archive)
        refused = (run.all_or_nothing and plan.errors) or not plan.products
        _touch(run, plan=_plan_to_json(plan), errors=json.dumps(plan.errors, ensure_ascii=False),
               total_rows=plan.total_rows, valid_rows=plan.valid_rows, total_products=len(plan.products),
               status=ImportRun.REFUSED if refused else ImportRun.RUNNING, message=None)
        if refused:
            _touch(run, csv_data=None, zip_data=None)
            return "refused"
        uow.commit_early("import: the plan is stored once, so a resumed run never plans again")
    planned = json.loads(run.plan)
    created = json.loads(run.created_ids or "[]")
    while run.done_products < len(planned):
        _touch(run, status=ImportRun.RUNNING, message=None)
        for item in planned[run.done_products:run.done_products + CHUNK]:
            product = services.create_product(actor, shop, item["data"], variants=item["variants"])
            for name in item["photos"]:
                services.add_photo(actor, product, archive.read(name), item["alt"] or None, background=False)
                run.photos += 1
            created.append(product.id)
        _touch(run, done_products=len(created), created_ids=json.dumps(created))
        uow.commit_early("import progress: each chunk of products is committed with the progress shown")
    # All or nothing: the products marked "publish" go on sale together, in this one transaction.
    by_id = {p.id: p for p in db.session.scalars(sa.select(Product).where(Product.id.in_(created)))}
    for product_id, item in zip(created, planned, strict=True):
        if item["publish"] and product_id in by_id:
            services.publish_product(actor, by_id[product_id])
    _touch(run, status=ImportRun.DONE, csv_data=None, zip_data=None, message=None)
    return "done"
