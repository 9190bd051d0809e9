"""Canvas, background, shadow and palette helpers for the demo drawings.

All painters work in a logical 1000×1000 coordinate space; the canvas maps
that onto the (supersampled) pixel grid. Drawing uses an RGBA-mode ImageDraw
on an RGB image, so fills with an alpha component blend cheaply.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

from PIL import Image, ImageDraw, ImageFilter

TABLE_Y = 690  # logical y of the back edge of the table
BASE_Y = 830  # typical logical y where objects stand


# ----------------------------------------------------------------- colours
def rgb(value: str | tuple) -> tuple[int, int, int]:
    if isinstance(value, tuple):
        return value[:3]
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def mix(a, b, t: float) -> tuple[int, int, int]:
    a, b = rgb(a), rgb(b)
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


def lighten(c, t: float = 0.3):
    return mix(c, (255, 255, 255), t)


def darken(c, t: float = 0.3):
    return mix(c, (0, 0, 0), t)


def alpha(c, a: int) -> tuple[int, int, int, int]:
    return (*rgb(c), int(a))


BACKGROUNDS = [  # (wall top, wall bottom, table near, table far)
    ("#f6eee2", "#e9d9c2", "#c9a27a", "#b88d63"),
    ("#f3ebe4", "#e2cfc0", "#a9826a", "#8f6a53"),
    ("#eef0e8", "#d9dccb", "#c2ad8a", "#ab9470"),
    ("#f7efe0", "#ecd6b3", "#9c7350", "#80593a"),
    ("#f1e9ea", "#dfcfd0", "#c7b49d", "#b09a80"),
    ("#f5f0e6", "#e5dccb", "#8d6e58", "#6f5443"),
    ("#ede6da", "#d8c8b0", "#d1b48c", "#b99a70"),
    ("#f4eadb", "#e6cfae", "#b5835a", "#9b6b45"),
]


# ----------------------------------------------------------------- canvas
class Canvas:
    def __init__(self, img: Image.Image, k: float, ox: float = 0.0, oy: float = 0.0):
        self.img = img
        self.k = k
        self.ox, self.oy = ox, oy
        self.d = ImageDraw.Draw(img, "RGBA")

    @classmethod
    def new(cls, px: int) -> Canvas:
        return cls(Image.new("RGB", (px, px), (240, 232, 220)), px / 1000.0)

    # coordinate mapping
    def p(self, x, y):
        return (x * self.k - self.ox, y * self.k - self.oy)

    def pts(self, seq):
        return [self.p(x, y) for x, y in seq]

    def b(self, x0, y0, x1, y1):
        (a, b_), (c, d) = self.p(x0, y0), self.p(x1, y1)
        return (min(a, c), min(b_, d), max(a, c), max(b_, d))

    def w(self, width) -> int:
        return max(1, int(round(width * self.k)))

    # primitives (logical units)
    def ellipse(self, box, fill=None, outline=None, width=1):
        self.d.ellipse(self.b(*box), fill=fill, outline=outline, width=self.w(width))

    def circle(self, cx, cy, r, fill=None, outline=None, width=1):
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill, outline, width)

    def rect(self, box, fill=None, outline=None, width=1, radius=0):
        if radius:
            self.d.rounded_rectangle(self.b(*box), radius=radius * self.k, fill=fill,
                                     outline=outline, width=self.w(width))
        else:
            self.d.rectangle(self.b(*box), fill=fill, outline=outline, width=self.w(width))

    def poly(self, points, fill=None, outline=None, width=1):
        self.d.polygon(self.pts(points), fill=fill, outline=outline, width=self.w(width))

    def line(self, points, fill, width=2, joint="curve"):
        self.d.line(self.pts(points), fill=fill, width=self.w(width), joint=joint)

    def arc(self, box, start, end, fill, width=2):
        self.d.arc(self.b(*box), start, end, fill=fill, width=self.w(width))

    def pieslice(self, box, start, end, fill=None, outline=None, width=1):
        self.d.pieslice(self.b(*box), start, end, fill=fill, outline=outline, width=self.w(width))

    def chord(self, box, start, end, fill=None, outline=None, width=1):
        self.d.chord(self.b(*box), start, end, fill=fill, outline=outline, width=self.w(width))

    # clipping: draw inside a shape
    @contextmanager
    def clip(self, box):
        """Yield a sub-canvas for `box`; call sub.mask_*() to define the shape.

        On exit everything drawn on the sub-canvas is pasted back through the mask.
        """
        x0, y0, x1, y1 = (int(v) for v in self.b(*box))
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.img.width, x1 + 1), min(self.img.height, y1 + 1)
        sub = _Clip(self.img.crop((x0, y0, x1, y1)), self.k, self.ox + x0, self.oy + y0)
        yield sub
        self.img.paste(sub.img, (x0, y0), sub.mask)

    # soft shadow on the table (only the affected region is touched)
    def shadow(self, cx, cy, rx, ry, strength=0.35, blur=0.5):
        small = 8
        pad = ry * blur * 3 + 10
        x0, y0, x1, y1 = (int(v) for v in self.b(cx - rx - pad, cy - ry - pad,
                                                  cx + rx + pad, cy + ry + pad))
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.img.width, x1), min(self.img.height, y1)
        if x1 <= x0 or y1 <= y0:
            return
        s = self.k / small
        mw, mh = max(1, (x1 - x0) // small), max(1, (y1 - y0) // small)
        m = Image.new("L", (mw, mh), 0)
        ImageDraw.Draw(m).ellipse(((cx - rx) * s - x0 / small, (cy - ry) * s - y0 / small,
                                   (cx + rx) * s - x0 / small, (cy + ry) * s - y0 / small),
                                  fill=int(255 * strength))
        m = m.filter(ImageFilter.GaussianBlur(max(1.0, ry * blur * s)))
        m = m.resize((x1 - x0, y1 - y0), Image.BILINEAR)
        self.img.paste((40, 28, 18), (x0, y0, x1, y1), m)


class _Clip(Canvas):
    def __init__(self, img, k, ox, oy):
        super().__init__(img, k, ox, oy)
        self.mask = Image.new("L", img.size, 0)
        self.md = ImageDraw.Draw(self.mask)

    def mask_poly(self, points):
        self.md.polygon(self.pts(points), fill=255)

    def mask_ellipse(self, box):
        self.md.ellipse(self.b(*box), fill=255)

    def mask_rect(self, box, radius=0):
        if radius:
            self.md.rounded_rectangle(self.b(*box), radius=radius * self.k, fill=255)
        else:
            self.md.rectangle(self.b(*box), fill=255)

    def cyl_shade(self, x0, x1, y0, y1, strength=1.0, light=0.32, steps=28):
        """Cylindrical shading: dark edges, highlight left of centre."""
        wdt = (x1 - x0) / steps
        for i in range(steps):
            t = (i + 0.5) / steps
            dist = (t - light) / (1 - light if t > light else light)
            if abs(dist) < 0.25:
                a = int(70 * strength * (1 - abs(dist) / 0.25))
                col = (255, 255, 255, a)
            else:
                a = int(110 * strength * (abs(dist) - 0.25) ** 1.6)
                col = (30, 20, 10, a)
            if a > 0:
                self.rect((x0 + i * wdt, y0, x0 + (i + 1) * wdt + 1, y1), fill=col)


# ----------------------------------------------------------------- scene
def background(c: Canvas, variant: int, rng) -> tuple:
    """Paint the studio backdrop: vertical wall gradient, table with grain."""
    top, bottom, near, far = (rgb(v) for v in BACKGROUNDS[variant % len(BACKGROUNDS)])
    px = c.img.width
    ty = int(round(TABLE_Y * c.k))
    d = ImageDraw.Draw(c.img)
    step = 2
    for y in range(0, ty, step):  # wall, lighter towards the top centre
        t = y / max(1, ty - 1)
        d.rectangle((0, y, px, y + step - 1), fill=mix(top, bottom, t ** 0.8))
    for y in range(ty, px, step):
        t = (y - ty) / max(1, px - ty - 1)
        d.rectangle((0, y, px, y + step - 1), fill=mix(far, near, t))
    c.d = ImageDraw.Draw(c.img, "RGBA")
    c.rect((0, TABLE_Y - 2, 1000, TABLE_Y + 3), fill=alpha(lighten(far, 0.35), 200))
    c.rect((0, TABLE_Y + 3, 1000, TABLE_Y + 12), fill=alpha(darken(far, 0.3), 40))
    for _ in range(9):  # faint wood grain on the table
        y = rng.uniform(TABLE_Y + 20, 990)
        c.line([(0, y), (1000, y + rng.uniform(-8, 8))], fill=alpha(darken(near, 0.2), 40),
               width=rng.uniform(1.5, 4))
    return top, bottom, near, far


def wave(x0, x1, y, amp, periods, n=40, phase=0.0):
    return [(x0 + (x1 - x0) * i / n,
             y + amp * math.sin(phase + 2 * math.pi * periods * i / n)) for i in range(n + 1)]


def profile_body(cx, profile):
    """Symmetric outline from a list of (y, half_width) pairs, top to bottom."""
    right = [(cx + hw, y) for y, hw in profile]
    left = [(cx - hw, y) for y, hw in reversed(profile)]
    return right + left


def smooth_profile(points, n=60):
    """Catmull-Rom interpolate (y, hw) control points into a smooth list."""
    out = []
    pts = [points[0]] + list(points) + [points[-1]]
    seg = len(points) - 1
    per = max(2, n // seg)
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for j in range(per):
            t = j / per
            t2, t3 = t * t, t * t * t
            out.append(tuple(0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t
                                    + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3)
                             for k in range(2)))
    out.append(points[-1])
    return out


def flower(c: Canvas, cx, cy, r, petal, center, petals=5, rot=0.0):
    for i in range(petals):
        a = rot + 2 * math.pi * i / petals
        px, py = cx + r * 0.55 * math.cos(a), cy + r * 0.55 * math.sin(a)
        c.circle(px, py, r * 0.45, fill=petal)
    c.circle(cx, cy, r * 0.3, fill=center)


def leaf(c: Canvas, x, y, length, angle, fill, vein=None):
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for i in range(13):
        t = i / 12
        pts.append((t * length, math.sin(math.pi * t) * length * 0.22))
    for i in range(12, -1, -1):
        t = i / 12
        pts.append((t * length, -math.sin(math.pi * t) * length * 0.22))
    c.poly([(x + px * ca - py * sa, y + px * sa + py * ca) for px, py in pts], fill=fill)
    if vein:
        c.line([(x, y), (x + length * ca, y + length * sa)], fill=vein, width=length * 0.03)
