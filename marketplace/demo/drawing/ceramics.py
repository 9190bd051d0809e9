"""Bát Tràng ceramics: vases, bowls / tea sets, plates."""
from __future__ import annotations

import math

from .base import BASE_Y, alpha, darken, flower, leaf, lighten, mix, profile_body, smooth_profile, wave

# (name, glaze, paint/accent)
GLAZES = [
    ("celadon", (163, 196, 170), (120, 160, 135)),
    ("blue_white", (236, 238, 236), (38, 66, 140)),
    ("crackle", (226, 214, 186), (90, 70, 50)),
    ("celadon", (142, 184, 176), (96, 146, 136)),
    ("blue_white", (240, 240, 232), (30, 52, 120)),
    ("crackle", (214, 200, 170), (70, 52, 36)),
    ("blue_white", (232, 236, 238), (46, 84, 156)),
    ("brown", (120, 72, 40), (230, 200, 150)),
]

VASE_SHAPES = [
    [(230, 45), (262, 38), (340, 40), (430, 80), (540, 155), (670, 170), (770, 140), (830, 100)],
    [(240, 48), (262, 56), (300, 130), (390, 178), (530, 165), (690, 118), (800, 92), (830, 98)],
    [(222, 92), (252, 68), (330, 78), (440, 160), (590, 182), (720, 140), (805, 108), (830, 106)],
]


def crackle(c, rng, x0, y0, x1, y1, color, n=60):
    for _ in range(n):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        pts = [(x, y)]
        for _ in range(rng.randint(2, 4)):
            x += rng.uniform(-45, 45)
            y += rng.uniform(-45, 45)
            pts.append((x, y))
        c.line(pts, fill=alpha(color, 120), width=1.6)


def motif_band(c, rng, style, paint, x0, x1, y0, y1, variant):
    """A decorative painted band between y0 and y1 (used inside clips)."""
    h = y1 - y0
    c.line([(x0, y0), (x1, y0)], fill=paint, width=5)
    c.line([(x0, y1), (x1, y1)], fill=paint, width=5)
    if style == "blue_white":
        kind = variant % 3
        if kind == 0:  # lotus scroll
            c.line(wave(x0, x1, (y0 + y1) / 2, h * 0.22, 3, 60), fill=paint, width=4)
            n = 4
            for i in range(n):
                cx = x0 + (x1 - x0) * (i + 0.5) / n
                cy = (y0 + y1) / 2
                flower(c, cx, cy, h * 0.22, paint, lighten(paint, 0.6), petals=6, rot=i)
                leaf(c, cx + h * 0.18, cy + h * 0.12, h * 0.28, 0.5, alpha(paint, 220))
                leaf(c, cx - h * 0.18, cy - h * 0.12, h * 0.28, 3.6, alpha(paint, 220))
        elif kind == 1:  # waves and clouds
            for j in range(4):
                c.line(wave(x0, x1, y0 + h * (0.25 + 0.17 * j), h * 0.06, 7, 70, j),
                       fill=paint, width=3.5)
        else:  # bamboo + birds
            for i in range(5):
                bx = x0 + (x1 - x0) * (i + 0.5) / 5
                c.line([(bx, y1), (bx + 10, y0)], fill=paint, width=6)
                for j in range(3):
                    leaf(c, bx, y0 + h * (0.25 + 0.25 * j), h * 0.3, -0.5 + j * 0.2 + i, paint)
    elif style == "brown":
        for i in range(6):
            cx = x0 + (x1 - x0) * (i + 0.5) / 6
            c.circle(cx, (y0 + y1) / 2, h * 0.18, outline=paint, width=4)
    else:
        c.line(wave(x0, x1, (y0 + y1) / 2, h * 0.18, 5, 60), fill=alpha(paint, 160), width=3)


def vase(c, rng, variant):
    style, glaze, paint = GLAZES[variant % len(GLAZES)]
    prof = smooth_profile(VASE_SHAPES[variant % 3], 70)
    cx = 500
    maxw = max(hw for _, hw in prof)
    foot_hw = prof[-1][1]
    c.shadow(cx + 30, BASE_Y, maxw * 1.25, 40)
    outline = profile_body(cx, prof)
    top_y = prof[0][0]
    with c.clip((cx - maxw - 5, top_y - 5, cx + maxw + 5, BASE_Y + 5)) as cl:
        cl.mask_poly(outline)
        cl.rect((0, 0, 1000, 1000), fill=glaze)
        if style == "blue_white":
            motif_band(cl, rng, style, paint, cx - maxw, cx + maxw, 500, 680, variant)
            for y in (380, 430):
                cl.line([(cx - maxw, y), (cx + maxw, y)], fill=paint, width=4)
            for i in range(14):  # petal panels at the foot
                x = cx - maxw + i * maxw / 7
                cl.arc((x, 720, x + maxw / 7, 800), 180, 360, paint, 4)
            cl.line([(cx - maxw, 760), (cx + maxw, 760)], fill=paint, width=4)
        elif style == "crackle":
            crackle(cl, rng, cx - maxw, top_y, cx + maxw, BASE_Y, paint, 110)
            cl.rect((cx - maxw, 470, cx + maxw, 500), fill=alpha(darken(glaze, 0.45), 220))
        elif style == "brown":
            motif_band(cl, rng, style, paint, cx - maxw, cx + maxw, 520, 600, variant)
        else:
            for j in range(9):  # incised celadon flutes
                x = cx - maxw + (j + 0.5) * 2 * maxw / 9
                cl.line([(x, 520), (x + 8, 780)], fill=alpha(darken(glaze, 0.25), 120), width=5)
            cl.line(wave(cx - maxw, cx + maxw, 470, 12, 4, 60),
                    fill=alpha(darken(glaze, 0.25), 150), width=5)
        cl.cyl_shade(cx - maxw, cx + maxw, top_y, BASE_Y, 1.0)
        cl.rect((cx - foot_hw - 5, BASE_Y - 22, cx + foot_hw + 5, BASE_Y + 5),
                fill=(196, 170, 138))
    # rim
    rim = prof[0][1]
    c.ellipse((cx - rim, top_y - 14, cx + rim, top_y + 14), fill=lighten(glaze, 0.15),
              outline=darken(glaze, 0.2), width=3)
    c.ellipse((cx - rim * 0.75, top_y - 9, cx + rim * 0.75, top_y + 9), fill=darken(glaze, 0.55))


def _bowl_shape(cx, rim_y, rw, depth, foot):
    pts = []
    for i in range(31):
        t = i / 30
        ang = math.pi * t
        x = cx - rw * math.cos(ang)
        y = rim_y + depth * math.sin(ang) ** 0.8
        pts.append((x, y))
    pts = [(x, min(y, rim_y + depth)) for x, y in pts]
    return pts, (cx - foot, rim_y + depth, cx + foot, rim_y + depth + 28)


def _bowl(c, rng, variant, cx, rim_y, rw, depth, glaze, paint, style, shadow=True):
    body, foot = _bowl_shape(cx, rim_y, rw, depth, rw * 0.4)
    if shadow:
        c.shadow(cx + 20, foot[3], rw * 0.9, rw * 0.12)
    c.rect(foot, fill=darken(glaze, 0.1))
    with c.clip((cx - rw - 4, rim_y - 4, cx + rw + 4, rim_y + depth + 4)) as cl:
        cl.mask_poly(body + [(cx - rw, rim_y)])
        cl.rect((0, 0, 1000, 1000), fill=glaze)
        if style == "crackle":
            crackle(cl, rng, cx - rw, rim_y, cx + rw, rim_y + depth, paint, 40)
        elif style in ("blue_white", "brown"):
            motif_band(cl, rng, style, paint, cx - rw, cx + rw, rim_y + depth * 0.2,
                       rim_y + depth * 0.65, variant)
        else:
            for j in range(12):
                x = cx - rw + (j + 0.5) * 2 * rw / 12
                cl.line([(x, rim_y + 10), (cx + (x - cx) * 0.5, rim_y + depth)],
                        fill=alpha(darken(glaze, 0.2), 110), width=4)
        cl.cyl_shade(cx - rw, cx + rw, rim_y, rim_y + depth, 0.9)
    ry = rw * 0.22
    c.ellipse((cx - rw, rim_y - ry, cx + rw, rim_y + ry), fill=lighten(glaze, 0.2))
    c.ellipse((cx - rw + 8, rim_y - ry + 5, cx + rw - 8, rim_y + ry - 4),
              fill=mix(glaze, (60, 50, 40), 0.25))
    c.chord((cx - rw + 8, rim_y - ry + 5, cx + rw - 8, rim_y + ry - 4), 0, 180,
            fill=mix(glaze, (255, 255, 255), 0.1))


def teapot(c, rng, variant, cx, by, w, glaze, paint, style):
    h = w * 0.75
    c.shadow(cx + 20, by, w * 0.75, 28)
    # spout and handle
    c.poly([(cx - w * 0.35, by - h * 0.45), (cx - w * 0.8, by - h * 0.95), (cx - w * 0.72, by - h),
            (cx - w * 0.3, by - h * 0.7)], fill=darken(glaze, 0.08))
    c.arc((cx + w * 0.25, by - h * 0.9, cx + w * 0.75, by - h * 0.25), -100, 100,
          darken(glaze, 0.1), w * 0.07)
    box = (cx - w / 2, by - h, cx + w / 2, by)
    with c.clip(box) as cl:
        cl.mask_ellipse(box)
        cl.rect((0, 0, 1000, 1000), fill=glaze)
        if style == "crackle":
            crackle(cl, rng, box[0], box[1], box[2], box[3], paint, 40)
        elif style in ("blue_white", "brown"):
            motif_band(cl, rng, style, paint, box[0], box[2], by - h * 0.7, by - h * 0.3, variant)
        cl.cyl_shade(box[0], box[2], box[1], box[3], 1.0)
    c.ellipse((cx - w * 0.22, by - h - 18, cx + w * 0.22, by - h + 22), fill=lighten(glaze, 0.1),
              outline=darken(glaze, 0.25), width=3)
    c.circle(cx, by - h - 22, w * 0.06, fill=darken(glaze, 0.15))


def bowl(c, rng, variant):
    style, glaze, paint = GLAZES[(variant + 1) % len(GLAZES)]
    if variant % 2 == 0:
        _bowl(c, rng, variant, 500, 520, 300, 260, glaze, paint, style)
    else:
        teapot(c, rng, variant, 500, 700, 320, glaze, paint, style)
        for x in (260, 740):
            _bowl(c, rng, variant, x, 760, 95, 85, glaze, paint, style)
        c.ellipse((380, 790, 620, 850), fill=darken(glaze, 0.1))
        _bowl(c, rng, variant, 500, 790, 80, 70, glaze, paint, style, shadow=False)


def plate(c, rng, variant):
    style, glaze, paint = GLAZES[(variant + 4) % len(GLAZES)]
    if style == "crackle":
        style, paint = "blue_white", (38, 66, 140)
    cx, cy, r = 500, 460, 300
    wood = (110, 70, 40)
    c.shadow(cx + 20, 820, 260, 30)
    c.poly([(cx - 180, 820), (cx + 180, 820), (cx + 150, 770), (cx - 150, 770)], fill=wood)
    c.line([(cx - 60, 780), (cx - 120, 600)], fill=darken(wood, 0.2), width=16)
    c.line([(cx + 60, 780), (cx + 120, 600)], fill=darken(wood, 0.2), width=16)
    c.circle(cx + 8, cy + 10, r, fill=(60, 45, 30, 60))
    c.circle(cx, cy, r, fill=glaze, outline=darken(glaze, 0.25), width=3)
    c.circle(cx, cy, r * 0.66, fill=lighten(glaze, 0.08), outline=alpha(paint, 200), width=5)
    c.circle(cx, cy, r * 0.94, outline=paint, width=4)
    c.circle(cx, cy, r * 0.72, outline=paint, width=3)
    n = 16
    for i in range(n):  # border pattern
        a = 2 * math.pi * i / n
        px, py = cx + r * 0.83 * math.cos(a), cy + r * 0.83 * math.sin(a)
        if variant % 2:
            flower(c, px, py, 26, paint, glaze, 5, a)
        else:
            leaf(c, px, py, 55, a + math.pi / 2 - 0.5, paint)
    kind = variant % 4
    if kind == 0:  # lotus
        for i in range(7):
            a = math.pi + math.pi * (i + 0.5) / 7
            leaf(c, cx, cy + 60, 150, a, alpha(paint, 230), lighten(paint, 0.5))
        c.ellipse((cx - 110, cy + 40, cx + 110, cy + 90), fill=paint)
    elif kind == 1:  # fish
        for fx, fy, s in [(cx - 40, cy - 40, 1), (cx + 40, cy + 60, -1)]:
            c.ellipse((fx - 80, fy - 35, fx + 80, fy + 35), fill=paint)
            c.poly([(fx + 70 * s, fy), (fx + 130 * s, fy - 40), (fx + 130 * s, fy + 40)], fill=paint)
            c.circle(fx - 50 * s, fy - 8, 8, fill=glaze)
    elif kind == 2:  # big flower
        flower(c, cx, cy, 150, alpha(paint, 230), lighten(paint, 0.6), 8)
        flower(c, cx, cy, 70, lighten(paint, 0.3), paint, 6, 0.3)
    else:  # landscape
        c.poly([(cx - 180, cy + 80), (cx - 80, cy - 100), (cx, cy + 80)], fill=paint)
        c.poly([(cx - 40, cy + 80), (cx + 70, cy - 50), (cx + 190, cy + 80)],
               fill=lighten(paint, 0.35))
        c.line(wave(cx - 190, cx + 190, cy + 110, 8, 4), fill=paint, width=4)
        c.circle(cx + 110, cy - 110, 30, outline=paint, width=5)
    c.chord((cx - r, cy - r, cx + r, cy + r), 200, 290, fill=(255, 255, 255, 45))
