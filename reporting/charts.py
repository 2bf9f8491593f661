"""Chart images for the report e-mails, drawn with Pillow as small PNGs.

Mail clients run no scripts and many drop SVG, so the charts are plain images attached inline
(``cid:``) and described in their alt text. They are drawn at twice the size they are shown at,
so they stay sharp on high-density screens. Titles and units live in the e-mail's HTML (translated
there); the images hold only axis labels, which the caller passes already localized.

Pillow's bundled font has only ASCII letters. A system DejaVu Sans (Debian's fonts-dejavu-core,
present on most Linux hosts) is used when it is installed; without it the labels are written
with their accents removed (``śr`` → ``sr``) rather than as empty boxes.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SCALE = 2
WIDTH = 560
BAR_COLOUR = (37, 99, 235)
WITHIN_TARGET_COLOUR = (22, 163, 74)
OVER_TARGET_COLOUR = (217, 119, 6)
TEXT_COLOUR = (51, 65, 85)
GRID_COLOUR = (226, 232, 240)
EMPTY_CELL_COLOUR = (241, 245, 249)
HEAT_LOW, HEAT_HIGH = (191, 219, 254), (30, 58, 138)
FONT_FILES = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
# Letters that Unicode does not decompose into a base letter and an accent.
ASCII_FALLBACKS = str.maketrans(
    {"ł": "l", "Ł": "L", "–": "-", "—": "-", "\N{MULTIPLICATION SIGN}": "x", "ß": "ss", "ø": "o", "Ø": "O"}
)


@dataclass(frozen=True)
class Chart:
    """One chart image: its PNG and how the e-mail shows it."""

    name: str
    png: bytes
    width: int
    height: int
    alt: str

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


@functools.cache
def _font_file() -> str | None:
    for name in FONT_FILES:
        try:
            ImageFont.truetype(name, 10)
        except OSError:
            continue
        return name
    return None


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    name = _font_file()
    if name is None:
        return ImageFont.load_default(size=size * SCALE)
    return ImageFont.truetype(name, size * SCALE)


def drawable(text: str) -> str:
    """Return the text as the chart font can draw it (accents removed without a full font)."""
    if _font_file() is not None:
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(ASCII_FALLBACKS))
    return "".join(char for char in decomposed if ord(char) < 128)


class _Canvas:
    """A white image measured in display pixels, drawn at ``SCALE`` times that."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), "white")
        self.draw = ImageDraw.Draw(self.image)

    def rectangle(self, left: float, top: float, right: float, bottom: float, colour) -> None:
        box = [round(left * SCALE), round(top * SCALE), round(right * SCALE) - 1, round(bottom * SCALE) - 1]
        if box[2] >= box[0] and box[3] >= box[1]:
            self.draw.rectangle(box, fill=colour)

    def line(self, x1: float, y1: float, x2: float, y2: float, colour, width: float = 1) -> None:
        points = [(x1 * SCALE, y1 * SCALE), (x2 * SCALE, y2 * SCALE)]
        self.draw.line(points, fill=colour, width=max(1, round(width * SCALE)))

    def text(self, x: float, y: float, text: str, *, size: int = 11, anchor: str = "mm", colour=TEXT_COLOUR) -> None:
        self.draw.text((x * SCALE, y * SCALE), drawable(text), font=_font(size), fill=colour, anchor=anchor)

    def text_width(self, text: str, size: int = 11) -> float:
        return self.draw.textlength(drawable(text), font=_font(size)) / SCALE

    def png(self) -> bytes:
        buffer = io.BytesIO()
        # A chart has a handful of colours and their anti-aliasing: a palette keeps the file small.
        self.image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
        return buffer.getvalue()


def nice_step(largest: int, lines: int = 4) -> int:
    """Return a round step (1, 2, 5, 10, 20, 50 …) that divides 0..largest into about ``lines`` parts."""
    rough = max(1, largest) / lines
    magnitude = 1
    while magnitude * 10 <= rough:
        magnitude *= 10
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= rough:
            return multiple * magnitude
    return 10 * magnitude


def _bars(
    *,
    name: str,
    values: Sequence[int],
    labels: Sequence[str],
    colours: Sequence[tuple[int, int, int]],
    alt: str,
    height: int,
    label_every: int = 1,
) -> Chart:
    if len(values) != len(labels) or len(values) != len(colours):
        raise ValueError("Give one label and one colour per bar.")
    step = nice_step(max(values, default=0))
    top_value = step * max(1, -(-max(values, default=0) // step))
    canvas = _Canvas(WIDTH, height)
    axis_width = canvas.text_width(str(top_value), 10) + 10
    left, right, top, bottom = axis_width, WIDTH - 8, 20, height - 24
    for tick in range(0, top_value + 1, step):
        y = bottom - (bottom - top) * tick / top_value
        canvas.line(left, y, right, y, GRID_COLOUR)
        canvas.text(left - 5, y, str(tick), size=10, anchor="rm")
    slot = (right - left) / max(1, len(values))
    gap = min(6.0, slot * 0.25)
    show_values = len(values) <= 14
    for index, (value, label, colour) in enumerate(zip(values, labels, colours, strict=True)):
        x0 = left + index * slot + gap / 2
        x1 = x0 + slot - gap
        y = bottom - (bottom - top) * value / top_value
        canvas.rectangle(x0, y, x1, bottom, colour)
        if show_values and value:
            canvas.text((x0 + x1) / 2, y - 7, str(value), size=10)
        if index % label_every == 0:
            canvas.text((x0 + x1) / 2, bottom + 12, label, size=10)
    canvas.line(left, bottom, right, bottom, TEXT_COLOUR)
    return Chart(name=name, png=canvas.png(), width=WIDTH, height=height, alt=alt)


def chats_per_day(*, counts: Sequence[int], labels: Sequence[str], alt: str) -> Chart:
    """Draw a bar per day; a month's labels are thinned out so they do not overlap."""
    label_every = 1 if len(counts) <= 14 else 3
    return _bars(
        name="chats-per-day",
        values=counts,
        labels=labels,
        colours=[BAR_COLOUR] * len(counts),
        alt=alt,
        height=190,
        label_every=label_every,
    )


def first_response_distribution(
    *, counts: Sequence[int], labels: Sequence[str], within_target: Sequence[bool], alt: str
) -> Chart:
    """Draw the answered chats per first-response band: green within the target, orange over it."""
    colours = [WITHIN_TARGET_COLOUR if within else OVER_TARGET_COLOUR for within in within_target]
    return _bars(name="first-response", values=counts, labels=labels, colours=colours, alt=alt, height=170)


def _heat_colour(value: int, largest: int) -> tuple[int, int, int]:
    if not value:
        return EMPTY_CELL_COLOUR
    share = value / largest
    return tuple(round(low + (high - low) * share) for low, high in zip(HEAT_LOW, HEAT_HIGH, strict=True))


def hour_weekday_heat_map(*, matrix: Sequence[Sequence[int]], weekday_labels: Sequence[str], alt: str) -> Chart:
    """Draw chats by weekday (rows, Monday first) and local hour (columns 0–23), darker for more."""
    if len(matrix) != 7 or any(len(row) != 24 for row in matrix) or len(weekday_labels) != 7:
        raise ValueError("Give 7 weekdays of 24 hours and 7 weekday labels.")
    cell_height = 20
    canvas = _Canvas(WIDTH, 7 * cell_height + 28)
    label_width = max(canvas.text_width(label, 11) for label in weekday_labels) + 10
    left, top = label_width, 4
    cell_width = (WIDTH - 6 - left) / 24
    largest = max(max(row) for row in matrix) or 1
    for weekday, row in enumerate(matrix):
        y0 = top + weekday * cell_height
        canvas.text(left - 6, y0 + cell_height / 2, weekday_labels[weekday], anchor="rm")
        for hour, value in enumerate(row):
            x0 = left + hour * cell_width
            colour = _heat_colour(value, largest)
            canvas.rectangle(x0 + 1, y0 + 1, x0 + cell_width - 1, y0 + cell_height - 1, colour)
            if value:
                ink = (255, 255, 255) if value / largest > 0.5 else TEXT_COLOUR
                canvas.text(x0 + cell_width / 2, y0 + cell_height / 2, str(value), size=9, colour=ink)
    for hour in range(0, 24, 3):
        canvas.text(left + hour * cell_width + cell_width / 2, top + 7 * cell_height + 12, f"{hour:02d}", size=10)
    return Chart(name="heat-map", png=canvas.png(), width=canvas.width, height=canvas.height, alt=alt)
