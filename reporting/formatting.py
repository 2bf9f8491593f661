"""Figures as a person reads them, in the active language: the one place reports and dashboards format.

Rounding and comparing
    A rate is shown in whole per cent, rounded half up; a duration in seconds with one decimal; a
    count per day with one decimal. A change is worked out from the figures as shown, so a reader can
    check it: 88 % now against 90 % before is "-2 pt", never the "-1 pt" of an unrounded -1.4. A rate
    that misses its target but would round up to it is shown with one decimal, cut down (89.96 % as
    "89.9 %"), so that the figure and the verdict beside it never disagree; whether a target is met is
    judged once, in ``reporting.kpis.Target``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from reporting.kpis import Target, TenantKpis

NO_FIGURE = "–"
WHOLE, TENTH = Decimal(1), Decimal("0.1")


# --- Shown values ---------------------------------------------------------------------------------


def _decimals(value: Decimal) -> int:
    return max(0, -int(value.as_tuple().exponent))


def _number(value: Decimal) -> str:
    return number_format(value, _decimals(value), force_grouping=True)


def shown_percent(fraction: float | None, *, goal_percent: int | None = None) -> Decimal | None:
    """Return a rate in per cent as shown: whole, half up; below a missed goal never rounded up to it."""
    if fraction is None:
        return None
    exact = Decimal(repr(fraction)) * 100
    shown = exact.quantize(WHOLE, rounding=ROUND_HALF_UP)
    if goal_percent is not None and exact < goal_percent <= shown:
        shown = exact.quantize(TENTH, rounding=ROUND_DOWN)
    return shown


def shown_seconds(value: float | None) -> Decimal | None:
    """Return a duration in seconds as shown: one decimal, half up."""
    return None if value is None else Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def shown_per_day(count: int, days: int) -> Decimal | None:
    """Return a count per day as shown: one decimal, half up; None without days."""
    return (Decimal(count) / days).quantize(TENTH, rounding=ROUND_HALF_UP) if days else None


# --- Texts of one figure --------------------------------------------------------------------------


def count(value: int | None) -> str:
    return NO_FIGURE if value is None else number_format(value, 0, force_grouping=True)


def seconds(value: float | None) -> str:
    shown = shown_seconds(value)
    return NO_FIGURE if shown is None else _("%(seconds)s s") % {"seconds": _number(shown)}


def whole_seconds(value: int) -> str:
    return _("%(seconds)s s") % {"seconds": number_format(value, 0)}


def percent(fraction: float | None, *, goal_percent: int | None = None) -> str:
    shown = shown_percent(fraction, goal_percent=goal_percent)
    return NO_FIGURE if shown is None else _("%(percent)s %%") % {"percent": _number(shown)}


def whole_percent(value: int) -> str:
    return _("%(percent)s %%") % {"percent": number_format(value, 0)}


def per_day(count: int, days: int) -> str:
    shown = shown_per_day(count, days)
    # Translators: a count per day, e.g. "12.5 a day".
    return NO_FIGURE if shown is None else _("%(count)s a day") % {"count": _number(shown)}


def target_percent(target: Target) -> str:
    """Return the share a target judges, never contradicting its verdict (see the module docstring)."""
    return percent(target.share, goal_percent=target.goal_percent)


def clock(seconds: int | None) -> str:
    """Return a wait as m:ss (h:mm:ss from an hour); the page's script counts on in the same format."""
    if seconds is None:
        return NO_FIGURE
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def verdict(met: bool | None) -> str:
    if met is None:
        return ""
    return _("target met") if met else _("target missed")


# --- Targets in words -----------------------------------------------------------------------------


def first_response_rule(figures: TenantKpis) -> str:
    """Return the rule the first response target is judged by, with the tenant's figures."""
    return _(
        "Target met when at least %(goal)s of live chats are answered within %(target)s (the median and "
        "the 90th percentile are shown beside it, not judged)."
    ) % {
        "goal": whole_percent(figures.first_response_goal_percent),
        "target": whole_seconds(figures.first_response_target_seconds),
    }


def resolution_rule(figures: TenantKpis) -> str:
    """Return the rule the resolution target is judged by."""
    return _(
        "Target met when at least %(goal)s of closed live chats are resolved in the chat; messages left "
        "outside service hours, spam and chats the visitor left are not counted."
    ) % {"goal": whole_percent(figures.resolution_target_percent)}


# --- Changes, from the shown figures --------------------------------------------------------------


def _signed(number: str, value: Decimal | int) -> str:
    return ("+" if value > 0 else "\N{MINUS SIGN}" if value < 0 else "±") + number


def _relative(now: Decimal, before: Decimal) -> str:
    relative = ((now - before) / before * 100).quantize(WHOLE, rounding=ROUND_HALF_UP)
    return _signed(_("%(percent)s %%") % {"percent": _number(abs(relative))}, relative)


def count_change(now: int, before: int) -> str:
    """Return e.g. "+12 (+8 %)"; without a previous figure only the difference."""
    difference = now - before
    text = _signed(number_format(abs(difference), 0, force_grouping=True), difference)
    if before:
        text += f" ({_relative(Decimal(now), Decimal(before))})"
    return text


def per_day_change(now: int, now_days: int, before: int, before_days: int) -> str:
    """Return the change of a count per open day, from the shown daily figures, e.g. "+2.5 a day (+25 %)"."""
    shown_now, shown_before = shown_per_day(now, now_days), shown_per_day(before, before_days)
    if shown_now is None or shown_before is None:
        return NO_FIGURE
    difference = shown_now - shown_before
    text = _signed(_("%(count)s a day") % {"count": _number(abs(difference))}, difference)
    if shown_before:
        text += f" ({_relative(shown_now, shown_before)})"
    return text


def seconds_change(now: float | None, before: float | None) -> str:
    """Return the change of a duration, from the shown figures, e.g. "-1.2 s" (with a minus sign)."""
    shown_now, shown_before = shown_seconds(now), shown_seconds(before)
    if shown_now is None or shown_before is None:
        return NO_FIGURE
    difference = shown_now - shown_before
    return _signed(_("%(seconds)s s") % {"seconds": _number(abs(difference))}, difference)


def points_change(
    now: float | None, before: float | None, *, goal_now: int | None = None, goal_before: int | None = None
) -> str:
    """Return the change of a rate in percentage points, from the shown figures, e.g. "+3 pp"."""
    shown_now = shown_percent(now, goal_percent=goal_now)
    shown_before = shown_percent(before, goal_percent=goal_before)
    if shown_now is None or shown_before is None:
        return NO_FIGURE
    difference = shown_now - shown_before
    # Translators: a change in percentage points, e.g. "+3 pp".
    return _signed(pgettext("percentage points", "%(points)s pp") % {"points": _number(abs(difference))}, difference)


def target_change(now: Target, before: Target) -> str:
    """Return the change of a judged share, from the figures as shown beside their verdicts."""
    return points_change(now.share, before.share, goal_now=now.goal_percent, goal_before=before.goal_percent)


def joined(*changes: str) -> str:
    return ", ".join(change for change in changes if change != NO_FIGURE) or NO_FIGURE
