"""A report's headline figures: this period against the previous one and the tenant's targets, in words.

Each headline says the rule it was judged by (a target's rule, or how the two periods were compared).
Whether a target is met is decided in ``reporting.kpis`` (``Target``); the figures are formatted by
``reporting.formatting``, whose changes are worked out from the figures as shown.

Comparing with the previous period
    Rates and times compare as they are. Counts compare as totals when both periods had the same
    number of open days (``TenantKpis.open_days``: days from go-live on), otherwise per open day (a
    tenant that went live on 15 October has 17 open days in October against 30 in November, and
    November's chats are not "+51 %" for that). When the previous period had no open day at all there
    is no comparison, and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reporting import formatting
from reporting.kpis import TenantKpis

NO_FIGURE = formatting.NO_FIGURE


class Basis(StrEnum):
    """How two periods' counts are compared."""

    TOTALS = "totals"
    PER_OPEN_DAY = "per_open_day"
    NONE = "none"


def comparison_basis(now: TenantKpis, before: TenantKpis) -> Basis:
    """Return how the counts of a period and the previous one are compared (see the module docstring)."""
    if not before.open_days or not now.open_days:
        return Basis.NONE
    if now.open_days != before.open_days:
        return Basis.PER_OPEN_DAY
    return Basis.TOTALS


def comparison_text(now: TenantKpis, before: TenantKpis, *, previous_label: str) -> str:
    """Return what was compared, in a sentence the report shows above its headlines."""
    basis = comparison_basis(now, before)
    if basis == Basis.NONE:
        return _("There is no comparison: the chat was not yet live in the %(previous)s.") % {
            "previous": previous_label
        }
    if basis == Basis.PER_OPEN_DAY:
        return _(
            "Counts are compared per open day (days the chat was live): %(now)s in this period, "
            "%(before)s in the %(previous)s. Rates and times are compared as they are."
        ) % {
            "now": formatting.count(now.open_days),
            "before": formatting.count(before.open_days),
            "previous": previous_label,
        }
    return _("Compared with the %(previous)s, %(days)s open days each.") % {
        "previous": previous_label,
        "days": formatting.count(now.open_days),
    }


@dataclass(frozen=True)
class Headline:
    """One headline figure: this period, the previous one, the change, the verdict and the rule behind it."""

    key: str
    label: str
    value: str
    previous: str
    change: str
    rule: str = ""
    verdict: str = ""
    met: bool | None = None


# --- Values ---------------------------------------------------------------------------------------


def _first_response_value(figures: TenantKpis) -> str:
    if not figures.chats_to_answer:
        return _("no answered chats")
    if figures.first_response_median is None:
        return _("%(share)s within %(target)s (none of %(count)s chats answered)") % {
            "share": formatting.target_percent(figures.first_response_target),
            "target": formatting.whole_seconds(figures.first_response_target_seconds),
            "count": formatting.count(figures.chats_to_answer),
        }
    return _("%(share)s within %(target)s (median %(median)s, 90th percentile %(p90)s)") % {
        "share": formatting.target_percent(figures.first_response_target),
        "target": formatting.whole_seconds(figures.first_response_target_seconds),
        "median": formatting.seconds(figures.first_response_median),
        "p90": formatting.seconds(figures.first_response_p90),
    }


def _resolution_value(figures: TenantKpis) -> str:
    if figures.resolution_rate is None:
        return _("no closed live chats")
    return ngettext(
        "%(rate)s of %(closed)s closed live chat",
        "%(rate)s of %(closed)s closed live chats",
        figures.closed_live_chats,
    ) % {
        "rate": formatting.target_percent(figures.resolution_target),
        "closed": formatting.count(figures.closed_live_chats),
    }


def _offline_value(figures: TenantKpis) -> str:
    if figures.offline_resolution_rate is None:
        return _("no closed messages")
    return ngettext(
        "%(rate)s of %(closed)s closed message resolved",
        "%(rate)s of %(closed)s closed messages resolved",
        figures.closed_offline_messages,
    ) % {
        "rate": formatting.percent(figures.offline_resolution_rate),
        "closed": formatting.count(figures.closed_offline_messages),
    }


def _csat_value(figures: TenantKpis) -> str:
    if figures.csat is None:
        return _("no ratings")
    return ngettext(
        "%(csat)s satisfied, %(ratings)s rating (%(response)s of answered chats rated)",
        "%(csat)s satisfied, %(ratings)s ratings (%(response)s of answered chats rated)",
        figures.rated_chats,
    ) % {
        "csat": formatting.percent(figures.csat),
        "ratings": formatting.count(figures.rated_chats),
        "response": formatting.percent(figures.csat_response_rate),
    }


def _chats_value(figures: TenantKpis) -> str:
    if figures.chat_rate is None:
        return formatting.count(figures.chats)
    return _("%(chats)s (%(rate)s of visitors chatted)") % {
        "chats": formatting.count(figures.chats),
        "rate": formatting.percent(figures.chat_rate),
    }


def _escalations_value(figures: TenantKpis) -> str:
    if figures.escalation_rate is None:
        return formatting.count(figures.escalated_chats)
    return _("%(count)s (%(rate)s of closed chats)") % {
        "count": formatting.count(figures.escalated_chats),
        "rate": formatting.percent(figures.escalation_rate),
    }


# --- Counts, compared as the periods allow ---------------------------------------------------------


def _count_headline(
    key: str,
    label: str,
    now: TenantKpis,
    before: TenantKpis,
    read: Callable[[TenantKpis], int],
    value: Callable[[TenantKpis], str] | None = None,
) -> Headline:
    """Return a count's headline, compared in totals, per open day or not at all."""
    value = value or (lambda figures: formatting.count(read(figures)))
    basis = comparison_basis(now, before)
    if basis == Basis.NONE:
        return Headline(key, label, value(now), NO_FIGURE, NO_FIGURE, rule=_("No comparison."))
    if basis == Basis.TOTALS:
        change = formatting.count_change(read(now), read(before))
        return Headline(key, label, value(now), value(before), change, rule=_("Totals compared."))
    return Headline(
        key,
        label,
        f"{value(now)}; {formatting.per_day(read(now), now.open_days)}",
        f"{value(before)}; {formatting.per_day(read(before), before.open_days)}",
        formatting.per_day_change(read(now), now.open_days, read(before), before.open_days),
        rule=_("Compared per open day."),
    )


def _change(before: TenantKpis, change: str) -> str:
    return change if before.open_days else NO_FIGURE


def headlines(now: TenantKpis, before: TenantKpis) -> list[Headline]:
    """Return the headline figures of a period set against the previous one and the tenant's targets."""
    first_response, resolution = now.first_response_target, now.resolution_target
    return [
        Headline(
            key="first_response",
            label=_("First response"),
            value=_first_response_value(now),
            previous=_first_response_value(before),
            change=_change(
                before,
                formatting.joined(
                    formatting.target_change(first_response, before.first_response_target),
                    formatting.seconds_change(now.first_response_median, before.first_response_median),
                ),
            ),
            rule=formatting.first_response_rule(now),
            verdict=formatting.verdict(first_response.met),
            met=first_response.met,
        ),
        Headline(
            key="resolution",
            label=_("Resolved in the chat"),
            value=_resolution_value(now),
            previous=_resolution_value(before),
            change=_change(before, formatting.target_change(resolution, before.resolution_target)),
            rule=formatting.resolution_rule(now),
            verdict=formatting.verdict(resolution.met),
            met=resolution.met,
        ),
        Headline(
            key="offline_messages",
            label=_("Messages left outside service hours"),
            value=_offline_value(now),
            previous=_offline_value(before),
            change=_change(
                before, formatting.points_change(now.offline_resolution_rate, before.offline_resolution_rate)
            ),
            rule=_("Answered by the next shift; shown apart from the live chats, without a target."),
        ),
        Headline(
            key="csat",
            label=_("Customer satisfaction"),
            value=_csat_value(now),
            previous=_csat_value(before),
            change=_change(before, formatting.points_change(now.csat, before.csat)),
            rule=_(
                "Ratings of 4 or 5 out of all ratings (1–5). Rated share: of the closed live chats an agent "
                "answered, the only ones a visitor can rate."
            ),
        ),
        _count_headline("chats", _("Chats"), now, before, lambda f: f.chats, _chats_value),
        _count_headline("visitors", _("Visitors"), now, before, lambda f: f.visitors),
        _count_headline("leads", _("Leads"), now, before, lambda f: f.leads),
        _count_headline(
            "escalations", _("Escalations to you"), now, before, lambda f: f.escalated_chats, _escalations_value
        ),
        _count_headline("missed", _("Missed chats"), now, before, lambda f: f.missed_chats),
    ]
