"""The city's register of craft villages, kept by officials: create and edit a village, its photos, and import the
city's list from CSV or XLSX.

A village is identified in the register by its stable ``code`` (the city's code; for the seeded villages, the
slug). Commune: one of the 126 commune-level units in force since 01/07/2025 (``catalog/hanoi.py``; typed with
or without "xã"/"phường"); the former district is kept as history only; when the commune is truly unknown,
``commune_note`` must say why. Coordinates: both or neither, inside Hà Nội.

Import: every row is checked first (``plan_register_import``: per-row errors with the file's line numbers,
duplicate codes in the file, unknown communes); the file is applied only when every row is valid, in one
transaction (all or nothing). Rows are matched on ``code``: a new code creates a village, a known one updates
the columns the file carries; a row identical to the register changes nothing, so importing the same file
again changes nothing. Optional ``decision_number``/``decision_date``/``recognition`` columns record a
recognition decision through ``officials.services.record_recognition`` unless that decision is already on file.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

from marketplace.accounts.models import Role
from marketplace.catalog.hanoi import canonical_unit, inside_hanoi
from marketplace.catalog.models import Category, CraftVillage, Recognition, VillageImage
from marketplace.catalog.services import SYSTEM, _text, parse_date
from marketplace.core.audit import record
from marketplace.core.spreadsheet import safe_row
from marketplace.core.text import slugify
from marketplace.core.time import today_vn
from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.media.images import check_uploads, ingest_upload
from marketplace.officials import services as official_services
from marketplace.officials.models import RecognitionDecision

TEXT_FIELDS = {  # column → (max length, required)
    "code": (80, True), "name_vi": (120, True), "name_en": (160, False), "commune_vi": (120, False),
    "former_district_vi": (120, False), "commune_note": (300, False), "craft_vi": (200, True),
    "craft_en": (200, False), "notable_products": (2000, False), "story_vi": (20_000, False),
    "story_en": (20_000, False), "sources": (4000, False),
}
COLUMNS = ("code", "name_vi", "name_en", "commune_vi", "former_district_vi", "commune_note", "craft_vi", "craft_en",
           "category", "latitude", "longitude", "tourism", "notable_products", "story_vi", "story_en", "sources",
           "recognition", "decision_number", "decision_date")
REQUIRED_COLUMNS = ("code", "name_vi", "craft_vi", "category")
DECISION_COLUMNS = ("recognition", "decision_number", "decision_date")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_PHOTOS = 12
TRUE_WORDS = {"1", "x", "yes", "y", "true", "có", "co", "c"}
FALSE_WORDS = {"", "0", "no", "n", "false", "không", "khong", "k"}
RECOGNITION_WORDS = {
    "lang_nghe": Recognition.CRAFT_VILLAGE, "làng nghề": Recognition.CRAFT_VILLAGE,
    "lang_nghe_truyen_thong": Recognition.TRADITIONAL, "làng nghề truyền thống": Recognition.TRADITIONAL,
}


class RegisterFileError(InvalidInput):
    """The file as a whole cannot be read (format, size, columns)."""


def _require_official(actor) -> None:
    if actor is not SYSTEM and getattr(actor, "role", None) not in (Role.OFFICIAL, Role.ADMIN):
        raise NotAllowed(_("Chỉ cán bộ quản lý mới sửa được sổ làng nghề."))


def _float(value) -> float | None:
    text = _text(value).replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(text) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return number


# --- one village ------------------------------------------------------------------------------------

def clean_village_data(data: dict[str, Any], *, current: CraftVillage | None = None,
                       partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Parsed values and field errors. ``partial``: only the columns present in ``data`` (an import file that
    does not carry a column leaves it as it is)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def present(key: str) -> bool:
        return not partial or key in data

    for key, (max_len, required) in TEXT_FIELDS.items():
        if not present(key):
            continue
        value = _text(data.get(key))
        if required and not value:
            errors[key] = _("Bắt buộc.")
        elif len(value) > max_len:
            errors[key] = _("Tối đa %(n)s ký tự.", n=max_len)
        clean[key] = value or None
    if clean.get("code") and not all(c.isalnum() or c in "-_./" for c in clean["code"]):
        errors["code"] = _("Mã chỉ gồm chữ, số và - _ . /")
    if present("category"):
        category = _text(data.get("category"))
        if category not in Category.CHOICES:
            errors["category"] = _("Chọn một nhóm nghề trong danh sách (%(keys)s).", keys=", ".join(Category.CHOICES))
        clean["category"] = category
    if present("commune_vi"):
        typed = clean.get("commune_vi")
        unit = canonical_unit(typed)
        if typed and unit is None:
            errors["commune_vi"] = _("“%(c)s” không phải một trong 126 xã, phường của Hà Nội từ 01/07/2025. Ghi huyện, "
                                     "xã cũ vào cột “trước đây”.", c=typed[:60])
        clean["commune_vi"] = unit
    commune = clean["commune_vi"] if "commune_vi" in clean else getattr(current, "commune_vi", None)
    note = clean["commune_note"] if "commune_note" in clean else getattr(current, "commune_note", None)
    if not commune and not note and "commune_vi" not in errors and (present("commune_vi") or present("commune_note")):
        errors["commune_vi"] = _("Ghi xã/phường mới; nếu chưa xác định được, ghi lý do ở ô “ghi chú địa bàn”.")
    if present("latitude") or present("longitude"):
        try:
            latitude, longitude = _float(data.get("latitude")), _float(data.get("longitude"))
        except ValueError:
            errors["latitude"] = _("Tọa độ là số thập phân, ví dụ 20.9766 và 105.9137.")
            latitude = longitude = None
        else:
            if (latitude is None) != (longitude is None):
                errors["latitude"] = _("Cần cả vĩ độ và kinh độ (hoặc để trống cả hai).")
            elif latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                errors["latitude"] = _("Vĩ độ từ -90 đến 90, kinh độ từ -180 đến 180.")
            elif latitude is not None and not inside_hanoi(latitude, longitude):
                errors["latitude"] = _("Tọa độ nằm ngoài Hà Nội (vĩ độ 20,5–21,45; kinh độ 105,25–106,05). "
                                       "Kiểm tra thứ tự vĩ độ, kinh độ.")
        clean["latitude"], clean["longitude"] = latitude, longitude
    if present("tourism"):
        word = _text(data.get("tourism")).lower()
        if word in TRUE_WORDS:
            clean["tourism"] = True
        elif word in FALSE_WORDS:
            clean["tourism"] = False
        else:
            errors["tourism"] = _("Ghi “có” hoặc “không”.")
    return clean, errors


def _raise(errors: dict[str, str]) -> None:
    if errors:
        key, message = next(iter(errors.items()))
        raise InvalidInput(message, field=key, details={"errors": errors})


def _unique_slug(base: str, taken: set[str] | None = None) -> str:
    """A slug no village has (``taken``: the slugs already known, when many villages are made at once)."""
    slug = slugify(base, 70)
    candidate, n = slug, 1

    def used(value: str) -> bool:
        if taken is not None:
            return value in taken
        return db.session.scalar(sa.select(CraftVillage.id).where(CraftVillage.slug == value)) is not None

    while used(candidate):
        n += 1
        candidate = f"{slug}-{n}"
    if taken is not None:
        taken.add(candidate)
    return candidate


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(CraftVillage.id).where(CraftVillage.code == code)
    if exclude_id is not None:
        stmt = stmt.where(CraftVillage.id != exclude_id)
    return db.session.scalar(stmt) is not None


def snapshot(village: CraftVillage) -> dict:
    return {key: getattr(village, key) for key in (*TEXT_FIELDS, "category", "latitude", "longitude", "tourism")}


def create_village(actor, data: dict[str, Any]) -> CraftVillage:
    _require_official(actor)
    data = dict(data)
    if not _text(data.get("code")) and _text(data.get("name_vi")):
        data["code"] = _unique_slug(_text(data.get("name_vi")))
    clean, errors = clean_village_data(data)
    if clean.get("code") and "code" not in errors and _code_taken(clean["code"]):
        errors["code"] = _("Mã này đã có trong sổ.")
    _raise(errors)
    village = CraftVillage(slug=_unique_slug(clean.get("code") or clean["name_vi"]), **clean)
    village.tourism = bool(clean.get("tourism"))
    db.session.add(village)
    db.session.flush()
    record(None if actor is SYSTEM else actor, "register.create", "craft_village", village.id,
           after=_jsonable(snapshot(village)))
    return village


def update_village(actor, village: CraftVillage, data: dict[str, Any], *, partial: bool = False) -> bool:
    """Apply the changes; True when anything changed (audited), False when the data equals the register."""
    _require_official(actor)
    clean, errors = clean_village_data(data, current=village, partial=partial)
    if clean.get("code") and "code" not in errors and _code_taken(clean["code"], village.id):
        errors["code"] = _("Mã này đã có trong sổ.")
    _raise(errors)
    before = snapshot(village)
    changed = {k: v for k, v in clean.items() if getattr(village, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(village, key, value)
    db.session.flush()
    record(None if actor is SYSTEM else actor, "register.update", "craft_village", village.id,
           before=_jsonable({k: before[k] for k in changed}), after=_jsonable(changed))
    return True


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def add_village_photo(actor, village: CraftVillage, name: str, data: bytes, alt_text: str | None = None) -> VillageImage:
    _require_official(actor)
    if len(village.images) >= MAX_PHOTOS:
        raise InvalidInput(_("Tối đa %(n)s ảnh cho một làng.", n=MAX_PHOTOS), field="photo")
    _headers, refused = check_uploads([(name, data)], field="photo")
    if refused:
        raise InvalidInput("; ".join(refused), field="photo")
    stored = ingest_upload(data, prefix="v")
    alt = _text(alt_text)[:300] or village.name_vi
    position = max((i.position for i in village.images), default=-1) + 1
    image = VillageImage(storage_key=stored.key, width=stored.width, height=stored.height, position=position,
                         alt_text=alt)
    village.images.append(image)
    db.session.flush()
    record(actor, "register.photo_add", "craft_village", village.id, after={"image_id": image.id})
    return image


def delete_village_photo(actor, village: CraftVillage, image_id: int) -> None:
    _require_official(actor)
    image = next((i for i in village.images if i.id == image_id), None)
    if image is None:
        raise InvalidInput(_("Không tìm thấy ảnh."), field="photo")
    village.images.remove(image)
    db.session.flush()
    record(actor, "register.photo_delete", "craft_village", village.id, before={"image_id": image_id})


def record_decision(actor, village: CraftVillage, data: dict[str, Any]) -> RecognitionDecision:
    """A recognition decision entered on the village's register page (number, date, title after; the title
    before is the village's current one, kept on the decision)."""
    _require_official(actor)
    errors: dict[str, str] = {}
    number = _text(data.get("number"))
    if not number:
        errors["number"] = _("Bắt buộc.")
    elif len(number) > 80:
        errors["number"] = _("Tối đa %(n)s ký tự.", n=80)
    decided_on = None
    try:
        decided_on = parse_date(data.get("decided_on"))
        if decided_on is None:
            errors["decided_on"] = _("Bắt buộc.")
    except ValueError:
        errors["decided_on"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    title = RECOGNITION_WORDS.get(_text(data.get("title")).lower(), _text(data.get("title")))
    if title not in Recognition.RECOGNIZED:
        errors["title"] = _("Chọn danh hiệu được công nhận.")
    _raise(errors)
    return official_services.record_recognition(actor, village, number, decided_on, title,
                                                evidence=_text(data.get("evidence")) or None)


# --- reading a file ---------------------------------------------------------------------------------

def _rows_from_csv(data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegisterFileError(_("Tệp CSV phải lưu dạng UTF-8 (trong Excel: “CSV UTF-8”)."), field="file") from None
    if not text.strip():
        raise RegisterFileError(_("Tệp rỗng."), field="file")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [(h or "").strip().lower() for h in next(reader)]
        rows = []
        for values in reader:
            if not any((v or "").strip() for v in values):
                continue
            rows.append((reader.line_num, values))
            if len(rows) > MAX_ROWS:
                raise RegisterFileError(_("Tối đa %(n)s dòng mỗi lần nhập.", n=MAX_ROWS), field="file")
    except csv.Error:
        raise RegisterFileError(_("Tệp CSV bị lỗi định dạng (dòng %(n)s).", n=reader.line_num), field="file") from None
    return header, [(line, dict(zip(header, values, strict=False))) for line, values in rows]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer() and abs(value) > 1000:
        return str(int(value))
    return str(value)


def _rows_from_xlsx(data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise RegisterFileError(_("Không đọc được tệp XLSX."), field="file") from None
    if declared > MAX_XLSX_UNCOMPRESSED or len(archive.infolist()) > 200:
        raise RegisterFileError(_("Tệp XLSX quá lớn khi giải nén."), field="file")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        iterator = sheet.iter_rows(values_only=True)
        header = [(_cell(h)).strip().lower() for h in next(iterator, ())]
        rows = []
        for index, values in enumerate(iterator, start=2):
            cells = [_cell(v).strip() for v in values]
            if not any(cells):
                continue
            rows.append((index, dict(zip(header, cells, strict=False))))
            if len(rows) > MAX_ROWS:
                raise RegisterFileError(_("Tối đa %(n)s dòng mỗi lần nhập.", n=MAX_ROWS), field="file")
        workbook.close()
    except RegisterFileError:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise RegisterFileError(_("Không đọc được tệp XLSX."), field="file") from None
    return header, rows


def read_register_file(data: bytes, filename: str = "") -> tuple[list[str], list[tuple[int, dict]]]:
    if not data:
        raise RegisterFileError(_("Hãy chọn tệp CSV hoặc XLSX."), field="file")
    if len(data) > MAX_FILE_BYTES:
        raise RegisterFileError(_("Tệp quá lớn: tối đa %(mb)s MB.", mb=MAX_FILE_BYTES // (1024 * 1024)), field="file")
    if data[:4] == b"PK\x03\x04":
        header, rows = _rows_from_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xls")):
        raise RegisterFileError(_("Không đọc được tệp XLSX."), field="file")
    else:
        header, rows = _rows_from_csv(data)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegisterFileError(_("Thiếu cột bắt buộc: %(cols)s. Hãy dùng tệp mẫu.", cols=", ".join(missing)),
                                field="file")
    known = [h for h in header if h in COLUMNS]
    return known, [(line, {k: v for k, v in row.items() if k in COLUMNS}) for line, row in rows]


# --- planning and applying an import ----------------------------------------------------------------

@dataclass
class PlannedRow:
    line: int
    code: str
    data: dict
    action: str = "create"  # create | update | unchanged
    village_id: int | None = None
    decision: dict | None = None
    changes: list[str] = field(default_factory=list)
    clean: dict = field(default_factory=dict)


@dataclass
class RegisterPlan:
    columns: list[str]
    rows: list[PlannedRow] = field(default_factory=list)
    errors: dict[int, list[str]] = field(default_factory=dict)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def decisions(self) -> int:
        return sum(1 for r in self.rows if r.decision)


def _decision_of(row: dict, village: CraftVillage | None,
                 on_file: set[tuple[int, str]]) -> tuple[dict | None, list[str]]:
    number, day, title = (_text(row.get(k)) for k in ("decision_number", "decision_date", "recognition"))
    if not (number or day or title):
        return None, []
    errors = []
    title = RECOGNITION_WORDS.get(title.lower(), title)
    if title in ("", Recognition.NONE):
        return None, ([_("recognition: cần danh hiệu khi có số quyết định.")] if number else [])
    if title not in Recognition.RECOGNIZED:
        errors.append(_("recognition: ghi “lang_nghe” hoặc “lang_nghe_truyen_thong”."))
    if not number:
        errors.append(_("decision_number: bắt buộc khi có danh hiệu."))
    decided_on = None
    try:
        decided_on = parse_date(day)
        if decided_on is None:
            errors.append(_("decision_date: bắt buộc khi có danh hiệu."))
        elif decided_on > today_vn():
            errors.append(_("decision_date: ngày quyết định không được ở tương lai."))
    except ValueError:
        errors.append(_("decision_date: ngày không hợp lệ (dd/mm/yyyy)."))
    if errors:
        return None, errors
    if village is not None and (village.id, number) in on_file:
        return None, []  # already on file: a re-import records nothing
    return {"number": number, "decided_on": decided_on, "title": title}, []


def plan_register_import(data: bytes, filename: str = "") -> RegisterPlan:
    columns, rows = read_register_file(data, filename)
    plan = RegisterPlan(columns=columns, total_rows=len(rows))
    existing = {v.code: v for v in db.session.scalars(sa.select(CraftVillage))}
    on_file = {(vid, number) for vid, number in db.session.execute(
        sa.select(RecognitionDecision.village_id, RecognitionDecision.number))}
    seen: dict[str, int] = {}
    for line, row in rows:
        fields = {k: v for k, v in row.items() if k not in DECISION_COLUMNS}
        code = _text(fields.get("code"))
        village = existing.get(code)
        clean, errors = clean_village_data(fields, current=village, partial=village is not None)
        messages = [f"{key}: {message}" for key, message in errors.items()]
        if code and code in seen:
            messages.append(_("code: mã %(c)s trùng với dòng %(n)s.", c=code, n=seen[code]))
        elif code:
            seen[code] = line
        decision, decision_errors = _decision_of(row, village, on_file)
        messages.extend(decision_errors)
        if messages:
            plan.errors[line] = messages
            continue
        planned = PlannedRow(line=line, code=code, data=fields, decision=decision, clean=clean)
        if village is not None:
            planned.village_id = village.id
            planned.changes = [k for k, v in clean.items() if getattr(village, k) != v]
            planned.action = "update" if planned.changes else "unchanged"
        plan.rows.append(planned)
    if not rows:
        plan.errors[1] = [_("Tệp không có dòng dữ liệu nào.")]
    return plan


@dataclass
class RegisterImportResult:
    plan: RegisterPlan
    applied: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    decisions: int = 0


def run_register_import(actor, data: bytes, filename: str = "", *, dry_run: bool = False) -> RegisterImportResult:
    """Check every row, then apply all of them or none (the caller's transaction commits)."""
    _require_official(actor)
    plan = plan_register_import(data, filename)
    result = RegisterImportResult(plan=plan)
    if dry_run or not plan.ok:
        return result
    # The rows were checked by the plan (``clean``): apply them in one flush, one audit entry for the file.
    slugs = set(db.session.scalars(sa.select(CraftVillage.slug)))
    by_id = {v.id: v for v in db.session.scalars(sa.select(CraftVillage))}
    villages: dict[int, CraftVillage] = {}
    created, updated = [], {}
    for index, row in enumerate(plan.rows):
        if row.action == "create":
            village = CraftVillage(slug=_unique_slug(row.code, slugs), **row.clean)
            village.tourism = bool(row.clean.get("tourism"))
            db.session.add(village)
            created.append(row.code)
        else:
            village = by_id[row.village_id]
            for key in row.changes:
                setattr(village, key, row.clean[key])
            if row.changes:
                updated[row.code] = {k: _jsonable({k: row.clean[k]})[k] for k in row.changes}
        villages[index] = village
    db.session.flush()
    actor_or_none = None if actor is SYSTEM else actor
    for index, row in enumerate(plan.rows):
        if row.decision:
            official_services.record_recognition(actor_or_none, villages[index], row.decision["number"],
                                                 row.decision["decided_on"], row.decision["title"],
                                                 evidence=_("Nhập từ sổ làng nghề của thành phố"))
            result.decisions += 1
    result.created, result.updated = len(created), len(updated)
    result.unchanged = len(plan.rows) - result.created - result.updated
    db.session.flush()
    record(actor_or_none, "register.import", "craft_village", None,
           after={"rows": len(plan.rows), "created": created, "updated": updated, "decisions": result.decisions})
    result.applied = True
    return result


# --- the register as a file -------------------------------------------------------------------------

EXPORT_COLUMNS = COLUMNS[:16] + ("recognition", "recognition_decision", "recognition_year", "slug")


def export_rows() -> list[list]:
    rows = []
    for v in db.session.scalars(sa.select(CraftVillage).order_by(CraftVillage.code)):
        rows.append(safe_row([
            v.code, v.name_vi, v.name_en or "", v.commune_vi or "", v.former_district_vi or "", v.commune_note or "",
            v.craft_vi, v.craft_en or "", v.category, "" if v.latitude is None else v.latitude,
            "" if v.longitude is None else v.longitude, "có" if v.tourism else "không", v.notable_products or "",
            v.story_vi or "", v.story_en or "", v.sources or "", v.recognition, v.recognition_decision or "",
            v.recognition_year or "", v.slug]))
    return rows


def export_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_rows())
    return "\ufeff" + buffer.getvalue()


def export_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "register"
    sheet.append(list(EXPORT_COLUMNS))
    for row in export_rows():
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(safe_row([
        "HN-LN-0001", "Bát Tràng", "Bat Trang Pottery Village", "xã Bát Tràng", "huyện Gia Lâm", "", "gốm sứ",
        "pottery and porcelain", "ceramics", "20.9766", "105.9137", "có", "bát, đĩa, lọ men lam", "", "",
        "https://…", "lang_nghe_truyen_thong", "123/QĐ-UBND", "15/01/2020"]))
    return "\ufeff" + buffer.getvalue()
