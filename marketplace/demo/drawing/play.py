"""Toys, food gifts and paper fans."""
from __future__ import annotations

import math

from .base import alpha, darken, flower, leaf, lighten, wave

BRIGHT = [(220, 50, 50), (40, 110, 200), (240, 180, 30), (40, 160, 90),
          (200, 60, 160), (240, 110, 40), (30, 150, 170), (150, 80, 200)]


def toy(c, rng, variant):
    col = BRIGHT[variant % len(BRIGHT)]
    col2 = BRIGHT[(variant + 3) % len(BRIGHT)]
    bamboo = (200, 170, 100)
    if variant % 2 == 0:  # bamboo dragonfly balanced on a stick
        c.shadow(500, 830, 200, 30)
        c.ellipse((380, 800, 620, 850), fill=darken(bamboo, 0.3))
        c.line([(500, 820), (500, 470)], fill=darken(bamboo, 0.15), width=14)
        tip = (500, 460)
        # wings, drooping forward
        for s in (-1, 1):
            w = [(500, 430), (500 + s * 150, 480), (500 + s * 380, 560), (500 + s * 400, 590),
                 (500 + s * 360, 600), (500 + s * 150, 520), (500, 455)]
            c.poly(w, fill=bamboo, outline=darken(bamboo, 0.35), width=3)
            for k in range(3):
                t = 0.35 + k * 0.2
                c.line([(500 + s * 380 * t, 470 + 110 * t), (500 + s * 380 * t, 505 + 110 * t)],
                       fill=col if k != 1 else col2, width=14)
        # body (tail hangs down-back, head in front)
        c.line([(500, 440), (500, 200)], fill=darken(bamboo, 0.1), width=18)
        for k in range(6):
            c.line([(490, 230 + k * 35), (510, 230 + k * 35)], fill=col, width=6)
        c.ellipse((470, 410, 530, 480), fill=col)
        for s in (-1, 1):
            c.circle(500 + s * 20, 470, 14, fill=(30, 30, 30))
            c.circle(500 + s * 16, 466, 4, fill=(255, 255, 255))
        c.circle(*tip, 5, fill=(60, 40, 20))
    else:  # diamond kite with ribbon tail
        c.shadow(560, 830, 160, 25, 0.2)
        top, right, bot, left = (440, 120), (680, 330), (440, 660), (200, 330)
        c.poly([top, right, (440, 330)], fill=col)
        c.poly([right, bot, (440, 330)], fill=darken(col, 0.15))
        c.poly([bot, left, (440, 330)], fill=col2)
        c.poly([left, top, (440, 330)], fill=lighten(col2, 0.15))
        c.line([top, bot], fill=(150, 120, 70), width=8)
        c.line([left, right], fill=(150, 120, 70), width=8)
        c.circle(440, 330, 55, fill=(250, 230, 120), outline=(200, 150, 50), width=4)
        c.line(wave(440, 900, 660, 40, 1.2, 30), fill=(120, 100, 80), width=3)
        tail = [(440 + 18 * i, 660 + 60 * i + 25 * math.sin(i)) for i in range(8)]
        c.line(tail, fill=(120, 100, 80), width=3)
        for i, (x, y) in enumerate(tail[1:]):
            colr = col if i % 2 else col2
            c.poly([(x - 25, y - 12), (x, y), (x - 25, y + 12)], fill=colr)
            c.poly([(x + 25, y - 12), (x, y), (x + 25, y + 12)], fill=colr)


def food(c, rng, variant):
    kind = variant % 3
    twine = (215, 195, 150)
    leafc = [(60, 130, 60), (40, 110, 60), (80, 140, 50)][variant % 3]
    if kind == 0:  # bánh chưng: square leaf parcel with bamboo ties
        c.shadow(510, 820, 300, 45)
        c.poly([(220, 620), (640, 620), (640, 800), (220, 800)], fill=darken(leafc, 0.3))
        c.poly([(640, 620), (780, 520), (780, 700), (640, 800)], fill=darken(leafc, 0.4))
        c.poly([(220, 620), (640, 620), (780, 520), (360, 520)], fill=leafc)
        for i in range(6):
            c.line([(240 + i * 70, 620), (380 + i * 70, 520)], fill=alpha(darken(leafc, 0.2), 120), width=3)
        for t in (0.33, 0.66):
            x0 = 220 + 420 * t
            c.line([(x0, 800), (x0, 620), (x0 + 140, 520)], fill=twine, width=9)
            y = 620 - 100 * t
            c.line([(220 + 140 * t, y), (640 + 140 * t, y), (640 + 140 * t, y + 180)], fill=twine, width=9)
        c.rect((350, 560, 560, 590), fill=alpha((200, 40, 40), 210))
    elif kind == 1:  # kraft-paper package with twine and a leaf
        paper = (196, 160, 112)
        c.shadow(510, 820, 320, 45)
        c.rect((230, 560, 700, 810), fill=darken(paper, 0.12))
        c.poly([(700, 560), (800, 480), (800, 730), (700, 810)], fill=darken(paper, 0.25))
        c.poly([(230, 560), (700, 560), (800, 480), (330, 480)], fill=paper)
        for x in (465,):
            c.line([(x, 810), (x, 560), (x + 50, 520), (580, 520), (565, 480)], fill=twine, width=7)
        c.line([(280, 520), (750, 520), (800, 560)], fill=twine, width=7)
        c.line([(750, 520), (750, 770)], fill=twine, width=7)
        c.line([(230, 690), (700, 690), (800, 610)], fill=twine, width=7)
        for a in (-0.6, 0.5):
            c.ellipse((515 + 60 * math.cos(a) - 40, 520 + 30 * math.sin(a) - 22,
                       515 + 60 * math.cos(a) + 40, 520 + 30 * math.sin(a) + 22), outline=twine, width=7)
        leaf(c, 530, 510, 200, -0.35, leafc, lighten(leafc, 0.35))
        c.rect((290, 600, 440, 660), fill=(245, 238, 220), outline=(150, 40, 40), width=3)
        c.line([(310, 630), (420, 630)], fill=(150, 40, 40), width=5)
    else:  # plate of sweets
        sweet = [(120, 170, 80), (230, 200, 120), (240, 150, 160)]
        c.shadow(510, 800, 380, 50)
        c.ellipse((130, 610, 870, 830), fill=(220, 222, 225))
        c.ellipse((120, 590, 880, 810), fill=(246, 246, 244), outline=(190, 195, 200), width=3)
        c.ellipse((200, 620, 800, 780), outline=(40, 70, 140), width=5)
        for row in range(2):
            for i in range(4 - row):
                x = 300 + i * 130 + row * 65
                y = 650 - row * 60
                col = sweet[(i + row + variant) % 3]
                c.rect((x - 55, y - 25, x + 55, y + 45), fill=darken(col, 0.15), radius=10)
                c.rect((x - 55, y - 45, x + 55, y + 15), fill=col, radius=10)
                flower(c, x, y - 15, 20, lighten(col, 0.4), darken(col, 0.2), 5)
        leaf(c, 650, 720, 170, -0.2, leafc)


def fan(c, rng, variant):
    paper = [(246, 236, 214), (200, 40, 50), (240, 220, 180), (30, 60, 110),
             (236, 230, 220), (120, 30, 40), (250, 240, 225), (40, 90, 80)][variant]
    ink = (40, 30, 30) if sum(paper) > 450 else (235, 200, 110)
    bamboo = (170, 120, 60)
    cx, cy, R, r = 500, 760, 430, 170
    c.shadow(cx + 20, 830, 250, 25)
    a0, a1, n = 195, 345, 22
    for i in range(n + 1):  # sticks
        a = math.radians(a0 + (a1 - a0) * i / n)
        c.line([(cx, cy), (cx + (R - 10) * math.cos(a), cy + (R - 10) * math.sin(a))], fill=bamboo, width=9)
    with c.clip((cx - R, cy - R, cx + R, cy)) as cl:
        cl.mask_ellipse((cx - R, cy - R, cx + R, cy + R))
        cl.md.ellipse(cl.b(cx - r, cy - r, cx + r, cy + r), fill=0)
        cl.rect((0, 0, 1000, 1000), fill=paper)
        if variant % 2 == 0:  # ink branch with blossoms
            cl.line([(cx - 330, cy - 200), (cx - 150, cy - 300), (cx + 60, cy - 330), (cx + 250, cy - 250)],
                    fill=ink, width=10)
            cl.line([(cx - 60, cy - 320), (cx - 10, cy - 390)], fill=ink, width=6)
            for k in range(9):
                fx, fy = cx - 300 + k * 65 + rng.uniform(-15, 15), cy - 280 - rng.uniform(-50, 70)
                flower(cl, fx, fy, 30, (225, 90, 110), (250, 210, 80), 5, k)
        else:  # mountains, sun and a poem column
            cl.circle(cx + 170, cy - 320, 45, fill=(220, 70, 50))
            cl.poly([(cx - 350, cy - 160), (cx - 200, cy - 330), (cx - 60, cy - 160)], fill=alpha(ink, 150))
            cl.poly([(cx - 150, cy - 160), (cx + 20, cy - 280), (cx + 200, cy - 160)], fill=alpha(ink, 110))
            for k in range(5):
                cl.rect((cx + 250, cy - 340 + k * 32, cx + 275, cy - 320 + k * 32), fill=alpha(ink, 180))
        for i in range(n):  # pleats
            a = math.radians(a0 + (a1 - a0) * (i + 0.5) / n)
            if i % 2:
                cl.pieslice((cx - R, cy - R, cx + R, cy + R), math.degrees(a) - 3.4, math.degrees(a) + 3.4,
                            fill=(0, 0, 0, 28))
    c.arc((cx - R, cy - R, cx + R, cy + R), a0, a1, darken(paper, 0.3), 4)
    c.arc((cx - r, cy - r, cx + r, cy + r), a0, a1, darken(bamboo, 0.3), 4)
    for a in (a0, a1):  # guard sticks
        ar = math.radians(a)
        c.line([(cx, cy), (cx + R * math.cos(ar), cy + R * math.sin(ar))], fill=darken(bamboo, 0.25), width=16)
    c.circle(cx, cy, 18, fill=(200, 170, 80), outline=darken(bamboo, 0.4), width=3)
    c.line([(cx, cy + 15), (cx - 10, cy + 80)], fill=(200, 40, 40), width=5)
    c.circle(cx - 12, cy + 90, 10, fill=(200, 40, 40))
