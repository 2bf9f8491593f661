"""The report charts: small PNG images of the size the e-mail shows them at, twice as sharp."""

from __future__ import annotations

import io
import warnings

import pytest
from matplotlib.ft2font import FT2Font
from PIL import Image

from reporting import charts

WEEKDAYS_PL = ["pon", "wt", "śr", "czw", "pt", "sob", "niedz"]
MONTHS_FI = ["tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä"]


def opened(chart: charts.Chart) -> Image.Image:
    return Image.open(io.BytesIO(chart.png))


def test_chats_per_day_is_a_small_png_drawn_at_twice_its_display_size():
    # when
    chart = charts.chats_per_day(counts=[12, 30, 25, 40, 8, 0, 3], labels=list("MTWTFSS"), alt="Chats per day")

    # then
    image = opened(chart)
    assert image.format == "PNG"
    assert image.size == (chart.width * charts.SCALE, chart.height * charts.SCALE)
    assert chart.width <= 600
    assert len(chart.png) < 30_000
    assert chart.filename == "chats-per-day.png"


def test_taller_bars_cover_more_of_the_image():
    # given two charts that differ only in one day's count
    low = opened(charts.chats_per_day(counts=[1, 10], labels=["a", "b"], alt="")).convert("RGB")
    high = opened(charts.chats_per_day(counts=[10, 10], labels=["a", "b"], alt="")).convert("RGB")

    # then the first bar of the second is taller: more pixels of the bar colour in its half
    def bar_pixels(image: Image.Image) -> int:
        half = image.crop((0, 0, image.width // 2, image.height))
        colours = half.getcolors(maxcolors=100_000)
        return sum(
            count
            for count, pixel in colours
            if max(abs(a - b) for a, b in zip(pixel, charts.BAR_COLOUR, strict=True)) < 20
        )

    assert bar_pixels(high) > 3 * bar_pixels(low)


def test_heat_map_and_first_response_chart_draw_their_data():
    # given
    matrix = [[0] * 24 for _ in range(7)]
    matrix[2][10] = 14

    # when
    heat_map = charts.hour_weekday_heat_map(matrix=matrix, weekday_labels=WEEKDAYS_PL, alt="busiest Wednesday 10")
    first_response = charts.first_response_distribution(
        counts=[4, 3, 1], labels=["0–5", "5–10", "> 10"], within_target=[True, True, False], alt="x"
    )

    # then the busiest cell is the darkest colour of the scale, and the chart over the target is orange
    image = opened(heat_map).convert("RGB")
    assert charts.HEAT_HIGH in {colour for _count, colour in image.getcolors(maxcolors=10_000)}
    colours = {colour for _count, colour in opened(first_response).convert("RGB").getcolors(maxcolors=10_000)}
    assert charts.WITHIN_TARGET_COLOUR in colours
    assert charts.OVER_TARGET_COLOUR in colours


def test_labels_are_set_in_the_dejavu_sans_that_matplotlib_bundles_and_it_has_every_letter():
    # when matplotlib's font manager resolves the charts' font (no fallback allowed)
    font = charts.font_file()

    # then it is the DejaVu Sans inside the matplotlib package, not a system font that a host may lack
    assert font.name == "DejaVuSans.ttf"
    assert font.parent == charts.bundled_font_dir()
    # and it has a glyph for every letter of the Finnish and Polish labels
    letters = set("".join(WEEKDAYS_PL + MONTHS_FI)) | set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻäöåÄÖÅ–")
    charmap = FT2Font(str(font)).get_charmap()
    assert {letter for letter in letters if ord(letter) not in charmap} == set()


def test_a_chart_with_polish_and_finnish_labels_draws_every_glyph_as_a_png_of_the_expected_size():
    # given labels with accents
    matrix = [[hour % 5 for hour in range(24)] for _ in range(7)]

    # when the charts are drawn, a glyph missing from the font (matplotlib warns) fails the test
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        polish = charts.hour_weekday_heat_map(matrix=matrix, weekday_labels=WEEKDAYS_PL, alt="Czaty")
        finnish = charts.chats_per_day(counts=[3, 5, 2, 7, 1, 0, 4], labels=MONTHS_FI, alt="Keskustelut")
        unaccented = charts.hour_weekday_heat_map(
            matrix=matrix, weekday_labels=[label.replace("ś", "s") for label in WEEKDAYS_PL], alt="Czaty"
        )

    # then each is a valid PNG at twice its display size
    for chart in (polish, finnish):
        image = opened(chart)
        image.verify()
        assert opened(chart).size == (chart.width * charts.SCALE, chart.height * charts.SCALE)
    # and the accent is drawn: "śr" is not the same picture as "sr"
    assert opened(polish).convert("RGB").tobytes() != opened(unaccented).convert("RGB").tobytes()


def test_bad_chart_data_is_refused():
    with pytest.raises(ValueError, match="7 weekdays"):
        charts.hour_weekday_heat_map(matrix=[[0] * 24] * 6, weekday_labels=WEEKDAYS_PL, alt="")
    with pytest.raises(ValueError, match="one label"):
        charts.chats_per_day(counts=[1, 2], labels=["a"], alt="")


@pytest.mark.parametrize(("largest", "step"), [(0, 1), (3, 1), (8, 2), (40, 10), (57, 20), (230, 100), (1200, 500)])
def test_axis_steps_are_round_numbers(largest, step):
    assert charts.nice_step(largest) == step
