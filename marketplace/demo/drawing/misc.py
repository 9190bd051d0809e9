"""Metal and stone: bronze drum / incense burner, forged knife, silver jewellery,
incense bundles, carved stone lion or lantern."""
from __future__ import annotations

import math

from .base import BASE_Y, alpha, darken, lighten, mix, profile_body, smooth_profile, wave

BRONZE = [(160, 110, 55), (120, 90, 50), (175, 125, 60), (95, 110, 85),
          (150, 100, 50), (110, 120, 90), (180, 130, 70), (130, 85, 45)]


def _zigzag(c, x0, x1, y, h, n, col, width=3):
    pts = [(x0 + (x1 - x0) * i / n, y + (h if i % 2 else 0)) for i in range(n + 1)]
    c.line(pts, fill=col, width=width)


def bronze(c, rng, variant):
    metal = BRONZE[variant % len(BRONZE)]
    hi, lo = lighten(metal, 0.35), darken(metal, 0.45)
    cx = 500
    if variant % 2 == 0:  # Đông Sơn drum
        prof = smooth_profile([(400, 270), (450, 285), (520, 255), (600, 215), (690, 220),
                               (770, 250), (830, 258)], 60)
        c.shadow(cx + 30, BASE_Y, 320, 45)
        with c.clip((cx - 290, 395, cx + 290, BASE_Y + 2)) as cl:
            cl.mask_poly(profile_body(cx, prof))
            cl.rect((0, 0, 1000, 1000), fill=metal)
            for y in (430, 470, 640, 700):
                cl.line([(cx - 300, y), (cx + 300, y)], fill=lo, width=4)
                _zigzag(cl, cx - 300, cx + 300, y + 8, 14, 40, lo)
            for i in range(12):
                x = cx - 280 + i * 50
                cl.circle(x, 450, 8, outline=lo, width=3)
            for i in range(6):  # vertical panels on the waist
                x = cx - 200 + i * 80
                cl.line([(x, 520), (x, 630)], fill=lo, width=4)
            cl.cyl_shade(cx - 290, cx + 290, 395, BASE_Y, 1.2)
        c.ellipse((cx - 272, 340, cx + 272, 460), fill=lighten(metal, 0.1), outline=lo, width=4)
        for r in (230, 190, 150, 105):
            c.ellipse((cx - r, 400 - r * 0.22, cx + r, 400 + r * 0.22), outline=lo, width=3)
        for i in range(12):  # central star
            a = 2 * math.pi * i / 12
            c.poly([(cx, 400), (cx + 60 * math.cos(a + 0.15), 400 + 13 * math.sin(a + 0.15)),
                    (cx + 95 * math.cos(a), 400 + 21 * math.sin(a))], fill=lo)
        for i in range(4):  # birds/frogs on the rim
            a = math.pi * (0.15 + 0.23 * i)
            x, y = cx + 245 * math.cos(a), 400 + 55 * math.sin(a)
            c.ellipse((x - 16, y - 14, x + 16, y + 6), fill=darken(metal, 0.2))
        c.arc((cx - 272, 340, cx + 272, 460), 190, 260, hi, 6)
    else:  # incense burner on three legs
        c.shadow(cx + 30, 830, 260, 35)
        for lx in (-150, 0, 150):
            c.poly([(cx + lx - 25, 700), (cx + lx + 25, 700), (cx + lx * 1.15 + 18, 820),
                    (cx + lx * 1.15 - 18, 820)], fill=darken(metal, 0.25))
        for s in (-1, 1):  # handles
            c.rect((cx + s * 160 - 25, 330, cx + s * 160 + 25, 470), outline=darken(metal, 0.1),
                   width=18, radius=12)
        box = (cx - 230, 400, cx + 230, 740)
        with c.clip(box) as cl:
            cl.mask_ellipse(box)
            cl.rect((0, 0, 1000, 1000), fill=metal)
            cl.line(wave(cx - 230, cx + 230, 560, 14, 6, 60), fill=lo, width=5)
            for i in range(7):
                cl.arc((cx - 210 + i * 60, 600, cx - 150 + i * 60, 660), 180, 360, lo, 4)
            cl.cyl_shade(box[0], box[2], box[1], box[3], 1.2)
        c.ellipse((cx - 220, 420, cx + 220, 480), fill=lighten(metal, 0.1), outline=lo, width=4)
        c.chord((cx - 170, 300, cx + 170, 500), 180, 360, fill=metal, outline=lo, width=4)
        for i in range(9):
            x = cx - 130 + i * 32
            c.line([(x, 400 - 60 * math.sin(math.pi * (i + 0.5) / 9.5)), (x, 440)], fill=lo, width=4)
        c.ellipse((cx - 40, 250, cx + 40, 330), fill=darken(metal, 0.1), outline=lo, width=3)
        c.circle(cx, 240, 18, fill=hi)
        c.arc((cx - 200, 420, cx + 200, 720), 190, 230, hi, 8)


def knife(c, rng, variant):
    board = [(200, 150, 95), (170, 120, 75), (140, 95, 60), (215, 175, 120)][variant % 4]
    handle = [(90, 55, 30), (40, 30, 25), (130, 80, 40), (60, 40, 30)][(variant // 2) % 4]
    steel, edge = (115, 118, 125), (215, 220, 228)
    c.shadow(500, 820, 400, 50)
    c.poly([(160, 560), (840, 560), (930, 820), (70, 820)], fill=board)
    c.poly([(70, 820), (930, 820), (930, 850), (70, 850)], fill=darken(board, 0.3))
    for i in range(8):
        y = 580 + i * 30
        c.line([(150 - i * 10, y), (850 + i * 10, y + rng.uniform(-4, 4))],
               fill=alpha(darken(board, 0.15), 80), width=3)
    shape = variant % 3
    if shape == 1:  # cleaver
        blade = [(300, 580), (720, 560), (735, 720), (310, 745)]
        spine = [(300, 580), (720, 560), (722, 600), (302, 620)]
    else:  # chef / slicer
        blade = [(260, 655), (700, 620), (800, 640), (860, 690), (720, 720), (265, 725)]
        spine = [(260, 655), (700, 620), (760, 630), (702, 650), (262, 680)]
    c.poly([(x + 10, y + 14) for x, y in blade], fill=(40, 30, 20, 70))
    c.poly(blade, fill=edge)
    c.poly(spine, fill=steel)
    for _ in range(26):  # hammer marks on the forged spine
        t = rng.random()
        x = spine[0][0] + (spine[1][0] - spine[0][0]) * t
        y = spine[0][1] + (spine[1][1] - spine[0][1]) * t + rng.uniform(8, 30)
        c.ellipse((x - 10, y - 5, x + 10, y + 5), fill=alpha(darken(steel, 0.3), 140))
    c.line([blade[-1], blade[-2]], fill=(245, 248, 252), width=5)
    hx, hy = blade[0][0], (blade[0][1] + blade[-1][1]) / 2
    c.rect((hx - 35, hy - 38, hx + 5, hy + 38), fill=(160, 160, 165))  # ferrule
    c.poly([(hx - 35, hy - 32), (hx - 260, hy - 22), (hx - 270, hy + 26), (hx - 35, hy + 34)], fill=handle)
    c.line([(hx - 60, hy - 22), (hx - 250, hy - 14)], fill=alpha(lighten(handle, 0.4), 120), width=6)
    for rx in (hx - 90, hx - 200):
        c.circle(rx, hy + 4, 8, fill=(200, 200, 205))


SILVER, SILVER_D, SILVER_L = (196, 200, 206), (120, 124, 132), (245, 247, 250)
GEMS = [(200, 30, 50), (30, 120, 200), (40, 150, 90), (140, 60, 170),
        (230, 170, 40), (20, 20, 30), (220, 90, 120), (60, 180, 180)]


def jewelry(c, rng, variant):
    cushion = [(120, 30, 40), (30, 50, 90), (40, 70, 55), (70, 40, 70)][variant % 4]
    gem = GEMS[variant % len(GEMS)]
    c.shadow(500, 820, 360, 50)
    c.ellipse((150, 560, 850, 850), fill=darken(cushion, 0.25))
    c.ellipse((150, 540, 850, 820), fill=cushion)
    c.ellipse((220, 570, 640, 700), fill=(255, 255, 255, 25))
    # bracelet standing on its edge
    cx, cy = 430, 560
    c.ellipse((cx - 230, cy - 190, cx + 230, cy + 190), outline=SILVER_D, width=56)
    c.ellipse((cx - 226, cy - 186, cx + 222, cy + 182), outline=SILVER, width=46)
    c.arc((cx - 214, cy - 174, cx + 214, cy + 174), 190, 280, SILVER_L, 12)
    for i in range(28):  # engraved pattern
        a = 2 * math.pi * i / 28
        x, y = cx + 204 * math.cos(a), cy + 168 * math.sin(a)
        c.circle(x, y, 7, outline=SILVER_D, width=3)
    # ring with a gem
    rx, ry = 700, 700
    c.ellipse((rx - 90, ry - 60, rx + 90, ry + 60), outline=SILVER_D, width=24)
    c.ellipse((rx - 88, ry - 58, rx + 86, ry + 56), outline=SILVER, width=16)
    c.rect((rx - 40, ry - 95, rx + 40, ry - 50), fill=SILVER_D, radius=10)
    c.poly([(rx - 34, ry - 95), (rx, ry - 130), (rx + 34, ry - 95), (rx, ry - 60)], fill=gem)
    c.poly([(rx - 34, ry - 95), (rx, ry - 130), (rx, ry - 95)], fill=lighten(gem, 0.45))
    c.circle(rx - 10, ry - 110, 6, fill=(255, 255, 255, 200))


INCENSE = [(205, 30, 40), (230, 80, 110), (200, 40, 30), (190, 20, 60),
           (215, 60, 40), (225, 110, 130), (180, 25, 35), (235, 70, 60)]


def incense(c, rng, variant):
    red = INCENSE[variant % len(INCENSE)]
    brown = [(120, 80, 50), (150, 110, 70), (90, 60, 40), (170, 130, 90)][variant % 4]
    if variant % 2 == 0:
        bundles = [(500, 420, 330, 1.0)]
    else:
        bundles = [(280, 470, 200, 0.8), (720, 470, 200, 0.8), (500, 380, 240, 0.95)]
    c.shadow(500, 830, 380, 45)
    for bx, top, r, s in bundles:
        c.poly([(bx - 30 * s, top + 40), (bx + 30 * s, top + 40), (bx + 45 * s, 830), (bx - 45 * s, 830)],
               fill=brown)
        for i in range(14):
            x = bx - 40 * s + i * 6 * s
            c.line([(bx + (x - bx) * 0.7, top + 60), (x, 830)], fill=alpha(darken(brown, 0.3), 100), width=2)
        c.rect((bx - 38 * s, 700, bx + 38 * s, 716), fill=(230, 200, 120))
        n = 70
        for i in range(n):  # fanned red handles
            a = math.pi + math.pi * (i + 0.5) / n + rng.uniform(-0.01, 0.01)
            rr = r * rng.uniform(0.92, 1.0)
            col = mix(red, (255, 255, 255), rng.uniform(0, 0.15)) if i % 3 else darken(red, 0.2)
            c.line([(bx, top + 60), (bx + rr * math.cos(a), top + 60 + rr * math.sin(a))], fill=col,
                   width=3.5)
        c.rect((bx - 30 * s, top + 40, bx + 30 * s, top + 80), fill=(240, 210, 110))


def stone(c, rng, variant):
    grey = [(150, 148, 140), (120, 118, 112), (170, 165, 150), (100, 104, 100)][variant % 4]
    dark, light = darken(grey, 0.35), lighten(grey, 0.2)
    cx = 500
    c.shadow(cx + 30, 830, 260, 40)
    if variant % 2 == 0:  # lantern
        parts = [((cx - 170, 760, cx + 170, 830), grey), ((cx - 120, 720, cx + 120, 760), light),
                 ((cx - 45, 520, cx + 45, 720), grey), ((cx - 150, 480, cx + 150, 520), light),
                 ((cx - 110, 320, cx + 110, 480), grey)]
        for box, col in parts:
            c.rect(box, fill=col, outline=dark, width=3)
        c.rect((cx - 60, 350, cx + 60, 450), fill=(60, 45, 35))
        c.rect((cx - 48, 362, cx + 48, 438), fill=(250, 200, 110))
        c.poly([(cx - 230, 330), (cx + 230, 330), (cx + 120, 250), (cx - 120, 250)], fill=light, outline=dark, width=3)
        c.poly([(cx - 230, 330), (cx - 260, 300), (cx - 200, 325)], fill=light)
        c.poly([(cx + 230, 330), (cx + 260, 300), (cx + 200, 325)], fill=light)
        c.circle(cx, 225, 34, fill=grey, outline=dark, width=3)
        c.poly([(cx - 14, 200), (cx, 160), (cx + 14, 200)], fill=grey)
    else:  # seated lion
        c.rect((cx - 200, 740, cx + 200, 830), fill=grey, outline=dark, width=3)
        c.ellipse((cx - 170, 500, cx + 200, 780), fill=grey, outline=dark, width=3)
        c.rect((cx - 140, 620, cx - 70, 760), fill=light, outline=dark, width=3)
        c.rect((cx - 40, 620, cx + 30, 760), fill=light, outline=dark, width=3)
        for i in range(12):  # curly mane
            a = 2 * math.pi * i / 12
            c.circle(cx - 60 + 120 * math.cos(a), 420 + 110 * math.sin(a), 45, fill=darken(grey, 0.1),
                     outline=dark, width=3)
        c.circle(cx - 60, 420, 110, fill=grey, outline=dark, width=3)
        for s in (-1, 1):
            c.circle(cx - 60 + s * 45, 395, 20, fill=light, outline=dark, width=3)
            c.circle(cx - 60 + s * 45, 395, 7, fill=dark)
        c.ellipse((cx - 110, 450, cx - 10, 510), fill=dark)
        c.circle(cx - 60, 470, 18, fill=light)
        c.poly([(cx + 180, 620), (cx + 260, 520), (cx + 230, 640)], fill=grey, outline=dark, width=3)
        for k in range(3):
            c.circle(cx + 255 - k * 12, 520 + k * 15, 18, fill=darken(grey, 0.1), outline=dark, width=2)
    if variant % 2 == 0:
        regions = [box for box, _ in parts]
    else:
        regions = [(cx - 170, 500, cx + 200, 830), (cx - 150, 330, cx + 30, 510)]
    for _ in range(260):  # stone speckle, only on the carving
        x0, y0, x1, y1 = regions[rng.randrange(len(regions))]
        x, y = rng.uniform(x0 + 6, x1 - 6), rng.uniform(y0 + 6, y1 - 6)
        c.circle(x, y, rng.uniform(1.5, 3), fill=(40, 40, 40, 45))
