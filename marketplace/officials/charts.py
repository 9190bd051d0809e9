"""Server-rendered SVG charts (no JavaScript; print as they are)."""
from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from marketplace.officials.present import fmt_number

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 320, 120, 34, 8, 8, 22


def trend_svg(points: list[tuple[date, float]], target: float | None, title: str, unit_suffix: str = "") -> Markup:
    """A line of monthly values (oldest first) with the target as a dashed line. The cards pass the series
    that ends on their headline value (``present.trend_series``)."""
    if not points:
        return Markup(f'<p class="muted">{escape(title)}: —</p>')
    values = [v for _, v in points]
    top = max(values + ([target] if target is not None else []) + [1])
    bottom = min(0, min(values))
    span = (top - bottom) or 1
    n = len(points)

    def x(i: int) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - (v - bottom) / span)

    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    parts = [f'<svg class="trend" viewBox="0 0 {W} {H}" width="100%" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{PAD_L}" y1="{y(bottom):.1f}" x2="{W - PAD_R}" y2="{y(bottom):.1f}" stroke="#999"/>']
    labels = (bottom, 0, top) if bottom < 0 else (bottom, top)
    if bottom < 0:  # the zero line, so a negative stretch reads as one
        parts.append(f'<line x1="{PAD_L}" y1="{y(0):.1f}" x2="{W - PAD_R}" y2="{y(0):.1f}" stroke="#ccc"/>')
    for v in labels:
        parts.append(f'<text x="{PAD_L - 3}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{_num(v)}{escape(unit_suffix)}</text>')
    if target is not None:
        parts.append(f'<line x1="{PAD_L}" y1="{y(target):.1f}" x2="{W - PAD_R}" y2="{y(target):.1f}" '
                     f'stroke="#b35c00" stroke-dasharray="4 3"/>')
    parts.append(f'<polyline fill="none" stroke="#1d5e8c" stroke-width="2" points="{coords}"/>')
    last_x, last_y = x(n - 1), y(values[-1])
    parts.append(f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="#1d5e8c"/>')
    first, last = points[0][0], points[-1][0]
    parts.append(f'<text x="{PAD_L}" y="{H - 6}" font-size="10">{first:%m/%Y}</text>')
    parts.append(f'<text x="{W - PAD_R}" y="{H - 6}" font-size="10" text-anchor="end">{last:%m/%Y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(v: float) -> str:
    """An axis label: the number as the cards write it, a negative one with its minus sign (−12,5)."""
    text = fmt_number(abs(round(v, 1)))
    return f"-{text}" if round(v, 1) < 0 else text
