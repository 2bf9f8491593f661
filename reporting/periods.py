"""Reporting periods: whole local days of a time zone, as half-open ranges of moments [start, end).

A period is stored as its local dates (first day, and the day after the last) and its zone; its
``start`` and ``end`` are the aware moments of local midnight on those dates, so a day is 23 or 25
hours long across a daylight-saving change and a month ends at local, not UTC, midnight.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

ERROR_EMPTY_PERIOD = _("A period must end after it starts.")
ERROR_NAIVE_MOMENT = _("Give the moment with its time zone.")


class Kind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    DAYS = "days"


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """Return the moment a local day begins, in UTC.

    Where midnight is skipped by a daylight-saving change the day begins when the clocks jump
    (``fold=0`` takes the offset before the change); where it repeats, at its first occurrence.
    """
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _local_date(moment: dt.datetime | dt.date, zone: zoneinfo.ZoneInfo) -> dt.date:
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError(str(ERROR_NAIVE_MOMENT))
        return moment.astimezone(zone).date()
    return moment


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Period:
    """The local days [first_day, end_day) of a time zone: the moments [start, end)."""

    first_day: dt.date
    end_day: dt.date
    zone: zoneinfo.ZoneInfo
    kind: Kind = Kind.DAYS

    def __post_init__(self) -> None:
        if self.end_day <= self.first_day:
            raise ValueError(str(ERROR_EMPTY_PERIOD))

    # --- constructors ---------------------------------------------------------------------------

    @classmethod
    def day(cls, day: dt.date | dt.datetime, *, zone: zoneinfo.ZoneInfo) -> Period:
        """Return the local day of ``day`` (a date, or an aware moment read in the zone)."""
        first = _local_date(day, zone)
        return cls(first, first + dt.timedelta(days=1), zone, Kind.DAY)

    @classmethod
    def week(cls, day: dt.date | dt.datetime, *, zone: zoneinfo.ZoneInfo) -> Period:
        """Return the local week (Monday to Sunday) that contains ``day``."""
        local = _local_date(day, zone)
        first = local - dt.timedelta(days=local.weekday())
        return cls(first, first + dt.timedelta(days=7), zone, Kind.WEEK)

    @classmethod
    def month(cls, year: int, month: int, *, zone: zoneinfo.ZoneInfo) -> Period:
        """Return a calendar month of the zone."""
        first = dt.date(year, month, 1)
        return cls(first, _next_month(first), zone, Kind.MONTH)

    @classmethod
    def month_of(cls, day: dt.date | dt.datetime, *, zone: zoneinfo.ZoneInfo) -> Period:
        """Return the local calendar month that contains ``day``."""
        first = _month_start(_local_date(day, zone))
        return cls(first, _next_month(first), zone, Kind.MONTH)

    @classmethod
    def days(cls, first_day: dt.date, last_day: dt.date, *, zone: zoneinfo.ZoneInfo) -> Period:
        """Return the local days from ``first_day`` to ``last_day``, both included."""
        return cls(first_day, last_day + dt.timedelta(days=1), zone, Kind.DAYS)

    @classmethod
    def last_complete(cls, kind: Kind, *, now: dt.datetime, zone: zoneinfo.ZoneInfo) -> Period:
        """Return the last whole day, week or month before the one ``now`` falls in (for reports)."""
        builders = {Kind.DAY: cls.day, Kind.WEEK: cls.week, Kind.MONTH: cls.month_of}
        if kind not in builders:
            raise ValueError(f"No complete period of kind {kind!r}.")
        return builders[kind](now, zone=zone).previous()

    # --- the moments ----------------------------------------------------------------------------

    @property
    def start(self) -> dt.datetime:
        """Return the first moment of the period (aware, UTC)."""
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> dt.datetime:
        """Return the first moment after the period (aware, UTC)."""
        return local_midnight(self.end_day, self.zone)

    @property
    def last_day(self) -> dt.date:
        return self.end_day - dt.timedelta(days=1)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end

    # --- neighbours and parts -------------------------------------------------------------------

    def previous(self) -> Period:
        """Return the period of the same kind just before this one (for a month, the previous month)."""
        if self.kind == Kind.MONTH:
            first = _month_start(self.first_day - dt.timedelta(days=1))
            return Period(first, self.first_day, self.zone, Kind.MONTH)
        length = self.end_day - self.first_day
        return Period(self.first_day - length, self.first_day, self.zone, self.kind)

    def local_days(self) -> Iterator[dt.date]:
        """Yield every local date of the period, in order."""
        day = self.first_day
        while day < self.end_day:
            yield day
            day += dt.timedelta(days=1)

    def day_periods(self) -> Iterator[Period]:
        """Yield each local day of the period as a period of its own."""
        for day in self.local_days():
            yield Period.day(day, zone=self.zone)

    def __str__(self) -> str:
        if self.kind == Kind.DAY:
            return f"{self.first_day:%Y-%m-%d}"
        if self.kind == Kind.MONTH:
            return f"{self.first_day:%Y-%m}"
        return f"{self.first_day:%Y-%m-%d}–{self.last_day:%Y-%m-%d}"
