"""The demo catalog's product pictures, drawn here instead of fetched: one 600×600 PNG for each ``demo:<slug>``
photo key of :mod:`store.demo_data`, the same picture every time.

A picture is a background in its category's colour (shifted a little per product), a simple drawing of the
category with a few circles placed by the product's slug, and a white card with the title in large letters and,
small, the brand and the shop. It works offline: the fonts are a bold system font when there is one (DejaVu,
Liberation), else the font Pillow carries, which has no accents, so titles are folded to plain letters for it.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from store import demo_data

PREFIX = "demo:"
SIZE = 600
# Drawn at twice the size and scaled down, as Pillow's shapes have no anti-aliasing of their own.
SCALE = 2
# The title's letters: the largest size at which it fits the card in at most TITLE_LINES lines.
TITLE_SIZES = range(52, 29, -2)
TITLE_LINES = 3
BYLINE_SIZE = 22
CHIP_SIZE = 19
MARGIN, PADDING = 28, 28  # the card's distance from the edge, and the text's from the card's
CARD_TOP = 330
# The drawing of the category: its centre and half its size, in picture pixels.
MOTIF_CENTRE, MOTIF_RADIUS = (300, 182), 104
# Fewer colours keep a picture near 20 KB; the flat drawing and anti-aliased text need no more.
PALETTE_COLOURS = 96
BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")
REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
# Hue (degrees) of each category's background; a product's own is within HUE_SPREAD of it.
CATEGORY_HUES = {
    "Clothing": 205,
    "Shoes": 10,
    "Electronics": 250,
    "Home & Kitchen": 38,
    "Beauty": 330,
    "Sports & Outdoors": 125,
    "Books & Stationery": 172,
    "Gift Cards & Classes": 285,
}
HUE_SPREAD = 10
YOLK = (246, 190, 48)
# Punctuation the fallback font lacks, in plain letters.
PLAIN = str.maketrans({"—": "-", "–": "-", "″": '"', "’": "'", "‘": "'", "“": '"', "”": '"', "×": "x", "²": "2"})

Point = tuple[float, float]
Colour = tuple[int, int, int]


class UnknownDemoPhoto(KeyError):
    """A photo key that names no picture of the demo catalog."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no demo picture {self.key!r}"


def is_demo(photo: str | None) -> bool:
    """Whether a product's photo is a drawn demo picture (rather than a URL or a Telegram file_id)."""
    return bool(photo) and photo.startswith(PREFIX)


def key_of(slug: str) -> str:
    """The photo key of a demo picture's slug."""
    return PREFIX + slug


def slug_of(key: str) -> str:
    """The slug of a demo photo key (``demo:pullover-hoodie`` -> ``pullover-hoodie``)."""
    return key.removeprefix(PREFIX)


def filename(key: str) -> str:
    """The file name a demo picture is uploaded under."""
    return f"{slug_of(key)}.png"


def keys() -> list[str]:
    """Every demo picture's photo key, in catalog order."""
    return list(_products())


@functools.lru_cache(maxsize=128)
def draw(key: str) -> bytes:
    """The PNG of a ``demo:`` photo key; UnknownDemoPhoto when the demo catalog has no product with it."""
    item = _products().get(key)
    if item is None:
        raise UnknownDemoPhoto(key)
    sellers = {seller["key"]: seller["name"] for seller in demo_data.SELLERS}
    byline = " · ".join(part for part in (item.get("brand"), sellers.get(item["seller"])) if part)
    picture = _picture(slug_of(key), item["category"], item["title"], byline)
    out = io.BytesIO()
    picture.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT).save(out, "PNG")
    return out.getvalue()


@functools.cache
def _products() -> dict[str, dict]:
    """The demo products that have a drawn picture, by photo key."""
    return {item["photo"]: item for item in demo_data.PRODUCTS if is_demo(item.get("photo"))}


# --- colours ---------------------------------------------------------------------------------------------------


def _hls(hue: float, lightness: float, saturation: float) -> Colour:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


class Palette:
    """The colours of one picture: its category's hue, shifted by the product's slug."""

    def __init__(self, category: str, rng: random.Random) -> None:
        hue = CATEGORY_HUES.get(category, rng.randrange(360)) + rng.uniform(-HUE_SPREAD, HUE_SPREAD)
        lift = rng.uniform(-0.04, 0.04)
        self.background = _hls(hue, 0.62 + lift, 0.52)
        self.bubbles = (_hls(hue, 0.68 + lift, 0.55), _hls(hue, 0.56 + lift, 0.5))
        self.light = _hls(hue, 0.95, 0.6)  # the drawing's body
        self.mid = _hls(hue, 0.80, 0.45)
        self.dark = _hls(hue, 0.30, 0.45)  # the drawing's details
        self.accent = _hls(hue + rng.uniform(120, 200), 0.62, 0.7)  # a touch of another colour
        self.title = _hls(hue, 0.16, 0.35)
        self.byline = _hls(hue, 0.42, 0.15)


# --- fonts and text --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Font:
    """A font at one size; Pillow's own has neither accents nor a bold face, so its text is folded and thickened."""

    face: ImageFont.FreeTypeFont | ImageFont.ImageFont
    size: int
    system: bool  # a system font: accents and a real bold
    bold: bool

    def plain(self, text: str) -> str:
        """``text`` as this font can write it."""
        return text if self.system else fold(text)

    def length(self, text: str) -> float:
        """The width of ``text`` (already plain), thickening included."""
        return self.face.getlength(text) + 2 * self.stroke

    @property
    def stroke(self) -> int:
        return 0 if self.system or not self.bold else max(1, self.size // 40)

    def write(self, pen: ImageDraw.ImageDraw, xy: Point, text: str, fill: Colour, anchor: str) -> None:
        """Write ``text`` (already plain) at ``xy``."""
        pen.text(xy, text, font=self.face, fill=fill, anchor=anchor, stroke_width=self.stroke, stroke_fill=fill)


@functools.cache
def _font(size: int, bold: bool) -> _Font:
    """A font of ``size`` pixels: a system one when there is one, else Pillow's own."""
    for name in BOLD_FONTS if bold else REGULAR_FONTS:
        try:
            return _Font(ImageFont.truetype(name, size), size, True, bold)
        except OSError:
            continue
    return _Font(ImageFont.load_default(size=size), size, False, bold)


def fold(text: str) -> str:
    """``text`` in plain letters, for a font without accents (``Crème Brûlée`` -> ``Creme Brulee``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(PLAIN))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _cut(text: str, font: _Font, width: float, mark: str = "") -> str:
    """``text`` cut short (and marked) to fit ``width``."""
    if font.length(text) <= width:
        return text
    while text and font.length(text.rstrip() + mark) > width:
        text = text[:-1]
    return text.rstrip() + mark


def _title_lines(title: str, width: float, height: float, s: int) -> tuple[list[str], _Font, int]:
    """The title's lines, font and line height at the largest size that fits ``width`` × ``height``."""
    for size in TITLE_SIZES:
        font = _font(size * s, bold=True)
        lines = _wrap(font.plain(title), font, width)
        step = round(size * 1.18) * s
        fits = len(lines) <= TITLE_LINES and len(lines) * step <= height
        if fits and max(font.length(line) for line in lines) <= width:
            return lines, font, step
    # Too long even small: the lines that fit, the last one cut short.
    font = _font(TITLE_SIZES[-1] * s, bold=True)
    step = round(TITLE_SIZES[-1] * 1.18) * s
    lines = [_cut(line, font, width) for line in _wrap(font.plain(title), font, width)]
    kept = lines[:max(1, min(TITLE_LINES, int(height // step)))]
    if len(kept) < len(lines):
        kept[-1] = _cut(kept[-1] + " " + lines[len(kept)], font, width, "…" if font.system else "...")
    return kept, font, step


def _wrap(text: str, font: _Font, width: float) -> list[str]:
    """``text`` in lines of whole words no wider than ``width`` (but for a word wider on its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.length(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


# --- the picture -----------------------------------------------------------------------------------------------


def _picture(slug: str, category: str, title: str, byline: str) -> Image.Image:
    """The picture of one product, at SIZE."""
    s = SCALE
    rng = random.Random(int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "big"))
    colours = Palette(category, rng)
    image = Image.new("RGB", (SIZE * s, SIZE * s), colours.background)
    pen = ImageDraw.Draw(image)
    _bubbles(pen, rng, colours, s)
    motif = _motif_for(category, slug)
    cx, cy = MOTIF_CENTRE
    motif(_Canvas(pen, cx * s, cy * s, MOTIF_RADIUS * s), colours)
    _chip(pen, category, colours, s)
    _card(pen, title, byline, colours, s)
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _bubbles(pen: ImageDraw.ImageDraw, rng: random.Random, colours: Palette, s: int) -> None:
    """A few soft circles behind the drawing, placed by the product's slug."""
    for _ in range(rng.randint(5, 8)):
        r = rng.randint(18, 90)
        x, y = rng.randint(-40, SIZE + 40), rng.randint(-40, CARD_TOP + 20)
        pen.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=rng.choice(colours.bubbles))
    for _ in range(rng.randint(6, 12)):  # and a sprinkle of dots
        r = rng.randint(3, 6)
        x, y = rng.randint(20, SIZE - 20), rng.randint(20, CARD_TOP - 20)
        pen.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=colours.light)


def _chip(pen: ImageDraw.ImageDraw, category: str, colours: Palette, s: int) -> None:
    """The category's name in a small pill, top left."""
    font = _font(CHIP_SIZE * s, bold=True)
    text = font.plain(category).upper()
    x, y, pad_x, height = 24 * s, 22 * s, 14 * s, 34 * s
    pen.rounded_rectangle([x, y, x + font.length(text) + 2 * pad_x, y + height], radius=height // 2,
                          fill=colours.light)
    font.write(pen, (x + pad_x, y + height / 2), text, colours.dark, "lm")


def _card(pen: ImageDraw.ImageDraw, title: str, byline: str, colours: Palette, s: int) -> None:
    """The white card at the bottom: the title large, the brand and shop small under it."""
    left, top, right, bottom = MARGIN * s, CARD_TOP * s, (SIZE - MARGIN) * s, (SIZE - MARGIN) * s
    pen.rounded_rectangle([left, top, right, bottom], radius=22 * s, fill=(255, 255, 255))
    pen.rounded_rectangle([left + PADDING * s, top + 22 * s, left + (PADDING + 56) * s, top + 28 * s],
                          radius=3 * s, fill=colours.accent)
    width = right - left - 2 * PADDING * s
    room = bottom - top - (46 + 18 + BYLINE_SIZE + 18) * s  # above: the accent bar; below: the byline
    lines, font, step = _title_lines(title, width, room, s)
    y = top + 46 * s
    for line in lines:
        font.write(pen, (left + PADDING * s, y), line, colours.title, "la")
        y += step
    small = _font(BYLINE_SIZE * s, bold=False)
    small.write(pen, (left + PADDING * s, bottom - 22 * s), _cut(small.plain(byline), small, width),
                colours.byline, "ls")


# --- drawings of the categories --------------------------------------------------------------------------------


class _Canvas:
    """Drawing in a square of half-size ``r`` around ``(cx, cy)``: points from -1 to 1 on both axes."""

    def __init__(self, pen: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
        self.pen, self.cx, self.cy, self.r = pen, cx, cy, r

    def at(self, x: float, y: float) -> Point:
        return self.cx + x * self.r, self.cy + y * self.r

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[Point]:
        return [self.at(x0, y0), self.at(x1, y1)]

    def polygon(self, points: Sequence[Point], fill: Colour) -> None:
        self.pen.polygon([self.at(x, y) for x, y in points], fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: Colour, radius: float = 0) -> None:
        self.pen.rounded_rectangle(self.box(x0, y0, x1, y1), radius=radius * self.r, fill=fill)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float, fill: Colour | None = None,
                outline: Colour | None = None, width: float = 0) -> None:
        self.pen.ellipse(self.box(x0, y0, x1, y1), fill=fill, outline=outline, width=round(width * self.r))

    def arc(self, x0: float, y0: float, x1: float, y1: float, start: float, end: float, fill: Colour,
            width: float) -> None:
        self.pen.arc(self.box(x0, y0, x1, y1), start, end, fill=fill, width=round(width * self.r))

    def line(self, points: Sequence[Point], fill: Colour, width: float) -> None:
        self.pen.line([self.at(x, y) for x, y in points], fill=fill, width=round(width * self.r), joint="curve")

    def shadow(self, width: float, fill: Colour) -> None:
        """An oval shadow under the drawing."""
        self.ellipse(-width, 0.93, width, 1.07, fill=fill)


def _tshirt(c: _Canvas, p: Palette) -> None:
    c.shadow(0.7, p.bubbles[1])
    c.polygon([(-0.38, -0.85), (-1.0, -0.48), (-0.78, -0.06), (-0.56, -0.2), (-0.56, 0.9), (0.56, 0.9),
               (0.56, -0.2), (0.78, -0.06), (1.0, -0.48), (0.38, -0.85)], p.light)
    c.ellipse(-0.22, -1.02, 0.22, -0.66, fill=p.background)
    c.arc(-0.22, -1.02, 0.22, -0.66, 0, 180, p.dark, 0.06)
    c.rect(0.16, -0.3, 0.4, -0.06, p.mid, radius=0.04)
    c.line([(-0.56, 0.72), (0.56, 0.72)], p.mid, 0.04)


def _shoe(c: _Canvas, p: Palette) -> None:
    c.shadow(0.95, p.bubbles[1])
    c.polygon([(-0.92, 0.42), (-0.92, -0.3), (-0.74, -0.42), (-0.5, -0.42), (-0.32, -0.12), (0.18, 0.02),
               (0.7, 0.14), (0.96, 0.3), (0.96, 0.42)], p.light)
    c.rect(-0.98, 0.38, 1.02, 0.62, p.dark, radius=0.1)
    c.line([(-0.98, 0.5), (1.02, 0.5)], p.mid, 0.03)
    for x in (-0.22, -0.06, 0.1):  # laces
        c.line([(x, -0.12 + (x + 0.22) * 0.3), (x + 0.12, 0.08 + (x + 0.22) * 0.3)], p.dark, 0.05)
    c.polygon([(-0.92, -0.05), (-0.55, 0.05), (-0.3, 0.32), (-0.92, 0.32)], p.accent)


def _phone(c: _Canvas, p: Palette) -> None:
    c.shadow(0.6, p.bubbles[1])
    c.rect(-0.52, -0.95, 0.52, 0.92, p.dark, radius=0.16)
    c.rect(-0.43, -0.78, 0.43, 0.68, p.light, radius=0.05)
    for row in range(3):
        for col in range(3):
            x, y = -0.33 + col * 0.24, -0.66 + row * 0.24
            c.rect(x, y, x + 0.17, y + 0.17, p.accent if (row + col) % 4 == 0 else p.mid, radius=0.04)
    c.rect(-0.33, 0.18, 0.33, 0.26, p.mid, radius=0.04)
    c.rect(-0.33, 0.36, 0.12, 0.44, p.mid, radius=0.04)
    c.ellipse(-0.07, 0.74, 0.07, 0.86, fill=p.mid)
    c.rect(-0.14, -0.9, 0.14, -0.85, p.mid, radius=0.02)


def _headphones(c: _Canvas, p: Palette) -> None:
    c.shadow(0.8, p.bubbles[1])
    c.arc(-0.78, -0.95, 0.78, 0.6, 180, 360, p.dark, 0.16)
    for x0, x1 in ((-0.98, -0.6), (0.6, 0.98)):
        c.rect(x0 + 0.1, -0.25, x1 - 0.1, 0.0, p.dark, radius=0.03)
        c.rect(x0, -0.05, x1, 0.72, p.light, radius=0.16)
        c.rect(x0 + 0.08, 0.08, x1 - 0.08, 0.6, p.accent, radius=0.1)


def _watch(c: _Canvas, p: Palette) -> None:
    c.shadow(0.45, p.bubbles[1])
    c.rect(-0.26, -1.0, 0.26, 1.0, p.dark, radius=0.1)  # the strap
    c.rect(-0.5, -0.52, 0.5, 0.52, p.mid, radius=0.2)
    c.rect(-0.42, -0.44, 0.42, 0.44, p.dark, radius=0.14)
    c.arc(-0.3, -0.3, 0.3, 0.3, -90, 150, p.accent, 0.08)
    c.rect(-0.14, -0.06, 0.14, 0.06, p.light, radius=0.03)
    c.rect(0.5, -0.14, 0.58, 0.08, p.mid, radius=0.03)


def _charger(c: _Canvas, p: Palette) -> None:
    c.shadow(0.8, p.bubbles[1])
    c.rect(-0.86, -0.48, 0.74, 0.62, p.light, radius=0.16)
    c.rect(0.74, -0.14, 0.92, 0.28, p.dark, radius=0.05)
    c.polygon([(0.06, -0.36), (-0.32, 0.12), (-0.06, 0.12), (-0.16, 0.5), (0.24, -0.02), (-0.02, -0.02)],
              p.accent)
    for i in range(4):
        x = -0.7 + i * 0.12
        c.rect(x, 0.38, x + 0.08, 0.48, p.mid if i else p.dark, radius=0.02)


def _mug(c: _Canvas, p: Palette) -> None:
    c.shadow(0.75, p.bubbles[1])
    c.ellipse(0.2, -0.22, 0.9, 0.5, outline=p.light, width=0.14)
    c.rect(-0.68, -0.38, 0.44, 0.9, p.light, radius=0.14)
    c.rect(-0.68, 0.1, 0.44, 0.3, p.accent)
    c.ellipse(-0.68, -0.48, 0.44, -0.28, fill=p.mid)
    for x in (-0.38, -0.12, 0.14):  # steam
        c.line([(x, -0.62), (x + 0.08, -0.74), (x, -0.86), (x + 0.08, -0.98)], p.light, 0.05)


def _jar(c: _Canvas, p: Palette) -> None:
    c.shadow(0.7, p.bubbles[1])
    c.rect(-0.36, -0.92, 0.36, -0.52, p.dark, radius=0.06)
    c.rect(-0.18, -0.52, 0.18, -0.42, p.mid)
    c.rect(-0.62, -0.44, 0.62, 0.9, p.light, radius=0.22)
    c.rect(-0.62, 0.0, 0.62, 0.46, p.accent)
    c.ellipse(-0.16, 0.08, 0.16, 0.38, fill=p.light)
    c.rect(-0.44, -0.32, -0.34, -0.06, p.mid, radius=0.05)  # a shine


def _mountains(c: _Canvas, p: Palette) -> None:
    c.ellipse(0.38, -1.0, 0.9, -0.48, fill=p.accent)
    c.polygon([(-1.05, 0.9), (-0.3, -0.55), (0.4, 0.9)], p.dark)
    c.polygon([(-0.3, 0.9), (0.45, -0.2), (1.1, 0.9)], p.mid)
    c.polygon([(-0.3, -0.55), (-0.48, -0.2), (-0.36, -0.26), (-0.26, -0.14), (-0.16, -0.28), (-0.12, -0.2)],
              p.light)
    c.polygon([(0.45, -0.2), (0.32, 0.0), (0.42, -0.04), (0.5, 0.04), (0.58, -0.02)], p.light)
    c.rect(-1.1, 0.88, 1.1, 0.98, p.light, radius=0.04)


def _book(c: _Canvas, p: Palette) -> None:
    c.shadow(0.75, p.bubbles[1])
    c.rect(-0.58, -0.86, 0.72, 0.92, p.light, radius=0.06)  # the pages
    c.rect(-0.66, -0.92, 0.62, 0.86, p.dark, radius=0.08)  # the cover
    c.rect(-0.66, -0.92, -0.46, 0.86, p.mid, radius=0.04)  # the spine
    c.rect(-0.3, -0.62, 0.46, -0.5, p.light, radius=0.03)
    c.rect(-0.3, -0.42, 0.24, -0.34, p.mid, radius=0.03)
    c.rect(-0.3, 0.3, 0.46, 0.62, p.accent, radius=0.06)
    c.line([(0.3, -0.92), (0.3, -0.7), (0.38, -0.76), (0.46, -0.7), (0.46, -0.92)], p.accent, 0.05)


def _gift(c: _Canvas, p: Palette) -> None:
    c.shadow(0.85, p.bubbles[1])
    c.ellipse(-0.48, -0.9, 0.02, -0.46, outline=p.accent, width=0.1)
    c.ellipse(-0.02, -0.9, 0.48, -0.46, outline=p.accent, width=0.1)
    c.rect(-0.72, -0.28, 0.72, 0.9, p.light, radius=0.06)
    c.rect(-0.84, -0.52, 0.84, -0.22, p.mid, radius=0.06)
    c.rect(-0.12, -0.52, 0.12, 0.9, p.accent)
    c.rect(-0.72, 0.2, 0.72, 0.34, p.accent)


def _trousers(c: _Canvas, p: Palette) -> None:
    c.shadow(0.6, p.bubbles[1])
    c.polygon([(-0.52, -0.82), (0.52, -0.82), (0.62, 0.94), (0.12, 0.94), (0.0, -0.2), (-0.12, 0.94),
               (-0.62, 0.94)], p.light)
    c.rect(-0.54, -0.92, 0.54, -0.72, p.dark, radius=0.04)
    c.line([(0.0, -0.72), (0.0, -0.3)], p.mid, 0.04)
    c.line([(-0.44, -0.72), (-0.26, -0.46)], p.mid, 0.04)
    c.line([(0.44, -0.72), (0.26, -0.46)], p.mid, 0.04)


def _beanie(c: _Canvas, p: Palette) -> None:
    c.shadow(0.75, p.bubbles[1])
    c.ellipse(-0.2, -0.98, 0.2, -0.58, fill=p.accent)
    c.pen.chord(c.box(-0.78, -0.72, 0.78, 0.84), 180, 360, fill=p.light)
    for x in (-0.5, -0.25, 0.0, 0.25, 0.5):
        c.line([(x, 0.12), (x * 0.6, -0.5)], p.mid, 0.04)
    c.rect(-0.84, 0.08, 0.84, 0.5, p.dark, radius=0.1)
    for x in (-0.6, -0.3, 0.0, 0.3, 0.6):
        c.line([(x, 0.14), (x, 0.44)], p.mid, 0.04)


def _sock(c: _Canvas, p: Palette) -> None:
    c.shadow(0.7, p.bubbles[1])
    c.polygon([(-0.36, -0.92), (0.16, -0.92), (0.16, 0.3), (0.7, 0.46), (0.8, 0.7), (0.62, 0.92), (-0.1, 0.9),
               (-0.36, 0.62)], p.light)
    c.rect(-0.36, -0.92, 0.16, -0.62, p.dark, radius=0.04)
    c.rect(-0.36, -0.5, 0.16, -0.4, p.accent)
    c.rect(-0.36, -0.3, 0.16, -0.2, p.accent)
    c.polygon([(0.48, 0.42), (0.7, 0.46), (0.8, 0.7), (0.62, 0.92), (0.48, 0.92)], p.mid)


def _pan(c: _Canvas, p: Palette) -> None:
    c.shadow(0.9, p.bubbles[1])
    c.rect(0.48, -0.02, 1.12, 0.2, p.title, radius=0.1)
    c.ellipse(-0.98, -0.5, 0.62, 0.74, fill=p.title)
    c.ellipse(-0.88, -0.4, 0.52, 0.6, fill=p.dark)
    c.ellipse(-0.6, -0.22, -0.04, 0.3, fill=p.light)  # an egg, of course
    c.ellipse(-0.42, -0.06, -0.22, 0.14, fill=YOLK)


def _board(c: _Canvas, p: Palette) -> None:
    c.shadow(0.8, p.bubbles[1])
    c.rect(-0.8, -0.62, 0.8, 0.86, p.light, radius=0.14)
    c.ellipse(-0.12, -0.9, 0.12, -0.66, outline=p.light, width=0.1)
    for y in (-0.3, 0.0, 0.3, 0.6):
        c.line([(-0.6, y), (0.6, y)], p.mid, 0.035)
    c.rect(-0.8, -0.2, 0.8, -0.08, p.accent)


def _dumbbell(c: _Canvas, p: Palette) -> None:
    c.shadow(0.9, p.bubbles[1])
    c.rect(-0.6, -0.08, 0.6, 0.08, p.mid, radius=0.04)
    for x0, x1, h in ((-1.0, -0.86, 0.3), (-0.86, -0.58, 0.5), (0.58, 0.86, 0.5), (0.86, 1.0, 0.3)):
        c.rect(x0, -h, x1, h, p.dark, radius=0.06)
    c.rect(-0.3, -0.1, 0.3, 0.1, p.accent, radius=0.04)


def _bottle(c: _Canvas, p: Palette) -> None:
    c.shadow(0.45, p.bubbles[1])
    c.rect(-0.16, -1.0, 0.16, -0.78, p.dark, radius=0.05)
    c.rect(-0.24, -0.82, 0.24, -0.6, p.mid, radius=0.06)
    c.rect(-0.38, -0.62, 0.38, 0.92, p.light, radius=0.16)
    c.rect(-0.38, -0.1, 0.38, 0.34, p.accent)
    c.rect(-0.26, -0.48, -0.18, -0.22, p.mid, radius=0.04)


def _tent(c: _Canvas, p: Palette) -> None:
    c.ellipse(0.48, -1.0, 0.92, -0.56, fill=p.accent)
    c.polygon([(-0.95, 0.85), (-0.05, -0.7), (0.85, 0.85)], p.light)
    c.polygon([(-0.05, -0.7), (0.85, 0.85), (1.02, 0.85), (0.1, -0.78)], p.mid)
    c.polygon([(-0.3, 0.85), (-0.05, 0.2), (0.2, 0.85)], p.dark)
    c.line([(-0.05, -0.7), (-0.05, -0.92)], p.dark, 0.04)
    c.rect(-1.1, 0.83, 1.1, 0.95, p.dark, radius=0.04)


def _motif_for(category: str, slug: str) -> Callable[[_Canvas, Palette], None]:
    """The drawing of a product: the first of its category's whose word is in its slug, else the category's."""
    for word, motif in MOTIF_WORDS.get(category, ()):
        if word in slug:
            return motif
    return MOTIFS.get(category, _gift)


MOTIFS: dict[str, Callable[[_Canvas, Palette], None]] = {
    "Clothing": _tshirt,
    "Shoes": _shoe,
    "Electronics": _phone,
    "Home & Kitchen": _mug,
    "Beauty": _jar,
    "Sports & Outdoors": _mountains,
    "Books & Stationery": _book,
    "Gift Cards & Classes": _gift,
}
# Drawings of particular products, by a word of their slug.
MOTIF_WORDS: dict[str, tuple[tuple[str, Callable[[_Canvas, Palette], None]], ...]] = {
    "Clothing": (("chinos", _trousers), ("tights", _trousers), ("beanie", _beanie), ("socks", _sock)),
    "Home & Kitchen": (("skillet", _pan), ("board", _board), ("towels", _board)),
    "Sports & Outdoors": (("dumbbell", _dumbbell), ("bottle", _bottle), ("tent", _tent)),
    "Electronics": (("headphones", _headphones), ("earbuds", _headphones), ("speaker", _headphones),
                    ("watch", _watch), ("charger", _charger), ("power-bank", _charger), ("cable", _charger)),
}
