"""Incoming bank transfers as plain values: the ``BankTransfer`` a bank webhook or a statement row gives,
the cleaning rules they share, and the reader of bank statement files (CSV or XLSX) an admin uploads.

Column mapping: the header row is found among the first 30 rows as the first row that names the four
columns. Each column is known by any of the names in ``DEFAULT_HEADERS`` (case, accents' spacing and
surrounding spaces ignored) or by the name the admin types on the upload form:

=================  =====================================================================================
date               Ngày giao dịch, Ngày GD, Ngày, Thời gian, Date, Transaction date
amount             Số tiền ghi có, Ghi có, Số tiền, Credit, Amount  (whole đồng; 1.250.000 / 1,250,000 /
                   1250000; a debit, negative or empty amount is not an incoming transfer: reported)
description        Nội dung, Nội dung giao dịch, Mô tả, Diễn giải, Description, Remark
transaction id     Mã giao dịch, Số tham chiếu, Mã GD, Số bút toán, Transaction ID, Reference, Ref
=================  =====================================================================================

Dates: a spreadsheet date, or dd/mm/yyyy [HH:MM[:SS]], yyyy-mm-dd[ HH:MM[:SS]] — the bank's clock
(Asia/Ho_Chi_Minh), stored as naive UTC. Every row that cannot be read is reported with its row number
and why; the others can still be imported. At most ``MAX_ROWS`` rows.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import openpyxl

MAX_ROWS = 10_000
MAX_AMOUNT = 10**12  # đồng
VN_TIME = timezone(timedelta(hours=7))
FIELDS = ("date", "amount", "description", "transaction_id")
DEFAULT_HEADERS = {
    "date": ("ngày giao dịch", "ngày gd", "ngày", "thời gian", "date", "transaction date"),
    "amount": ("số tiền ghi có", "ghi có", "số tiền", "credit", "amount"),
    "description": ("nội dung", "nội dung giao dịch", "mô tả", "diễn giải", "description", "remark"),
    "transaction_id": ("mã giao dịch", "số tham chiếu", "mã gd", "số bút toán", "transaction id", "reference", "ref"),
}
_AMOUNT = re.compile(r"^\+?(\d{1,3}(?:([.,])\d{3})(?:\2\d{3})*|\d+)(?:[.,]00?)?$")
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y")


@dataclass(frozen=True)
class BankTransfer:
    """One incoming transfer as the bank reports it (webhook) or a statement row says."""

    transaction_id: str
    amount: int  # int đồng
    description: str
    occurred_at: datetime | None  # naive UTC


def clean_transaction_id(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text or len(text) > 100 or any(not ch.isprintable() for ch in text):
        raise ValueError("transaction id must be 1–100 printable characters")
    return text


def clean_amount(value) -> int:
    """Whole đồng: an int, or a string of digits; never a float."""
    if isinstance(value, bool):
        raise ValueError("amount must be a whole number of đồng")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise ValueError("amount must be a positive whole number of đồng")
    return value


def clean_description(value) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()[:500]


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TIME)
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_iso_time(value) -> datetime | None:
    """ISO 8601 (no offset = the banks' clock, Asia/Ho_Chi_Minh) → naive UTC."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("time is not an ISO 8601 string")
    return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


# --- statement files ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementRow:
    row: int  # the row number in the file (1 = the first line)
    transfer: BankTransfer


@dataclass
class ParsedStatement:
    rows: list[StatementRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, what is wrong)
    problem: str | None = None  # the file as a whole could not be read


def _norm(text) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).lower().split())


def _statement_amount(value) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("no amount")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):  # a spreadsheet number cell: exact whole đồng only
        try:
            exact = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("not a number") from None
        if exact != exact.to_integral_value():
            raise ValueError("not a whole number of đồng")
        number = int(exact)
    else:
        text = re.sub(r"(?i)\s|vnd|₫|đ", "", str(value))
        if text.startswith("-") or text.startswith("("):
            raise ValueError("a debit, not an incoming transfer")
        match = _AMOUNT.match(text)
        if not match:
            raise ValueError("not a whole number of đồng")
        number = int(re.sub(r"[.,]", "", match.group(1)))
    if number <= 0:
        raise ValueError("a debit or zero, not an incoming transfer")
    if number > MAX_AMOUNT:
        raise ValueError("amount too large")
    return number


def _statement_date(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return to_utc(datetime(value.year, value.month, value.day))
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError("date not understood (dd/mm/yyyy or yyyy-mm-dd)")


def _table(filename: str, data: bytes) -> list[list]:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [list(r) for _, r in zip(range(MAX_ROWS + 31), sheet.iter_rows(values_only=True))]
        finally:
            book.close()
    if name.endswith(".csv") or name.endswith(".txt"):
        text = data.decode("utf-8-sig")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [row for _, row in zip(range(MAX_ROWS + 31), csv.reader(io.StringIO(text), dialect))]
    raise ValueError("only .csv and .xlsx files")


def _header(table: list[list], mapping: dict[str, str]) -> tuple[int, dict[str, int]] | None:
    wanted = {f: ((_norm(mapping[f]),) if mapping.get(f) else DEFAULT_HEADERS[f]) for f in FIELDS}
    for index, row in enumerate(table[:30]):
        cells = [_norm(c) for c in row]
        found = {}
        for f in FIELDS:
            for name in wanted[f]:
                if name in cells and cells.index(name) not in found.values():
                    found[f] = cells.index(name)
                    break
        if len(found) == len(FIELDS):
            return index, found
    return None


def parse_statement(filename: str, data: bytes, mapping: dict[str, str] | None = None) -> ParsedStatement:
    """Read a statement file; every unreadable row is in ``errors`` with its row number."""
    result = ParsedStatement()
    try:
        table = _table(filename, data)
    except (ValueError, UnicodeDecodeError, OSError, KeyError, csv.Error) as exc:
        result.problem = f"file not readable: {exc}"[:300]
        return result
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        result.problem = f"file not readable as XLSX: {exc.__class__.__name__}"
        return result
    header = _header(table, {k: (v or "").strip() for k, v in (mapping or {}).items()})
    if header is None:
        result.problem = "no header row naming the date, amount, description and transaction id columns"
        return result
    start, columns = header
    if len(table) - start - 1 > MAX_ROWS:
        result.problem = f"more than {MAX_ROWS} rows"
        return result
    seen: set[str] = set()
    for offset, row in enumerate(table[start + 1:], start=start + 2):
        if all(c in (None, "") or (isinstance(c, str) and not c.strip()) for c in row):
            continue
        cell = {f: (row[i] if i < len(row) else None) for f, i in columns.items()}
        try:
            transaction_id = clean_transaction_id(cell["transaction_id"])
            amount = _statement_amount(cell["amount"])
            occurred = _statement_date(cell["date"])
        except ValueError as exc:
            result.errors.append((offset, str(exc)))
            continue
        if transaction_id in seen:
            result.errors.append((offset, f"transaction id {transaction_id} appears twice in the file"))
            continue
        seen.add(transaction_id)
        result.rows.append(StatementRow(offset, BankTransfer(transaction_id, amount,
                                                             clean_description(cell["description"]), occurred)))
    return result
