"""Next week's arrivals per tenant and hour of the week, forecast from the last weeks, and how good that is.

The history is a list of weeks (oldest first), each 168 hourly counts of live chats from Monday
00:00 on the planning clock. Two seasonal methods are tried:

- ``seasonal mean``: each hour of the week is the mean of that hour over the last N weeks;
- ``seasonal naive``: each hour is the same hour of the last week.

Each is scored on held-out weeks: for each of the last ``held_out`` weeks, forecast it from the N
weeks before it and compare hour by hour: MAE (mean absolute error, chats an hour) and MAPE (mean
absolute percentage error over the hours that had chats). The method with the lower MAE forecasts
next week; its score goes with the forecast. Without enough history to hold a week out, the
seasonal mean of what there is stands, unscored.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import Trunc

from conversations.models import Conversation

HOURS_IN_WEEK = 168
WEEKS_USED = 4
HELD_OUT = 2

Method = Callable[[Sequence[Sequence[float]]], list[float]]


def seasonal_mean(weeks: Sequence[Sequence[float]]) -> list[float]:
    """Return each hour of the week's mean over the weeks."""
    return [sum(week[hour] for week in weeks) / len(weeks) for hour in range(HOURS_IN_WEEK)]


def seasonal_naive(weeks: Sequence[Sequence[float]]) -> list[float]:
    """Return the last week again."""
    return [float(count) for count in weeks[-1]]


METHODS: dict[str, Method] = {"seasonal mean": seasonal_mean, "seasonal naive": seasonal_naive}


@dataclass(frozen=True)
class Score:
    """A method's errors over the held-out weeks: MAE in chats an hour, MAPE over hours with chats (None if none)."""

    mae: float
    mape: float | None
    weeks: int


def score(actual: Sequence[Sequence[float]], forecast: Sequence[Sequence[float]]) -> Score:
    """Return MAE and MAPE of forecast weeks against the actual ones."""
    errors, percents = [], []
    for real_week, forecast_week in zip(actual, forecast, strict=True):
        for real, guess in zip(real_week, forecast_week, strict=True):
            errors.append(abs(real - guess))
            if real:
                percents.append(abs(real - guess) / real)
    return Score(
        mae=sum(errors) / len(errors),
        mape=sum(percents) / len(percents) if percents else None,
        weeks=len(actual),
    )


def backtest(history: Sequence[Sequence[float]], method: Method, *, weeks_used: int, held_out: int) -> Score | None:
    """Return the method's score on the last ``held_out`` weeks, each forecast from the weeks before it."""
    tested = range(max(len(history) - held_out, 1), len(history))
    if not tested:
        return None
    forecasts = [method(history[max(week - weeks_used, 0) : week]) for week in tested]
    return score([history[week] for week in tested], forecasts)


@dataclass(frozen=True)
class Forecast:
    """Next week's arrivals per hour, the method that made them and its held-out score (None: too little history)."""

    arrivals: tuple[float, ...]
    method: str
    score: Score | None


def forecast_next_week(
    history: Sequence[Sequence[float]], *, weeks_used: int = WEEKS_USED, held_out: int = HELD_OUT
) -> Forecast:
    """Return next week's forecast by the method that did best on the held-out weeks."""
    if not history:
        return Forecast(arrivals=(0.0,) * HOURS_IN_WEEK, method="seasonal mean", score=None)
    scored = {
        name: backtest(history, method, weeks_used=weeks_used, held_out=held_out) for name, method in METHODS.items()
    }
    usable = {name: found for name, found in scored.items() if found is not None}
    name = min(usable, key=lambda each: usable[each].mae) if usable else "seasonal mean"
    recent = history[-weeks_used:]
    return Forecast(arrivals=tuple(METHODS[name](recent)), method=name, score=usable.get(name))


# --- The history from the database ----------------------------------------------------------------


def week_starts(monday: dt.date, zone: zoneinfo.ZoneInfo, weeks: int) -> list[dt.datetime]:
    """Return the Mondays 00:00 (in ``zone``) of the ``weeks`` weeks before ``monday``, oldest first."""
    return [
        dt.datetime.combine(monday - dt.timedelta(weeks=back), dt.time(), tzinfo=zone) for back in range(weeks, 0, -1)
    ]


def arrivals_history(
    tenant_ids: Iterable[int], *, monday: dt.date, zone: zoneinfo.ZoneInfo, weeks: int
) -> dict[int, list[list[int]]]:
    """Return each tenant's live chats per local hour of the week for the ``weeks`` weeks before ``monday``; one query.

    Hours are on ``zone``'s clock: on the 25-hour day of a clock change both 03:xx hours count in 03.
    """
    tenant_ids = list(tenant_ids)
    starts = week_starts(monday, zone, weeks)
    end = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    rows = (
        Conversation.objects.filter(tenant_id__in=tenant_ids, started_at__gte=starts[0], started_at__lt=end)
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
        .order_by()
        .annotate(hour=Trunc("started_at", "hour", tzinfo=zone))
        .values_list("tenant_id", "hour")
        .annotate(chats=Count("pk"))
    )
    history: dict[int, list[list[int]]] = defaultdict(lambda: [[0] * HOURS_IN_WEEK for _ in range(weeks)])
    first = starts[0].date()
    for tenant_id, hour, chats in rows:
        local = hour.astimezone(zone)
        week = (local.date() - first).days // 7
        history[tenant_id][week][local.weekday() * 24 + local.hour] += chats
    return {tenant_id: history[tenant_id] for tenant_id in tenant_ids}
