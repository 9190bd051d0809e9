"""A village's place on a small map of Hà Nội: a static SVG drawn on the server from the stored coordinates.

No JavaScript, no third-party tiles, nothing fetched: the outline below is a simplified polygon of the city's
boundary and the Red River (about 30 points, accurate to a few kilometres — enough to see where in the city a
village lies, not to find the way; the coordinates link to OpenStreetMap for that). Projection: equirectangular
around 21° N (x scaled by cos 21°). Only presentation attributes are used (no inline ``style``), so the page's
Content-Security-Policy is unchanged.
"""
from __future__ import annotations

import math

from markupsafe import Markup, escape

# (latitude, longitude), clockwise from the northern tip (Sóc Sơn).
OUTLINE = (
    (21.385, 105.800), (21.360, 105.870), (21.330, 105.930), (21.255, 105.945), (21.200, 105.950),
    (21.120, 105.990), (21.075, 106.020), (21.030, 106.000), (20.985, 105.975), (20.950, 105.930),
    (20.880, 105.920), (20.800, 105.935), (20.730, 105.950), (20.660, 105.975), (20.610, 105.930),
    (20.575, 105.830), (20.540, 105.760), (20.530, 105.720), (20.590, 105.660), (20.680, 105.620),
    (20.790, 105.550), (20.870, 105.500), (20.950, 105.470), (21.000, 105.360), (21.060, 105.300),
    (21.120, 105.280), (21.200, 105.300), (21.250, 105.360), (21.200, 105.520), (21.220, 105.650),
    (21.270, 105.720), (21.300, 105.760),
)
RED_RIVER = (
    (21.250, 105.360), (21.160, 105.550), (21.100, 105.700), (21.075, 105.800), (21.045, 105.860),
    (20.985, 105.900), (20.900, 105.920), (20.780, 105.945), (20.650, 105.975),
)
CENTRE = (21.0285, 105.8542)  # Hoàn Kiếm Lake
WIDTH = 320
PAD = 12
LAT_TOP, LAT_BOTTOM = 21.40, 20.52
LON_LEFT, LON_RIGHT = 105.27, 106.03
_COS = math.cos(math.radians(21.0))
_SCALE = (WIDTH - 2 * PAD) / ((LON_RIGHT - LON_LEFT) * _COS)
HEIGHT = round((LAT_TOP - LAT_BOTTOM) * _SCALE + 2 * PAD)


def project(latitude: float, longitude: float) -> tuple[float, float]:
    x = PAD + (longitude - LON_LEFT) * _COS * _SCALE
    y = PAD + (LAT_TOP - latitude) * _SCALE
    return round(x, 1), round(y, 1)


def _points(coords) -> str:
    return " ".join(f"{x},{y}" for x, y in (project(lat, lon) for lat, lon in coords))


def village_map_svg(name: str, latitude: float | None, longitude: float | None, *, title: str,
                    centre_label: str) -> Markup:
    """The map as inline SVG markup, or an empty string when the village has no coordinates."""
    if latitude is None or longitude is None:
        return Markup("")
    x, y = project(latitude, longitude)
    cx, cy = project(*CENTRE)
    x = min(max(x, 4), WIDTH - 4)
    y = min(max(y, 4), HEIGHT - 4)
    anchor = "end" if x > WIDTH * 0.6 else "start"
    label_x = x - 8 if anchor == "end" else x + 8
    name = escape(name)
    return Markup(
        f'<svg class="village-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="village-map-title">'
        f'<title id="village-map-title">{escape(title)}</title>'
        f'<polygon points="{_points(OUTLINE)}" fill="#f3efe4" stroke="#8a7f66" stroke-width="1.5" '
        f'stroke-linejoin="round"/>'
        f'<polyline points="{_points(RED_RIVER)}" fill="none" stroke="#7fa7c9" stroke-width="3" '
        f'stroke-linecap="round" stroke-linejoin="round"/>'
        f'<circle cx="{cx}" cy="{cy}" r="3" fill="#555"/>'
        f'<text x="{cx - 5}" y="{cy + 13}" font-size="10" fill="#555" text-anchor="end">{escape(centre_label)}</text>'
        f'<circle cx="{x}" cy="{y}" r="7" fill="#b3261e" fill-opacity="0.25"/>'
        f'<circle cx="{x}" cy="{y}" r="3.5" fill="#b3261e" stroke="#fff" stroke-width="1"/>'
        f'<text x="{label_x}" y="{y - 6}" font-size="12" font-weight="bold" fill="#222" '
        f'text-anchor="{anchor}">{name}</text>'
        f"</svg>"
    )
