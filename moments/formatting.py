"""Write a moment for a person: in a named zone, labelled with it, in the active language's format."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone, translation
from django.utils.formats import date_format, time_format

# short: 7.12.2026 6.40 EET · long: 7. joulukuuta 2026 6.40 EET · weekday: ma 7.12.2026 6.40 EET ·
# time: 6.40 EET · date: 7.12.2026 (the local day; a date needs no zone label)
STYLES = ("short", "long", "weekday", "time", "date")
# Languages whose weekday names are common nouns, written small inside a sentence or a line (Django's
# catalogues capitalise them, as names stand alone in a calendar).
LOWERCASE_WEEKDAYS = frozenset({"fi", "pl"})


def _zone(zone: dt.tzinfo | str | None) -> dt.tzinfo:
    if zone is None:
        return timezone.get_current_timezone()
    if isinstance(zone, str):
        return zoneinfo.ZoneInfo(zone)
    return zone


def local_moment(moment: dt.datetime, zone: dt.tzinfo | str | None = None) -> dt.datetime:
    """Return the moment on the clock of the zone (the current zone when none is given)."""
    return timezone.localtime(moment, _zone(zone))


def weekday_name(local: dt.datetime | dt.date, form: str = "l") -> str:
    """Return the day's weekday name in the active language, short ("D") or in full ("l"), as a sentence has it."""
    name = date_format(local, form)
    return name.lower() if translation.get_language() in LOWERCASE_WEEKDAYS else name


def show_day(day: dt.date, form: str = "D") -> str:
    """Return a local day as the active language writes it: its weekday, short ("D") or in full ("l"), and date."""
    return f"{weekday_name(day, form)} {date_format(day, 'SHORT_DATE_FORMAT')}"


def show_moment(
    moment: dt.datetime | None,
    zone: dt.tzinfo | str | None = None,
    *,
    style: str = "short",
    label: bool = True,
    empty: str = "",
) -> str:
    """Return a moment as a person reads it: on the zone's clock, labelled with the zone, in the active language.

    ``zone`` is a tzinfo or a zone name (a tenant's ``zone`` or ``time_zone``); without one, the current zone
    (the server's, or the one a caller activated). ``style`` is one of ``STYLES``. ``label=False`` leaves the
    zone's name out, for lines under a heading that names it (a transcript's times).
    """
    if moment is None:
        return empty
    if style not in STYLES:
        raise ValueError(f"Unknown style {style!r}; use one of {', '.join(STYLES)}.")
    local = local_moment(moment, zone)
    day = date_format(local, "DATE_FORMAT" if style == "long" else "SHORT_DATE_FORMAT")
    if style == "date":
        return day
    clock = time_format(local, "TIME_FORMAT") + (f" {local.tzname()}" if label else "")
    if style == "time":
        return clock
    if style == "weekday":
        return f"{weekday_name(local, 'D')} {day} {clock}"
    return f"{day} {clock}"
