"""The NAPAS VietQR payload (EMVCo merchant-presented QR): build it, parse it back, check its CRC.

Layout (each field is ID (2 digits) + length (2 digits) + value)::

    00 "01"                      payload format indicator
    01 "12"                      point of initiation: dynamic (one payment, one amount)
    38 merchant account info     00 GUID "A000000727" (NAPAS)
                                 01 beneficiary organisation: 00 bank BIN (6 digits), 01 account number
                                 02 service code "QRIBFTTA" (transfer to an account)
    53 "704"                     currency (ISO 4217 numeric: VND)
    54 amount                    whole đồng, digits only
    58 "VN"                      country
    62 additional data           08 purpose of transaction (our payment reference)
    63 CRC                       CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over everything up to and
                                 including "6304", as 4 upper-case hex digits

Pure functions, no Flask: the tests decode the rendered image and check it field by field with ``parse``.
"""
from __future__ import annotations

import re

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
_REFERENCE = re.compile(r"^[A-Z0-9]{1,25}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9]{1,19}$")
_BIN = re.compile(r"^\d{6}$")


class PayloadError(ValueError):
    """A payload that is malformed or whose CRC does not match."""


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise PayloadError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def build(*, bank_bin: str, account: str, amount: int, reference: str) -> str:
    """The VietQR payload for one transfer of exactly ``amount`` đồng to ``account`` at bank ``bank_bin``,
    with ``reference`` (A–Z, 0–9, ≤ 25) as the transfer's purpose."""
    if not _BIN.match(bank_bin or ""):
        raise PayloadError("the bank BIN is 6 digits")
    if not _ACCOUNT.match(account or ""):
        raise PayloadError("the account number is 1–19 letters or digits")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 10**13:
        raise PayloadError("the amount is a positive whole number of đồng")
    if not _REFERENCE.match(reference or ""):
        raise PayloadError("the reference is 1–25 characters A–Z, 0–9")
    beneficiary = _field("00", bank_bin) + _field("01", account)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", SERVICE_TO_ACCOUNT)
    body = (_field("00", "01") + _field("01", "12") + _field("38", merchant) + _field("53", CURRENCY_VND)
            + _field("54", str(amount)) + _field("58", COUNTRY_VN) + _field("62", _field("08", reference)) + "6304")
    return body + f"{crc16_ccitt_false(body.encode('utf-8')):04X}"


def fields(payload: str) -> list[tuple[str, str]]:
    """The top-level (tag, value) pairs of a TLV string, in order."""
    out, i = [], 0
    while i < len(payload):
        tag, size = payload[i:i + 2], payload[i + 2:i + 4]
        if len(tag) < 2 or not size.isdigit() or not tag.isdigit():
            raise PayloadError(f"bad field header at {i}")
        value = payload[i + 4:i + 4 + int(size)]
        if len(value) != int(size):
            raise PayloadError(f"field {tag} is cut short")
        out.append((tag, value))
        i += 4 + int(size)
    return out


def parse(payload: str) -> dict:
    """A VietQR payload as a dict (``"38"`` and ``"62"`` as nested dicts, ``"38"["01"]`` too). Raises
    PayloadError when it is malformed or its CRC (tag 63, last) does not match."""
    top = fields(payload)
    if not top or top[-1][0] != "63" or len(top[-1][1]) != 4:
        raise PayloadError("the CRC (63) is not the last field")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
    if top[-1][1].upper() != expected:
        raise PayloadError(f"CRC {top[-1][1]} ≠ {expected}")
    result: dict = {}
    for tag, value in top:
        if tag in ("38", "62"):
            nested = dict(fields(value))
            if tag == "38" and "01" in nested:
                nested["01"] = dict(fields(nested["01"]))
            result[tag] = nested
        else:
            result[tag] = value
    return result
