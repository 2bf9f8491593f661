"""Service hours: is a tenant's chat staffed at a given moment?

Hours are wall-clock times in the tenant's time zone, so "09:00–17:00" means nine to five on the
local clock on every day, whether that day has 23, 24 or 25 hours. A range belongs to the day it
opens on: Friday 18:00–02:00 still runs into Saturday morning even when Saturday is a holiday,
and a dated exception replaces only the ranges that open on its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from tenants.models import ServiceException, ServiceHours, Tenant

Range = tuple[dt.time, dt.time]


def _ranges_opening_on(day: dt.date, weekly: dict[int, list[Range]], exceptions: dict[dt.date, ServiceException]):
    exception = exceptions.get(day)
    if exception is None:
        return weekly.get(day.weekday(), [])
    if exception.closed:
        return []
    return [(exception.opens, exception.closes)]


def _crosses_midnight(opens: dt.time, closes: dt.time) -> bool:
    return closes <= opens


def _covers_same_day(opens: dt.time, closes: dt.time, clock: dt.time) -> bool:
    if _crosses_midnight(opens, closes):
        return clock >= opens
    return opens <= clock < closes


def _covers_next_morning(opens: dt.time, closes: dt.time, clock: dt.time) -> bool:
    return _crosses_midnight(opens, closes) and clock < closes


def _weekly_ranges(hours: Iterable[ServiceHours]) -> dict[int, list[Range]]:
    weekly: dict[int, list[Range]] = {}
    for row in hours:
        weekly.setdefault(row.weekday, []).append((row.opens, row.closes))
    return weekly


def is_open(tenant: Tenant, at: dt.datetime) -> bool:
    """Say whether the tenant's chat is within its service hours at the aware moment ``at``."""
    local = at.astimezone(tenant.zone)
    today, clock = local.date(), local.time().replace(tzinfo=None)
    yesterday = today - dt.timedelta(days=1)
    weekly = _weekly_ranges(ServiceHours.objects.for_tenant(tenant))
    exceptions = {
        row.date: row for row in ServiceException.objects.for_tenant(tenant).filter(date__in=[yesterday, today])
    }
    if any(_covers_same_day(o, c, clock) for o, c in _ranges_opening_on(today, weekly, exceptions)):
        return True
    return any(_covers_next_morning(o, c, clock) for o, c in _ranges_opening_on(yesterday, weekly, exceptions))


def open_intervals(tenant: Tenant, *, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return the stretches of [start, end) in which the tenant's chat is open, in order, merged, as UTC moments.

    The same rules as ``is_open`` (a range belongs to the day it opens on; an exception replaces that
    day's ranges) in two queries, for planning over many hours. A range that opens or closes inside
    an hour a daylight-saving change skips or repeats is taken at the first reading of that local time.
    """
    zone = tenant.zone
    first_day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date()
    weekly = _weekly_ranges(ServiceHours.objects.for_tenant(tenant))
    exceptions = {
        row.date: row
        for row in ServiceException.objects.for_tenant(tenant).filter(date__gte=first_day, date__lte=last_day)
    }
    stretches = []
    day = first_day
    while day <= last_day:
        for opens, closes in _ranges_opening_on(day, weekly, exceptions):
            closes_on = day + dt.timedelta(days=1) if _crosses_midnight(opens, closes) else day
            opened = dt.datetime.combine(day, opens, tzinfo=zone).astimezone(dt.UTC)
            closed = dt.datetime.combine(closes_on, closes, tzinfo=zone).astimezone(dt.UTC)
            if opened < end and closed > start:
                stretches.append((max(opened, start), min(closed, end)))
        day += dt.timedelta(days=1)
    return _merged(sorted(stretches))


def _merged(stretches: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for opened, closed in stretches:
        if merged and opened <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closed))
        else:
            merged.append((opened, closed))
    return merged
