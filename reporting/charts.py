"""Chart images for the report e-mails, drawn with matplotlib as small PNGs.

Mail clients run no scripts and many drop SVG, so the charts are plain images attached inline
(``cid:``) and described in their alt text. They are drawn at twice the size they are shown at,
so they stay sharp on high-density screens. Titles and units live in the e-mail's HTML (translated
there); the images hold only axis labels, which the caller passes already localized.

Every label is set in DejaVu Sans, the font matplotlib ships inside its own package, so Finnish and
Polish letters (ä, ö, ś, ł …) look the same on every host, with or without system fonts. Figures are
drawn on matplotlib's Agg canvas directly (no pyplot and no global backend), which is safe in
threads and worker processes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

SCALE = 2
WIDTH = 560
DPI = 100
FONT_FAMILY = "DejaVu Sans"
BAR_COLOUR = (37, 99, 235)
WITHIN_TARGET_COLOUR = (22, 163, 74)
OVER_TARGET_COLOUR = (217, 119, 6)
TEXT_COLOUR = (51, 65, 85)
GRID_COLOUR = (226, 232, 240)
EMPTY_CELL_COLOUR = (241, 245, 249)
HEAT_LOW, HEAT_HIGH = (191, 219, 254), (30, 58, 138)
STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": 10,
    "axes.edgecolor": "none",
    "axes.linewidth": 0,
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "savefig.facecolor": "white",
}


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


def font_file() -> Path:
    """Return the font file the labels are set in (matplotlib's bundled DejaVu Sans; never a fallback)."""
    found = font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY), fallback_to_default=False)
    return Path(found)


def bundled_font_dir() -> Path:
    """Return the folder of the fonts that come inside the matplotlib package."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _rgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    red, green, blue = colour
    return red / 255, green / 255, blue / 255


def _figure(height: int) -> tuple[Figure, FigureCanvasAgg]:
    figure = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI * SCALE)
    return figure, FigureCanvasAgg(figure)


def _png(canvas: FigureCanvasAgg) -> bytes:
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    # A chart has a handful of colours and their anti-aliasing: a palette keeps the file small.
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
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
    with matplotlib.rc_context(STYLE):
        figure, canvas = _figure(height)
        axes = figure.add_axes((0.07, 0.14, 0.915, 0.8))
        positions = range(len(values))
        axes.bar(positions, values, width=0.8, color=[_rgb(colour) for colour in colours], zorder=2)
        axes.set_ylim(0, top_value)
        axes.set_xlim(-0.5, max(1, len(values)) - 0.5)
        axes.set_yticks(range(0, top_value + 1, step))
        axes.yaxis.grid(True, color=_rgb(GRID_COLOUR), zorder=0)
        axes.axhline(0, color=_rgb(TEXT_COLOUR), linewidth=1, zorder=3)
        shown = [index for index in positions if index % label_every == 0]
        axes.set_xticks(shown, [labels[index] for index in shown])
        axes.tick_params(colors=_rgb(TEXT_COLOUR), labelsize=9)
        if len(values) <= 14:
            for index, value in enumerate(values):
                if value:
                    axes.annotate(
                        str(value), (index, value), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=9, color=_rgb(TEXT_COLOUR),
                    )  # fmt: skip
        png = _png(canvas)
    return Chart(name=name, png=png, width=WIDTH, height=height, alt=alt)


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
    height = 7 * 20 + 28
    largest = max(max(row) for row in matrix) or 1
    with matplotlib.rc_context(STYLE):
        figure, canvas = _figure(height)
        axes = figure.add_axes((0.07, 0.14, 0.925, 0.84))
        for weekday, row in enumerate(matrix):
            for hour, value in enumerate(row):
                colour = _rgb(_heat_colour(value, largest))
                axes.add_patch(Rectangle((hour + 0.05, weekday + 0.06), 0.9, 0.88, color=colour, linewidth=0))
                if value:
                    ink = "white" if value / largest > 0.5 else _rgb(TEXT_COLOUR)
                    axes.text(hour + 0.5, weekday + 0.5, str(value), ha="center", va="center", fontsize=8, color=ink)
        axes.set_xlim(0, 24)
        axes.set_ylim(7, 0)
        axes.set_yticks([weekday + 0.5 for weekday in range(7)], list(weekday_labels))
        axes.set_xticks([hour + 0.5 for hour in range(0, 24, 3)], [f"{hour:02d}" for hour in range(0, 24, 3)])
        axes.tick_params(colors=_rgb(TEXT_COLOUR), labelsize=9)
        png = _png(canvas)
    return Chart(name="heat-map", png=png, width=WIDTH, height=height, alt=alt)
