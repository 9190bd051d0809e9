"""Village crafts: nón lá, rattan basket, lacquer ware, wood carving, paper fan."""
from __future__ import annotations

import math

from .base import alpha, darken, flower, leaf, lighten, mix, wave

GOLD = (214, 176, 84)
LACQUER = [(150, 24, 24), (24, 20, 20), (120, 20, 30), (40, 28, 24),
           (170, 40, 30), (20, 20, 30), (110, 30, 20), (35, 25, 30)]


def conical_hat(c, rng, variant):
    straw = [(232, 214, 168), (240, 228, 196), (222, 200, 150), (236, 222, 180)][variant % 4]
    ribbon = [(200, 40, 60), (40, 90, 170), (230, 160, 40), (60, 140, 90),
              (150, 60, 150), (220, 90, 120), (30, 120, 140), (190, 70, 40)][variant]
    cx, apex_y, by, rx, ry = 500, 250, 700, 360, 80
    c.shadow(cx + 40, by + 90, rx, 60)
    # chin strap hanging below the brim
    c.line([(cx - 160, by + 50), (cx - 30, by + 170), (cx + 60, by + 165), (cx + 170, by + 45)],
           fill=ribbon, width=14)
    front = [(cx + rx * math.cos(t), by + ry * math.sin(t))
             for t in (i * math.pi / 40 for i in range(41))]
    cone = [(cx, apex_y)] + [(cx + rx, by)] + front + [(cx - rx, by)]
    with c.clip((cx - rx - 5, apex_y - 5, cx + rx + 5, by + ry + 5)) as cl:
        cl.mask_poly(cone)
        cl.rect((0, 0, 1000, 1000), fill=straw)
        # radial leaf seams
        for i in range(1, 24):
            t = math.pi * i / 24
            px, py = cx - rx * math.cos(t), by + ry * math.sin(t)
            cl.line([(cx, apex_y), (px, py)], fill=alpha(darken(straw, 0.2), 80), width=2.5)
        # ring frames (concentric hoops) showing through
        for k in range(1, 11):
            f = k / 11
            y = apex_y + (by - apex_y) * f
            r, rr = rx * f, ry * f
            cl.arc((cx - r, y - rr, cx + r, y + rr), 0, 180, alpha(darken(straw, 0.25), 110), 3)
        if variant % 3 == 1:  # painted flower motif
            flower(cl, cx - 60, by - 120, 50, alpha(ribbon, 200), (250, 220, 100), 5)
            leaf(cl, cx - 20, by - 100, 70, 0.3, alpha((70, 130, 70), 200))
        cl.cyl_shade(cx - rx, cx + rx, apex_y, by + ry, 0.9, light=0.38)
    c.arc((cx - rx, by - ry, cx + rx, by + ry), 0, 180, darken(straw, 0.3), 5)
    c.line([(cx, apex_y), (cx, apex_y - 12)], fill=darken(straw, 0.4), width=6)


def basket(c, rng, variant):
    cane = [(196, 150, 90), (170, 120, 70), (210, 175, 115), (150, 100, 55)][variant % 4]
    accent = [None, (150, 40, 40), None, (60, 100, 60), (40, 40, 40), None, (160, 90, 40), None][variant]
    cx, ty, by = 500, 420, 800
    rt, rb, ryt = 300 - (variant % 3) * 25, 220, 70
    c.shadow(cx + 30, by + 10, rb * 1.3, 40)
    if variant % 2 == 0:  # handle behind
        c.arc((cx - rt * 0.85, 150, cx + rt * 0.85, ty + 200), 180, 360, darken(cane, 0.15), 26)
    c.ellipse((cx - rt, ty - ryt, cx + rt, ty + ryt), fill=darken(cane, 0.45))
    n_rows = 15
    with c.clip((cx - rt - 5, ty - 5, cx + rt + 5, by + rb * 0.3 + 5)) as cl:
        body = [(cx - rt, ty)] + [(cx + rb * math.cos(math.pi - t), by + ryt * 0.8 * math.sin(math.pi - t))
                                  for t in (i * math.pi / 30 for i in range(31))] + [(cx + rt, ty)]
        body += [(cx + rt * math.cos(t), ty + ryt * math.sin(t)) for t in
                 (i * math.pi / 30 for i in range(31))]
        cl.mask_poly(body)
        cl.rect((0, 0, 1000, 1000), fill=darken(cane, 0.35))
        for row in range(n_rows + 2):
            v0, v1 = row / n_rows, (row + 0.85) / n_rows
            col = accent if accent and row in (4, 5, 10) else cane
            col = mix(col, (255, 230, 190), 0.12 * (row % 2))
            segs = 14
            off = 0.5 * (row % 2)
            for s in range(-1, segs + 1):
                a0 = math.pi * (s + off) / segs
                a1 = math.pi * (s + off + 0.82) / segs
                pts = []
                for a, v in ((a0, v0), (a1, v0), (a1, v1), (a0, v1)):
                    a = min(max(a, 0), math.pi)
                    r = rt + (rb - rt) * v
                    pts.append((cx - r * math.cos(a), ty + (by - ty) * v + ryt * (1 - 0.2 * v) * math.sin(a)))
                cl.poly(pts, fill=col, outline=alpha(darken(cane, 0.4), 120), width=1.5)
        cl.cyl_shade(cx - rt, cx + rt, ty, by + ryt, 1.0)
    # braided rim
    c.ellipse((cx - rt - 8, ty - ryt - 10, cx + rt + 8, ty + ryt + 10), outline=darken(cane, 0.1),
              width=22)
    for i in range(48):
        t = 2 * math.pi * i / 48
        x, y = cx + (rt + 2) * math.cos(t), ty + (ryt + 2) * math.sin(t)
        c.line([(x - 8, y - 6), (x + 8, y + 6)], fill=alpha(darken(cane, 0.35), 150), width=3)
    if variant % 2 == 0:  # handle front part
        c.line([(cx - rt * 0.85, ty + 10), (cx - rt * 0.85, ty + 40)], fill=darken(cane, 0.2), width=20)


def _motif(c, x, y, s, kind, col):
    if kind == 0:
        flower(c, x, y, 60 * s, col, darken(col, 0.4), 6)
        for a in (0.4, 2.2, 4.0):
            leaf(c, x, y, 90 * s, a, alpha(col, 200))
    elif kind == 1:  # crane
        c.ellipse((x - 50 * s, y - 18 * s, x + 40 * s, y + 18 * s), fill=col)
        c.line([(x + 35 * s, y - 5 * s), (x + 70 * s, y - 60 * s), (x + 95 * s, y - 55 * s)],
               fill=col, width=7 * s)
        c.poly([(x - 10 * s, y - 5 * s), (x - 90 * s, y - 80 * s), (x - 40 * s, y - 10 * s)], fill=col)
        c.line([(x - 5 * s, y + 15 * s), (x - 15 * s, y + 70 * s)], fill=col, width=4 * s)
    else:  # lotus
        for i in range(5):
            a = math.pi + math.pi * (i + 0.5) / 5
            leaf(c, x, y + 20 * s, 80 * s, a, col)
        c.line(wave(x - 90 * s, x + 90 * s, y + 35 * s, 5 * s, 2), fill=col, width=4 * s)


def lacquer_box(c, rng, variant):
    body = LACQUER[variant % len(LACQUER)]
    gold = GOLD if variant % 3 else (200, 190, 160)
    x0, y0, x1, y1, dx, dy = 230, 530, 680, 800, 150, -120
    c.shadow((x0 + x1 + dx) / 2, y1 - 20, 330, 50)
    top = [(x0, y0), (x1, y0), (x1 + dx, y0 + dy), (x0 + dx, y0 + dy)]
    side = [(x1, y0), (x1 + dx, y0 + dy), (x1 + dx, y1 + dy), (x1, y1)]
    c.rect((x0, y0, x1, y1), fill=body)
    c.poly(side, fill=darken(body, 0.35))
    c.poly(top, fill=lighten(body, 0.08))
    lid = y0 + 70
    c.line([(x0, lid), (x1, lid), (x1 + dx, lid + dy)], fill=darken(body, 0.6), width=4)
    c.rect((x0 + 25, lid + 25, x1 - 25, y1 - 25), outline=gold, width=4)
    c.rect((x0 + 10, y0 + 12, x1 - 10, lid - 12), outline=alpha(gold, 200), width=3)
    for i in range(6):  # front wave pattern
        c.line(wave(x0 + 40, x1 - 40, lid + 70 + i * 28, 8, 4, 40, i), fill=alpha(gold, 160), width=3)
    cxm, cym = (x0 + x1 + dx) / 2, y0 + dy / 2
    with c.clip((x0, y0 + dy, x1 + dx, y0)) as cl:
        cl.mask_poly(top)
        inner = [(x0 + 50, y0 - 12), (x1 - 20, y0 - 12), (x1 + dx - 50, y0 + dy + 12),
                 (x0 + dx + 20, y0 + dy + 12)]
        cl.poly(inner, outline=gold, width=4)
        _motif(cl, cxm, cym, 0.9, variant % 3, gold)
        cl.line([(x0 + 40, y0 - 5), (x0 + dx + 40, y0 + dy + 5)], fill=(255, 255, 255, 40), width=30)
    c.line([(x0, y0), (x1, y0)], fill=alpha(lighten(body, 0.4), 150), width=4)
    c.line([(x1, y0), (x1 + dx, y0 + dy)], fill=alpha(lighten(body, 0.3), 120), width=3)
