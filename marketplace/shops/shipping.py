"""Shipping up front: the one rule for what a shop charges to send a parcel, and when it arrives.

``quote(shop, destination_province, subtotal, weight_grams)`` is called by the product page, the cart (per
shop), checkout (the summary *and* the order totals written by ``orders.services.place_checkout``) and the
confirmation page, so they cannot disagree. ``shop`` is a ``Shop`` or any row with the same columns.

The rule, in order:
1. the base fee: ``shipping_fee_hanoi`` when the parcel goes to Hà Nội and the shop set one, else ``shipping_fee``;
2. plus the surcharge of the heaviest weight band the parcel reaches (``shipping_weight_bands``,
   "2000=15000; 5000=30000" = from 2,000 g +15.000 ₫, from 5,000 g +30.000 ₫); no weight known → no surcharge;
3. all of it is 0 when the shop's free-shipping threshold is set and the subtotal reaches it.
The delivery estimate is ``delivery_days_hanoi`` / ``delivery_days_other`` ("1–2" days), None when unset."""
from __future__ import annotations

import re
from dataclasses import dataclass

HANOI_CODE = "01"  # as in marketplace.orders.addresses (not imported: orders is above shops)
MAX_BANDS = 6
MAX_BAND_GRAMS = 100_000
MAX_BAND_FEE = 2_000_000
MAX_DAYS = 60
_DAYS = re.compile(r"^(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?$")
_HANOI = {HANOI_CODE, "Thành phố Hà Nội", "Hà Nội"}  # the code, its name in the 2025 list (orders store it)


@dataclass(frozen=True)
class Quote:
    fee: int                 # what the order pays for shipping (đồng)
    base_fee: int            # the destination's fee before the threshold
    surcharge: int           # the weight band's surcharge before the threshold
    free: bool               # the free-shipping threshold is reached (fee == 0 because of it)
    free_over: int | None    # the shop's threshold
    missing_for_free: int    # how much more would make shipping free (0: free already, or no threshold)
    days: str | None         # delivery estimate in days, e.g. "1–2"
    hanoi: bool              # the destination is Hà Nội

    @property
    def is_zero(self) -> bool:
        return self.fee == 0


def is_hanoi(province: str | None) -> bool:
    """``province``: a province code ("01") or its name as orders store it ("Thành phố Hà Nội")."""
    return (province or "").strip() in _HANOI


def parse_bands(text: str | None) -> list[tuple[int, int]]:
    """"2000=15000; 5000=30000" → [(2000, 15000), (5000, 30000)] sorted by weight. Raises ValueError on
    anything else (the seller form shows the error); "" / None → []."""
    bands = []
    for part in re.split(r"[;,\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\d{1,6})\s*(?:g)?\s*[=:]\s*([\d.]{1,11})", part)
        if not match:
            raise ValueError(part)
        grams, fee = int(match.group(1)), int(match.group(2).replace(".", ""))
        if not (0 < grams <= MAX_BAND_GRAMS and 0 <= fee <= MAX_BAND_FEE):
            raise ValueError(part)
        bands.append((grams, fee))
    if len(bands) > MAX_BANDS or len({g for g, _ in bands}) != len(bands):
        raise ValueError(text)
    return sorted(bands)


def format_bands(bands: list[tuple[int, int]]) -> str | None:
    return "; ".join(f"{g}={f}" for g, f in bands) or None


def parse_days(text: str | None) -> str | None:
    """"1-2" / "1 – 2" / "3" → "1–2" / "3"; "" → None; ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    match = _DAYS.match(text)
    if not match:
        raise ValueError(text)
    low, high = int(match.group(1)), match.group(2)
    if high is None:
        if not 0 < low <= MAX_DAYS:
            raise ValueError(text)
        return str(low)
    high = int(high)
    if not 0 < low < high <= MAX_DAYS:
        raise ValueError(text)
    return f"{low}–{high}"


def surcharge_for(bands_text: str | None, weight_grams: int | None) -> int:
    if not weight_grams:
        return 0
    try:
        bands = parse_bands(bands_text)
    except ValueError:  # stored text is validated on save; a bad value charges nothing rather than failing
        return 0
    reached = [fee for grams, fee in bands if weight_grams >= grams]
    return reached[-1] if reached else 0


def quote(shop, destination_province: str | None, subtotal: int, weight_grams: int | None = None) -> Quote:
    """The shop's shipping for one parcel: see the module docstring for the rule."""
    hanoi = is_hanoi(destination_province)
    hanoi_fee = getattr(shop, "shipping_fee_hanoi", None)
    base = hanoi_fee if hanoi and hanoi_fee is not None else (shop.shipping_fee or 0)
    surcharge = surcharge_for(getattr(shop, "shipping_weight_bands", None), weight_grams)
    free_over = shop.free_shipping_over
    free = free_over is not None and subtotal >= free_over
    days = getattr(shop, "delivery_days_hanoi" if hanoi else "delivery_days_other", None)
    return Quote(fee=0 if free else base + surcharge, base_fee=base, surcharge=surcharge, free=free,
                 free_over=free_over, missing_for_free=0 if free or free_over is None else free_over - subtotal,
                 days=days, hanoi=hanoi)
