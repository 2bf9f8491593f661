"""``{% moment value zone "short" %}``: a moment in a zone, labelled, in the active language (see moments).

``{{ day|day:"l" }}``: a local day with its weekday, in the active language.
"""

from __future__ import annotations

import datetime as dt

from django import template

from moments.formatting import show_day, show_moment

register = template.Library()


@register.simple_tag
def moment(value: dt.datetime | None, zone: dt.tzinfo | str | None = None, style: str = "short") -> str:
    """Write the moment on the zone's clock (the current zone without one), with the zone's name."""
    return show_moment(value, zone, style=style, empty="–")


@register.filter(name="day")
def day(value: dt.date | None, form: str = "D") -> str:
    """Write a local day with its weekday, short ("D") or in full ("l"), in the active language's date format."""
    return show_day(value, form) if value is not None else "–"
