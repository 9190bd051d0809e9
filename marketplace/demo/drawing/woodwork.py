"""Lacquer paintings, carved wooden statues and furniture, đàn bầu / moon lute."""
from __future__ import annotations

import math

from .base import alpha, darken, flower, leaf, lighten, mix, wave
from .crafts import GOLD, LACQUER

WOOD = [(120, 70, 35), (90, 50, 28), (150, 95, 50), (70, 40, 25),
        (135, 80, 40), (105, 60, 30), (160, 110, 60), (80, 45, 30)]


def lacquer_painting(c, rng, variant):
    ground = LACQUER[(variant + 1) % len(LACQUER)]
    gold = GOLD
    red = (180, 40, 30) if ground[0] < 100 else (30, 20, 20)
    x0, y0, x1, y1 = 190, 140, 810, 700
    c.shadow(500, 730, 340, 30, 0.35)
    c.rect((x0 + 14, y0 + 16, x1 + 14, y1 + 16), fill=(50, 35, 20, 70))
    frame = (90, 55, 30) if variant % 2 else (40, 28, 22)
    c.rect((x0, y0, x1, y1), fill=frame)
    c.rect((x0 + 12, y0 + 12, x1 - 12, y1 - 12), outline=alpha(gold, 200), width=4)
    px0, py0, px1, py1 = x0 + 40, y0 + 40, x1 - 40, y1 - 40
    with c.clip((px0, py0, px1, py1)) as cl:
        cl.mask_rect((px0, py0, px1, py1))
        cl.rect((px0, py0, px1, py1), fill=ground)
        scene = variant % 3
        mid = (py0 + py1) / 2
        cl.circle(px1 - 110, py0 + 90, 45, fill=lighten(gold, 0.3))
        if scene in (0, 2):  # layered mountains + river + boat
            for k, col in enumerate([mix(gold, ground, 0.55), mix(red, ground, 0.2), gold]):
                base = mid + 20 + k * 50
                pts = [(px0, py1)]
                x = px0
                while x < px1:
                    pts.append((x, base - rng.uniform(30, 140) / (k + 1)))
                    x += rng.uniform(50, 110)
                pts += [(px1, base), (px1, py1)]
                cl.poly(pts, fill=col)
            cl.rect((px0, mid + 150, px1, py1), fill=ground)
            for i in range(4):
                cl.line(wave(px0, px1, mid + 170 + i * 28, 4, 6, 40, i), fill=alpha(gold, 150), width=3)
            bx = px0 + 180
            cl.chord((bx - 70, mid + 125, bx + 70, mid + 175), 0, 180, fill=lighten(gold, 0.2))
            cl.line([(bx, mid + 150), (bx + 5, mid + 70)], fill=gold, width=4)
            cl.poly([(bx + 5, mid + 75), (bx + 55, mid + 140), (bx + 5, mid + 140)], fill=red)
        if scene == 1:  # lotus pond
            for k in range(6):
                lx, ly = px0 + 60 + k * 85, py1 - 60 - rng.uniform(0, 60)
                cl.ellipse((lx - 55, ly - 16, lx + 55, ly + 16), fill=mix(gold, ground, 0.4))
            for k in range(4):
                fx = px0 + 100 + k * 120
                fy = mid - rng.uniform(-30, 60)
                cl.line([(fx, fy), (fx + rng.uniform(-20, 20), py1)], fill=gold, width=4)
                for i in range(5):
                    a = math.pi + math.pi * (i + 0.5) / 5
                    leaf(cl, fx, fy + 15, 60, a, red if i % 2 else lighten(red, 0.25))
        if scene == 2:  # bamboo and village roofs
            for k in range(3):
                bx = px0 + 40 + k * 30
                cl.line([(bx, py1), (bx + 10, py0)], fill=gold, width=8)
                for j in range(5):
                    leaf(cl, bx + 5, py0 + 60 + j * 70, 70, 0.3 + j * 0.1 + k, gold)
            for k in range(3):
                hx = px1 - 260 + k * 80
                cl.poly([(hx - 40, mid + 100), (hx, mid + 60), (hx + 40, mid + 100)], fill=red)
                cl.rect((hx - 30, mid + 100, hx + 30, mid + 130), fill=mix(gold, ground, 0.3))
        cl.rect((px0, py0, px1, py0 + 120), fill=(255, 255, 255, 14))


def wood_statue(c, rng, variant):
    wood = WOOD[variant % len(WOOD)]
    red = (170, 30, 30) if variant % 2 == 0 else darken(wood, 0.1)
    gold = GOLD
    cx = 500
    c.shadow(cx + 30, 835, 240, 40)
    # halo
    c.ellipse((cx - 150, 150, cx + 150, 450), fill=alpha(gold, 230), outline=darken(gold, 0.3), width=4)
    c.ellipse((cx - 115, 185, cx + 115, 415), fill=darken(red, 0.15))
    for i in range(16):
        a = 2 * math.pi * i / 16
        c.circle(cx + 132 * math.cos(a), 300 + 132 * math.sin(a), 10, fill=lighten(gold, 0.2))
    # lotus pedestal
    c.ellipse((cx - 230, 760, cx + 230, 840), fill=darken(wood, 0.3))
    c.rect((cx - 230, 740, cx + 230, 800), fill=darken(wood, 0.2))
    c.ellipse((cx - 230, 710, cx + 230, 770), fill=darken(wood, 0.05))
    for i in range(9):
        px = cx - 200 + i * 50
        c.poly([(px - 30, 780), (px, 700), (px + 30, 780)], fill=gold if i % 2 else darken(gold, 0.15),
               outline=darken(gold, 0.4), width=2)
    # crossed legs
    c.ellipse((cx - 210, 620, cx + 210, 740), fill=red, outline=darken(red, 0.4), width=3)
    c.arc((cx - 150, 640, cx + 160, 720), 200, 340, alpha(gold, 220), 6)
    # torso with robe
    c.poly([(cx - 110, 420), (cx + 110, 420), (cx + 160, 660), (cx - 160, 660)], fill=red)
    c.poly([(cx - 60, 420), (cx + 60, 420), (cx + 20, 560), (cx - 20, 560)], fill=wood)
    c.line([(cx - 60, 420), (cx - 20, 560), (cx - 120, 650)], fill=gold, width=8)
    c.line([(cx + 60, 420), (cx + 20, 560), (cx + 120, 650)], fill=gold, width=8)
    # hands in the lap
    c.ellipse((cx - 75, 585, cx + 75, 650), fill=lighten(wood, 0.1), outline=darken(wood, 0.3), width=2)
    # head
    c.rect((cx - 30, 380, cx + 30, 430), fill=wood)
    c.ellipse((cx - 70, 260, cx + 70, 410), fill=lighten(wood, 0.08), outline=darken(wood, 0.3), width=2)
    c.ellipse((cx - 62, 230, cx + 62, 300), fill=darken(wood, 0.45))
    c.circle(cx, 225, 30, fill=darken(wood, 0.45))
    c.circle(cx, 190, 12, fill=gold)
    for s in (-1, 1):
        c.arc((cx + s * 30 - 18, 320, cx + s * 30 + 18, 340), 0, 180, darken(wood, 0.5), 4)
        c.ellipse((cx + s * 70 - 12, 310, cx + s * 70 + 12, 390), fill=darken(wood, 0.1))
    c.circle(cx, 290, 5, fill=(190, 40, 40))
    c.arc((cx - 18, 360, cx + 18, 378), 20, 160, darken(wood, 0.5), 4)
    c.line([(cx - 200, 690), (cx - 150, 650)], fill=(255, 255, 255, 40), width=10)


def wood_furniture(c, rng, variant):
    wood = WOOD[(variant + 2) % len(WOOD)]
    inlay = (235, 228, 210)
    dark = darken(wood, 0.35)
    if variant % 2 == 0:  # small carved cabinet
        x0, y0, x1, y1 = 290, 300, 710, 760
        c.shadow(510, 840, 260, 35)
        for x in (x0 + 20, x1 - 50):
            c.rect((x, y1, x + 30, 840), fill=dark)
        c.rect((x0, y0, x1, y1), fill=wood, outline=dark, width=4)
        c.rect((x0 - 25, y0 - 35, x1 + 25, y0), fill=lighten(wood, 0.08), outline=dark, width=4)
        c.rect((x0 + 20, y0 + 20, x1 - 20, y0 + 90), fill=darken(wood, 0.1), outline=dark, width=3)
        c.circle(500, y0 + 55, 12, fill=GOLD)
        for k, (a, b) in enumerate(((x0 + 20, 498), (502, x1 - 20))):
            c.rect((a, y0 + 110, b, y1 - 20), fill=darken(wood, 0.05), outline=dark, width=3)
            c.rect((a + 25, y0 + 135, b - 25, y1 - 45), outline=alpha(dark, 200), width=3)
            mx, my = (a + b) / 2, (y0 + y1) / 2 + 60
            flower(c, mx, my, 55, inlay if variant % 4 == 0 else lighten(wood, 0.3), GOLD, 5, k)
            for ang in (0.7, 2.4, 4.0, 5.5):
                leaf(c, mx, my, 70, ang, alpha(inlay if variant % 4 == 0 else lighten(wood, 0.25), 210))
            c.circle(b - 15 if k == 0 else a + 15, (y0 + y1) / 2 + 40, 9, fill=GOLD)
        c.rect((x0, y0, x0 + 40, y1), fill=(255, 255, 255, 25))
    else:  # carved stool
        c.shadow(510, 830, 270, 40)
        for lx, ly, bx in ((330, 560, 280), (670, 560, 720), (400, 600, 380), (600, 600, 620)):
            c.poly([(lx - 18, ly), (lx + 18, ly), (bx + 16, 830), (bx - 16, 830)], fill=dark)
        c.line([(300, 760), (700, 760)], fill=dark, width=18)
        c.rect((280, 470, 720, 560), fill=wood, outline=dark, width=3)
        for i in range(7):  # carved apron cloud motifs
            x = 310 + i * 60
            c.arc((x, 490, x + 60, 545), 180, 360, darken(wood, 0.4), 5)
            c.circle(x + 30, 530, 7, fill=inlay if variant % 4 == 1 else GOLD)
        c.ellipse((250, 400, 750, 500), fill=lighten(wood, 0.1), outline=dark, width=4)
        c.ellipse((300, 415, 700, 485), outline=alpha(darken(wood, 0.2), 200), width=3)
        c.ellipse((330, 420, 520, 460), fill=(255, 255, 255, 35))


def instrument(c, rng, variant):
    wood = WOOD[variant % len(WOOD)]
    face = lighten(wood, 0.25)
    if variant % 2 == 0:  # đàn bầu: long box, rod and gourd
        c.shadow(500, 790, 420, 35)
        c.poly([(110, 700), (890, 660), (900, 740), (100, 790)], fill=darken(wood, 0.35))
        c.poly([(110, 650), (890, 610), (890, 660), (110, 700)], fill=face)
        c.line([(130, 672), (880, 632)], fill=(230, 230, 235), width=3)
        c.line([(780, 630), (730, 300), (700, 240)], fill=darken(wood, 0.4), width=14)
        c.ellipse((690, 380, 790, 470), fill=(200, 160, 70), outline=darken(wood, 0.4), width=3)
        c.ellipse((705, 330, 760, 385), fill=(210, 170, 80))
        c.line([(735, 430), (880, 632)], fill=(230, 230, 235), width=3)
        c.rect((150, 655, 220, 700), fill=darken(wood, 0.2))
        for i in range(8):
            c.circle(250 + i * 65, 690 - i * 3.3, 5, fill=GOLD)
        c.rect((110, 650, 890, 660), fill=(255, 255, 255, 40))
    else:  # đàn nguyệt: moon lute
        c.shadow(520, 830, 220, 30)
        cx, cy, r = 480, 600, 200
        c.line([(cx, cy), (cx + 260, 150)], fill=darken(wood, 0.3), width=40)
        for i in range(9):
            t = 0.3 + i * 0.07
            x, y = cx + 260 * t, cy - 450 * t
            c.line([(x - 22, y - 10), (x + 22, y + 10)], fill=(230, 220, 190), width=5)
        c.poly([(cx + 240, 160), (cx + 300, 60), (cx + 330, 80), (cx + 280, 175)], fill=darken(wood, 0.45))
        for k in range(2):
            c.line([(cx + 285 + k * 15, 90 + k * 30), (cx + 325 + k * 15, 110 + k * 30)], fill=GOLD, width=10)
        c.circle(cx, cy, r + 10, fill=darken(wood, 0.4))
        c.circle(cx, cy, r, fill=face)
        c.circle(cx, cy, r * 0.8, outline=alpha(GOLD, 200), width=4)
        flower(c, cx - 70, cy - 50, 40, alpha(darken(wood, 0.2), 200), GOLD, 6)
        c.rect((cx - 60, cy + 90, cx + 60, cy + 110), fill=darken(wood, 0.5))
        for dx in (-6, 6):
            c.line([(cx + dx, cy + 100), (cx + 260 + dx * 0.5, 150)], fill=(235, 235, 240), width=2)
        c.chord((cx - r, cy - r, cx + r, cy + r), 190, 260, fill=(255, 255, 255, 50))
