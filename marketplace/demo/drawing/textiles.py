"""Textiles: silk, áo dài, embroidery hoop, leather shoes, woven sedge mat."""
from __future__ import annotations

import math

from .base import alpha, darken, flower, leaf, lighten, mix, wave

SILKS = [(178, 34, 52), (26, 92, 140), (212, 160, 40), (120, 40, 110),
         (30, 120, 100), (230, 120, 140), (60, 60, 140), (200, 90, 40)]
SILK_EXTRA = [(238, 228, 204), (226, 210, 182)]  # ivory, beige: silk variants 8 and 9 (demo/looks.py)


def quad(q, u, v):
    """Bilinear point in quad q=(tl, tr, br, bl) for u,v in 0..1."""
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = q
    tx, ty = ax + (bx - ax) * u, ay + (by - ay) * u
    sx, sy = dx + (cx - dx) * u, dy + (cy - dy) * u
    return (tx + (sx - tx) * v, ty + (sy - ty) * v)


def silk(c, rng, variant):
    base = SILK_EXTRA[variant - len(SILKS)] if len(SILKS) <= variant < len(SILKS) + len(SILK_EXTRA) \
        else SILKS[variant % len(SILKS)]
    cols = [SILKS[(variant + 3) % 8], SILKS[(variant + 5) % 8], base]
    c.shadow(520, 800, 330, 45)
    y = 800
    for i, col in enumerate(cols):
        x0, x1 = 190 + i * 18 - i * i * 6, 810 - i * 14
        top = y - 110
        qd = ((x0 + 60, top), (x1 - 40, top), (x1, y - 40), (x0, y - 40))
        c.rect((x0, y - 40, x1, y), fill=darken(col, 0.25))  # folded edge
        c.line([(x0 + 6, y - 20), (x1 - 6, y - 20)], fill=alpha(lighten(col, 0.3), 120), width=3)
        bb = (x0, top, x1, y - 40)
        with c.clip(bb) as cl:
            cl.mask_poly(qd)
            cl.rect((0, 0, 1000, 1000), fill=col)
            n = 26
            for j in range(n):  # woven diagonal twill
                u = j / n
                cl.line([quad(qd, u, 0), quad(qd, u + 0.08, 1)], fill=alpha(darken(col, 0.2), 70),
                        width=3)
            if i == 2:  # top swatch: brocade motif
                for a in range(5):
                    for b in range(2):
                        px, py = quad(qd, 0.1 + a * 0.2, 0.28 + b * 0.45)
                        if variant % 2:
                            flower(cl, px, py, 26, alpha(lighten(col, 0.55), 220),
                                   (230, 190, 90), 5)
                        else:
                            cl.poly([(px, py - 22), (px + 32, py), (px, py + 22), (px - 32, py)],
                                    outline=(235, 200, 110), width=3)
                            cl.circle(px, py, 7, fill=(235, 200, 110))
            cl.line([quad(qd, 0, 0.2), quad(qd, 1, 0.2)], fill=(255, 255, 255, 60), width=14)
        y -= 150 - i * 10
    # a loose scarf tail flowing off the top
    col = base
    pts = wave(300, 900, 430, 22, 1.3, 40)
    lower = [(x + 30, yy + 60) for x, yy in reversed(wave(300, 900, 430, 22, 1.3, 40, 0.9))]
    c.poly(pts + lower, fill=lighten(col, 0.12))
    for k in range(5):
        c.line(wave(300, 900, 440 + k * 11, 20, 1.3, 40, 0.2 * k),
               fill=alpha(darken(col, 0.25), 90), width=3)
    for k in range(9):  # fringe
        c.line([(900 + k * 3, 440 + k * 6), (930 + k * 3, 470 + k * 6)], fill=darken(col, 0.1),
               width=3)


def ao_dai(c, rng, variant):
    col = SILKS[(variant * 3) % 8]
    motif = SILKS[(variant * 3 + 2) % 8]
    cx = 500
    c.shadow(cx + 40, 930, 160, 22, 0.25)
    wood = (140, 95, 55)
    c.arc((cx - 30, 70, cx + 30, 140), 180, 90, (150, 150, 160), 9)
    c.line([(cx, 140), (cx, 165)], fill=(150, 150, 160), width=9)
    c.line([(cx - 190, 220), (cx, 160), (cx + 190, 220)], fill=wood, width=20)
    dark = darken(col, 0.25)
    # sleeves
    for s in (-1, 1):
        c.poly([(cx + s * 120, 190), (cx + s * 175, 235), (cx + s * 205, 640),
                (cx + s * 150, 650), (cx + s * 105, 290)], fill=dark)
    # back panel peeking
    c.poly([(cx - 95, 430), (cx + 95, 430), (cx + 150, 930), (cx - 150, 930)], fill=darken(col, 0.35))
    body = [(cx - 40, 170), (cx + 40, 170), (cx + 125, 195), (cx + 118, 300), (cx + 82, 405),
            (cx + 95, 450), (cx + 140, 920), (cx - 140, 920), (cx - 95, 450), (cx - 82, 405),
            (cx - 118, 300), (cx - 125, 195)]
    with c.clip((cx - 150, 160, cx + 150, 930)) as cl:
        cl.mask_poly(body)
        cl.rect((0, 0, 1000, 1000), fill=col)
        # motif: flowers on branches on the lower panel
        for k in range(6):
            fx = cx - 90 + rng.uniform(0, 180)
            fy = 560 + k * 60 + rng.uniform(-20, 20)
            leaf(cl, fx, fy, 60, rng.uniform(0, 6.28), alpha(darken(motif, 0.1), 200))
            flower(cl, fx, fy, 34, lighten(motif, 0.35), (240, 210, 90), 5, k)
        cl.line(wave(cx - 150, cx + 150, 880, 10, 2), fill=lighten(motif, 0.3), width=8)
        cl.cyl_shade(cx - 130, cx + 130, 160, 930, 0.8)
        # slit shadow at the waist
        cl.rect((cx - 150, 445, cx + 150, 455), fill=(0, 0, 0, 40))
    # collar, raglan seam and buttons
    c.rect((cx - 42, 150, cx + 42, 185), fill=darken(col, 0.1), outline=dark, width=3, radius=8)
    c.line([(cx + 38, 185), (cx + 60, 210), (cx + 112, 300)], fill=alpha(darken(col, 0.4), 160),
           width=4)
    for t in (0.2, 0.5, 0.8):
        c.circle(cx + 38 + 74 * t, 185 + 115 * t, 6, fill=(240, 220, 150))
    c.line([(cx - 95, 450), (cx + 95, 450)], fill=alpha(darken(col, 0.4), 90), width=3)


def embroidery(c, rng, variant):
    fabric = [(244, 238, 224), (232, 242, 238), (30, 40, 60), (246, 230, 230)][variant % 4]
    thread = SILKS[(variant * 5 + 1) % 8]
    cx, cy, r = 500, 450, 290
    wood = (200, 160, 110)
    c.shadow(cx + 30, 820, 300, 40)
    # fabric draping below the hoop
    c.poly([(cx - 260, cy + 150), (cx + 260, cy + 150), (cx + 330, 820), (cx - 310, 830)],
           fill=darken(fabric, 0.08))
    c.line([(cx - 120, cy + 300), (cx - 100, 820)], fill=alpha(darken(fabric, 0.2), 120), width=6)
    c.line([(cx + 140, cy + 300), (cx + 170, 820)], fill=alpha(darken(fabric, 0.2), 120), width=6)
    c.circle(cx, cy, r + 22, fill=wood, outline=darken(wood, 0.3), width=3)
    c.circle(cx, cy, r, fill=fabric)
    c.circle(cx, cy, r - 8, outline=alpha(darken(fabric, 0.15), 120), width=8)
    leafc = (60, 120, 70) if variant % 4 != 2 else (110, 180, 120)
    # stems and stitched leaves
    for k in range(3):
        sx = cx - 80 + k * 80
        c.line([(cx, cy + 180), (sx + rng.uniform(-20, 20), cy - 40 - k * 20)], fill=leafc, width=6)
    for _ in range(6):
        a = rng.uniform(-2.8, -0.3)
        x, y = cx + rng.uniform(-90, 90), cy + rng.uniform(20, 150)
        leaf(c, x, y, 90, a, leafc, lighten(leafc, 0.4))
    # satin-stitched flowers
    for k, (fx, fy, fr) in enumerate([(cx - 90, cy - 60, 70), (cx + 70, cy - 110, 80),
                                      (cx, cy - 10, 60)]):
        petals = 5 + k
        for i in range(petals):
            a = 2 * math.pi * i / petals + k
            px, py = fx + fr * 0.5 * math.cos(a), fy + fr * 0.5 * math.sin(a)
            col = mix(thread, (255, 255, 255), 0.15 * (i % 2))
            c.circle(px, py, fr * 0.42, fill=col)
            for j in range(6):  # stitch lines
                t = (j - 2.5) / 3.0
                c.line([(fx, fy), (px + fr * 0.4 * math.cos(a + t), py + fr * 0.4 * math.sin(a + t))],
                       fill=alpha(darken(col, 0.25), 90), width=2)
        c.circle(fx, fy, fr * 0.22, fill=(240, 200, 70))
    # clasp
    c.rect((cx - 22, cy - r - 60, cx + 22, cy - r - 10), fill=darken(wood, 0.1),
           outline=darken(wood, 0.4), width=3)
    c.circle(cx, cy - r - 72, 18, fill=(180, 180, 190), outline=(110, 110, 120), width=3)
    # needle and thread
    c.line([(cx + r - 40, cy + 40), (cx + r + 140, cy + 210)], fill=(200, 200, 210), width=5)
    c.line([(cx + r - 40, cy + 40), (cx + r + 40, cy + 250), (cx + r + 160, 790)], fill=thread,
           width=3)


LEATHER = [(110, 62, 32), (40, 30, 28), (160, 100, 55), (100, 30, 35),
           (130, 85, 50), (70, 45, 30), (185, 130, 80), (55, 55, 65)]


def _shoe(c, x, y, s, col, laces):
    """Side view of a leather oxford; (x, y) is the heel on the ground."""
    def P(px, py):
        return (x + px * s, y + py * s)

    def L(points):
        return [P(px, py) for px, py in points]

    dark, light = darken(col, 0.45), lighten(col, 0.35)
    c.poly(L([(-5, -30), (470, -30), (515, -45), (525, -25), (505, -8), (420, -4), (110, -4),
              (100, 0), (0, 0), (-5, -10)]), fill=(30, 22, 18))  # sole + heel
    c.rect((P(0, -34)[0], P(0, -34)[1], P(105, 0)[0], P(105, 0)[1]), fill=(45, 32, 24))
    upper = [(-2, -30), (-14, -80), (-10, -135), (4, -170), (40, -176), (95, -168),
             (150, -160), (200, -178), (215, -172), (270, -145), (340, -118), (420, -96),
             (480, -80), (515, -60), (522, -42), (505, -30)]
    c.poly(L(upper), fill=col)
    c.poly(L([(12, -166), (60, -172), (120, -162), (170, -158), (140, -146), (60, -150)]),
           fill=(28, 20, 16))  # opening
    c.line(L([(150, -150), (190, -110), (205, -40)]), fill=dark, width=4 * s)  # quarter seam
    c.line(L([(405, -98), (430, -65), (440, -32)]), fill=dark, width=4 * s)  # toe cap
    for k in range(5):  # brogue punching
        c.circle(*P(415 + k * 3.5, -88 + k * 12), 2.5 * s, fill=dark)
    c.line(L([(0, -40), (500, -40)]), fill=alpha(light, 150), width=2.5 * s)  # welt stitches
    c.line(L([(20, -150), (60, -158), (140, -148)]), fill=alpha(light, 90), width=5 * s)
    c.line(L([(260, -135), (360, -105), (470, -80)]), fill=alpha(light, 120), width=8 * s)
    if laces:
        for k in range(4):
            p0, p1 = P(200 + k * 24, -168 + k * 10), P(232 + k * 24, -150 + k * 10)
            c.line([p0, p1], fill=(235, 225, 205), width=5 * s)
            c.circle(*p0, 4 * s, fill=dark)
    else:  # loafer strap
        c.poly(L([(210, -168), (300, -140), (295, -120), (205, -148)]), fill=dark)


def shoes(c, rng, variant):
    col = LEATHER[variant % len(LEATHER)]
    laces = variant % 3 != 2
    c.shadow(520, 845, 400, 50)
    _shoe(c, 290, 770, 1.15, darken(col, 0.18), laces)
    _shoe(c, 110, 860, 1.3, col, laces)


def mat(c, rng, variant):
    """Woven sedge mat (chiếu cói), partly rolled."""
    base = [(214, 190, 130), (200, 175, 120), (222, 200, 150), (190, 165, 110)][variant % 4]
    accent = SILKS[(variant * 3 + 1) % 8]
    accent2 = [(40, 110, 70), (30, 60, 120), (200, 150, 40), (30, 30, 30)][variant % 4]
    qd = ((230, 620), (770, 620), (930, 920), (70, 920))
    c.shadow(500, 800, 420, 120, 0.3)
    with c.clip((60, 610, 940, 930)) as cl:
        cl.mask_poly(qd)
        cl.rect((0, 0, 1000, 1000), fill=base)
        for j in range(60):  # warp strands
            cl.line([quad(qd, j / 60, 0), quad(qd, j / 60, 1)], fill=alpha(darken(base, 0.25), 80),
                    width=2)
        for j in range(40):
            col = accent if j in (3, 4, 35, 36) else accent2 if j in (6, 33) else None
            if col:
                cl.poly([quad(qd, 0, j / 40), quad(qd, 1, j / 40), quad(qd, 1, (j + 1) / 40),
                         quad(qd, 0, (j + 1) / 40)], fill=alpha(col, 220))
            cl.line([quad(qd, 0, j / 40), quad(qd, 1, j / 40)], fill=alpha(darken(base, 0.3), 60),
                    width=2)
        for a in range(4):  # diamond motifs
            u = 0.2 + a * 0.2
            pts = [quad(qd, u, 0.32), quad(qd, u + 0.07, 0.5), quad(qd, u, 0.68),
                   quad(qd, u - 0.07, 0.5)]
            cl.poly(pts, fill=alpha(accent, 220))
            cl.poly([quad(qd, u, 0.42), quad(qd, u + 0.03, 0.5), quad(qd, u, 0.58),
                     quad(qd, u - 0.03, 0.5)], fill=alpha(accent2, 230))
    # rolled end at the back
    c.rect((215, 545, 785, 635), fill=darken(base, 0.05), radius=45)
    for j in range(24):
        x = 230 + j * 23
        c.line([(x, 550), (x, 630)], fill=alpha(darken(base, 0.25), 80), width=2)
    c.rect((215, 560, 785, 572), fill=alpha(accent, 200))
    c.rect((215, 600, 785, 608), fill=alpha(accent2, 200))
    c.rect((215, 545, 785, 635), fill=None, outline=darken(base, 0.3), width=3, radius=45)
    c.rect((215, 560, 785, 580), fill=(255, 255, 255, 50))
    c.ellipse((745, 545, 825, 635), fill=darken(base, 0.12), outline=darken(base, 0.3), width=3)
    c.arc((760, 560, 810, 620), 0, 330, darken(base, 0.35), 4)
