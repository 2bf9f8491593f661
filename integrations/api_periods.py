"""The period of the API's KPI figures, read from the query: ``from``/``to`` dates, a ``week`` or a ``month``,
always as the tenant's local days (``reporting.periods``)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from reporting.periods import Period

# A year and a bit: a year's figures compared by the client, never an unbounded scan.
MAX_PERIOD_DAYS = 400
# Days the API reads: far enough either way for any real figures, never near the calendar's ends (where
# a local midnight in UTC or the day after the last would not exist).
EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)

ERROR_ONE_PERIOD = _("Give the period as from and to (dates), or week (e.g. 2026-W51), or month (e.g. 2026-12).")
ERROR_DATE = _("Give a date as YYYY-MM-DD.")
ERROR_FROM_REQUIRED = _("Give from with to.")
ERROR_TO_REQUIRED = _("Give to with from.")
ERROR_TO_BEFORE_FROM = _("to must be on or after from.")
ERROR_TOO_LONG = _("A period is at most %(days)d days.")
ERROR_WEEK = _("Give a week as YYYY-Www, e.g. 2026-W51.")
ERROR_MONTH = _("Give a month as YYYY-MM, e.g. 2026-12.")
ERROR_OUT_OF_RANGE = _("Give a day in the years 2000 to 2999.")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _refuse(field: str, message) -> serializers.ValidationError:
    return serializers.ValidationError({field: [str(message)]})


def _in_range(day: dt.date, field: str) -> dt.date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise _refuse(field, ERROR_OUT_OF_RANGE)
    return day


def _date(params: Mapping[str, str], field: str) -> dt.date:
    text = params[field]
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _refuse(field, ERROR_DATE) from None
    return _in_range(day, field)


def _days(params: Mapping[str, str], zone: zoneinfo.ZoneInfo) -> Period:
    if "to" not in params:
        raise _refuse("to", ERROR_TO_REQUIRED)
    if "from" not in params:
        raise _refuse("from", ERROR_FROM_REQUIRED)
    first, last = _date(params, "from"), _date(params, "to")
    if last < first:
        raise _refuse("to", ERROR_TO_BEFORE_FROM)
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise _refuse("to", ERROR_TOO_LONG % {"days": MAX_PERIOD_DAYS})
    return Period.days(first, last, zone=zone)


def _week(text: str, zone: zoneinfo.ZoneInfo) -> Period:
    match = _WEEK.match(text)
    try:
        if match is None:
            raise ValueError(text)
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise _refuse("week", ERROR_WEEK) from None
    return Period.week(_in_range(monday, "week"), zone=zone)


def _month(text: str, zone: zoneinfo.ZoneInfo) -> Period:
    match = _MONTH.match(text)
    try:
        if match is None:
            raise ValueError(text)
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise _refuse("month", ERROR_MONTH) from None
    return Period.month(_in_range(first, "month").year, first.month, zone=zone)


def period_from_query(params: Mapping[str, str], *, zone: zoneinfo.ZoneInfo) -> Period:
    """Return the period the query names, in the zone; raise a 400's ValidationError naming the field."""
    kinds = [kind for kind in ("week", "month") if kind in params]
    if "from" in params or "to" in params:
        kinds.append("days")
    if len(kinds) != 1:
        raise _refuse("period", ERROR_ONE_PERIOD)
    if kinds[0] == "week":
        return _week(params["week"], zone)
    if kinds[0] == "month":
        return _month(params["month"], zone)
    return _days(params, zone)
