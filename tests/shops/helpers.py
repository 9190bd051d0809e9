"""Helpers for the shops tests (and others that open a shop through the pages)."""
from __future__ import annotations


def shop_form(village_id, **overrides) -> dict:
    data = {
        "name": "Gốm Quý Bát Tràng",
        "village_id": str(village_id),
        "maker_name": "Nguyễn Văn Quý",
        "maker_title": "Nghệ nhân ưu tú",
        "story": "Ba đời làm gốm men lam.",
        "phone": "0912 345 678",
        "shipping_policy": "Giao trong 2–4 ngày",
        "returns_policy": "Đổi trong 7 ngày nếu vỡ",
        "shipping_fee": "30.000",
        "free_shipping_over": "500.000",
        "show_phone": "y",  # the contact checkboxes, ticked by default (a browser sends them ticked)
        "show_zalo": "y",
    }
    data.update(overrides)
    return data


def consent_form(**overrides):
    data = {"artisan_name": "Bà Hoa", "artisan_phone": "0988 111 222", "method": "in_person_signed",
            "given_at": "2026-11-20", "evidence": "Biên bản số 12/HTX Chuông, lưu tại HTX", "confirmed": "y"}
    data.update(overrides)
    return data
