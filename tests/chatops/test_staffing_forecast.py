"""Forecasting next week's arrivals: a synthetic history with a known weekly pattern, and the history query."""

from __future__ import annotations

import datetime as dt
import math
import random
import zoneinfo

import pytest

from chatops import staffing_forecast as forecasting
from tests.reporting.histories import make_chat

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def pattern(hour: int) -> float:
    """Return a known weekly pattern: 20 chats an hour at the weekday peak, 2 at night, 60 % at weekends."""
    day, clock = divmod(hour, 24)
    daytime = 2 + 18 * max(math.sin(math.pi * (clock - 7) / 12), 0) if 7 <= clock < 19 else 2
    return daytime * (0.6 if day >= 5 else 1.0)


def poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1)
    while total < mean:
        count += 1
        total += rng.expovariate(1)
    return count


def synthetic_history(weeks: int, *, scale=lambda week: 1.0, seed: int = 1) -> list[list[int]]:
    rng = random.Random(seed)
    return [[poisson(rng, pattern(hour) * scale(week)) for hour in range(168)] for week in range(weeks)]


def test_the_seasonal_forecast_of_a_steady_weekly_pattern_finds_the_pattern_and_is_scored():
    # given eight weeks of Poisson arrivals around a known weekly pattern
    history = synthetic_history(8)

    # when
    forecast = forecasting.forecast_next_week(history)

    # then the mean of four weeks wins over last week alone, and lands near the true pattern
    assert forecast.method == "seasonal mean"
    truth = [pattern(hour) for hour in range(168)]
    error = sum(abs(guess - real) for guess, real in zip(forecast.arrivals, truth, strict=True)) / 168
    assert error < 1.5
    # and its held-out score is that of Poisson noise on two weeks: MAE about 2-3 chats an hour, MAPE under 60 %
    assert forecast.score.weeks == 2
    assert 1 < forecast.score.mae < 4
    assert forecast.score.mape < 0.6
    naive = forecasting.backtest(history, forecasting.seasonal_naive, weeks_used=4, held_out=2)
    assert naive.mae > forecast.score.mae


def test_after_a_jump_in_traffic_last_week_alone_forecasts_better():
    # given traffic that tripled for good five weeks back (of eight)
    history = synthetic_history(8, scale=lambda week: 1.0 if week < 3 else 3.0, seed=2)

    # when scored on the last four weeks held out, each forecast from the four before it
    forecast = forecasting.forecast_next_week(history, weeks_used=4, held_out=4)

    # then the four held-out weeks, three of them after the jump, favour last week's figures
    assert forecast.method == "seasonal naive"
    assert forecast.arrivals == tuple(float(count) for count in history[-1])


def test_scores_are_mean_absolute_and_mean_absolute_percentage_errors():
    actual = [[10, 0, 4] + [0] * 165]
    guess = [[8, 1, 5] + [0] * 165]

    found = forecasting.score(actual, guess)

    assert found.mae == pytest.approx((2 + 1 + 1) / 168)
    assert found.mape == pytest.approx((0.2 + 0.25) / 2)


def test_without_history_the_forecast_is_empty_and_unscored():
    assert forecasting.forecast_next_week([]).score is None
    one = forecasting.forecast_next_week(synthetic_history(1))
    assert one.score is None and one.method == "seasonal mean"


@pytest.mark.django_db
def test_the_history_counts_live_chats_per_local_hour_of_each_past_week_in_one_query(
    tenant, other_tenant, django_assert_num_queries
):
    # given the week of Monday 2 November 2026 to plan; the clocks went back on Sunday 25 October
    monday = dt.date(2026, 11, 2)
    make_chat(tenant, dt.datetime(2026, 10, 26, 9, 15, tzinfo=HELSINKI))  # last week, Monday 09
    make_chat(tenant, dt.datetime(2026, 10, 26, 9, 45, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 10, 25, 3, 30, tzinfo=HELSINKI))  # the week before, Sunday 03 (the 1st)
    make_chat(tenant, dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))  # 03:30 local the 2nd time round
    make_chat(tenant, dt.datetime(2026, 10, 19, 0, 5, tzinfo=HELSINKI))  # the week before, Monday 00
    make_chat(tenant, dt.datetime(2026, 11, 2, 0, 0, tzinfo=HELSINKI))  # the planned week: not history
    make_chat(tenant, dt.datetime(2026, 10, 18, 23, 59, tzinfo=HELSINKI))  # three weeks back: out
    make_chat(other_tenant, dt.datetime(2026, 10, 30, 17, 0, tzinfo=HELSINKI))  # last week, Friday 17

    # when
    with django_assert_num_queries(1):
        history = forecasting.arrivals_history([tenant.pk, other_tenant.pk], monday=monday, zone=HELSINKI, weeks=2)

    # then
    older, last = history[tenant.pk]
    assert (last[9], older[6 * 24 + 3], older[0]) == (2, 2, 1)
    assert sum(last) + sum(older) == 5
    assert history[other_tenant.pk][1][4 * 24 + 17] == 1
    assert sum(map(sum, history[other_tenant.pk])) == 1
