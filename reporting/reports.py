"""The weekly and monthly reports: the tenant's figures against its targets, ready to render.

``build_report`` gathers a tenant's figures for a period and the one before it (from
``reporting.kpis``), the lists (wall of fame, escalations, leads), the charts and the CSV files,
and formats every number, date and time in the tenant's language and time zone. The e-mail
(``reporting.emails``) and the admin preview render the same ``Report``.

A monthly report also shows the staffing coverage of the month (``reporting.coverage``) when agents
trained for the tenant had shifts in it: the share of live chats that came in hours with enough
agents on shift, the hours that were short, the pooling saving when the tenant's agents serve other
tenants too (the agent-hours the shared team needed less than separate teams would have), and the
figures per hour of the week as a CSV file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from reporting import charts, kpis, selectors
from reporting.coverage import StaffingCoverage, UnderstaffedRun, staffing_coverage
from reporting.formatting import NO_FIGURE, count, percent, seconds, whole_seconds
from reporting.headlines import Headline, comparison_text, headlines
from reporting.models import ReportDelivery
from reporting.periods import Kind, Period
from tenants.models import Tenant

ReportKind = ReportDelivery.Kind
PERIOD_KINDS = {ReportKind.WEEKLY: Kind.WEEK, ReportKind.MONTHLY: Kind.MONTH}
LIST_LIMIT = 50
STAFFING_LIST_LIMIT = 5
TEXT_LIMIT = 300


# --- Periods of a report --------------------------------------------------------------------------


def report_period(*, tenant: Tenant, kind: str, day: dt.date) -> Period:
    """Return the week (Monday to Sunday) or calendar month of the tenant that contains ``day``."""
    if kind == ReportKind.WEEKLY:
        return Period.week(day, zone=tenant.zone)
    if kind == ReportKind.MONTHLY:
        return Period.month_of(day, zone=tenant.zone)
    raise ValueError(f"Unknown kind of report: {kind!r}")


def last_complete_period(*, tenant: Tenant, kind: str, now: dt.datetime) -> Period:
    """Return the last whole week or month of the tenant before ``now`` (read in its time zone)."""
    return Period.last_complete(PERIOD_KINDS[kind], now=now, zone=tenant.zone)


@contextmanager
def tenant_locale(tenant: Tenant) -> Iterator[None]:
    """Format and translate in the tenant's language and time zone inside the block."""
    with translation.override(tenant.language), timezone.override(tenant.zone):
        yield


# --- The report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBlock:
    title: str
    note: str
    chart: charts.Chart


@dataclass(frozen=True)
class FameEntry:
    stars: str
    rating: int
    comment: str
    agent: str
    when: str


@dataclass(frozen=True)
class EscalationEntry:
    when: str
    visitor: str
    summary: str
    conversation_id: int


@dataclass(frozen=True)
class LeadEntry:
    when: str
    name: str
    email: str
    phone: str
    wants: str


@dataclass(frozen=True)
class DayRow:
    day: str
    chats: str
    first_response_median: str


@dataclass(frozen=True)
class StaffingRow:
    """Understaffed hours of one weekday, e.g. "Friday 19–21" and "2.0 agents on shift on average, 3 needed"."""

    when: str
    figures: str


@dataclass(frozen=True)
class StaffingSection:
    """The monthly report's staffing coverage, in words."""

    headline: str
    summary: str
    rows: list[StaffingRow]
    rows_not_listed: int
    note: str
    pooling: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "text/csv"


@dataclass(frozen=True)
class Report:
    """A tenant's report for one period, every text already in the tenant's language."""

    tenant: Tenant
    kind: str
    period: Period
    previous_period: Period
    figures: kpis.TenantKpis
    previous_figures: kpis.TenantKpis
    language: str
    subject: str
    title: str
    period_label: str
    previous_label: str
    comparison: str
    headlines: list[Headline]
    charts: list[ChartBlock]
    wall_of_fame: list[FameEntry]
    escalations: list[EscalationEntry]
    escalations_not_listed: int
    leads: list[LeadEntry]
    leads_not_listed: int
    daily: list[DayRow] = field(default_factory=list)
    staffing: StaffingSection | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def is_monthly(self) -> bool:
        return self.kind == ReportKind.MONTHLY


# --- Charts ---------------------------------------------------------------------------------------


def _weekday_names(form: str = "D") -> list[str]:
    """Return the weekday names Monday first, short ("D") or in full ("l")."""
    monday = dt.date(2024, 1, 1)
    return [date_format(monday + dt.timedelta(days=offset), form) for offset in range(7)]


def _chats_per_day_chart(report_kind: str, figures: kpis.TenantKpis) -> ChartBlock:
    days = figures.daily
    day_format = "D j" if report_kind == ReportKind.WEEKLY else "j"
    labels = [date_format(day.day, day_format) for day in days]
    alt = ", ".join(f"{label}: {count(day.chats)}" for label, day in zip(labels, days, strict=True))
    chart = charts.chats_per_day(counts=[day.chats for day in days], labels=labels, alt=_("Chats per day") + ": " + alt)
    return ChartBlock(title=_("Chats per day"), note="", chart=chart)


def _heat_map_chart(figures: kpis.TenantKpis, zone_name: str) -> ChartBlock:
    matrix = figures.chats_by_weekday_hour
    names = _weekday_names()
    busiest = max(((value, weekday, hour) for weekday, row in enumerate(matrix) for hour, value in enumerate(row)))
    value, weekday, hour = busiest
    if value:
        alt = _(
            "Chats by weekday and hour; the busiest hour was %(weekday)s %(hour)02d–%(next)02d with %(count)s chats."
        ) % {
            "weekday": names[weekday],
            "hour": hour,
            "next": (hour + 1) % 24,
            "count": count(value),
        }
    else:
        alt = _("Chats by weekday and hour: no chats.")
    chart = charts.hour_weekday_heat_map(matrix=matrix, weekday_labels=names, alt=alt)
    note = _("Local time (%(zone)s); %(share)s of the chats came outside 9–17.") % {
        "zone": zone_name,
        "share": percent(figures.share_outside_office_hours),
    }
    return ChartBlock(title=_("Chats by weekday and hour"), note=note, chart=chart)


def _band_label(band: kpis.Band) -> str:
    if band.above is None:
        return f"0–{band.up_to}"
    if band.up_to is None:
        return f"> {band.above}"
    return f"{band.above}–{band.up_to}"


def _first_response_chart(tenant: Tenant, period: Period, figures: kpis.TenantKpis) -> ChartBlock:
    bands = kpis.first_response_bands(tenant, period)
    labels = [_band_label(band) for band in bands]
    alt = (
        _("First response times in seconds")
        + ": "
        + ", ".join(f"{label}: {count(band.chats)}" for label, band in zip(labels, bands, strict=True))
    )
    chart = charts.first_response_distribution(
        counts=[band.chats for band in bands],
        labels=labels,
        within_target=[band.within_target for band in bands],
        alt=alt,
    )
    note = _("Answered chats by seconds to the first answer; green is within the target of %(target)s.") % {
        "target": whole_seconds(figures.first_response_target_seconds)
    }
    return ChartBlock(title=_("First response times"), note=note, chart=chart)


# --- Staffing coverage ----------------------------------------------------------------------------


def _agents(value: float) -> str:
    """Return a mean number of agents with one decimal, e.g. "2.5"."""
    return number_format(round(value, 1), 1)


def _staffing_row(run: UnderstaffedRun, weekdays: list[str]) -> StaffingRow:
    # Translators: a weekday and local hours, e.g. "Friday 19–21" for 19:00 to 21:00.
    when = _("%(weekday)s %(start)02d–%(end)02d") % {
        "weekday": weekdays[run.weekday],
        "start": run.first_hour,
        "end": run.end_hour % 24,
    }
    values = {"scheduled": _agents(run.scheduled), "needed": count(run.needed)}
    if run.team:
        # Translators: "scheduled" is a mean with one decimal (e.g. 2.0); the team also answers other clients' chats.
        figures = (
            _("%(scheduled)s agents on shift on average in the team shared with other clients, %(needed)s needed")
            % values
        )
    else:
        # Translators: "scheduled" is a mean with one decimal (e.g. 2.0), so "agents" can take the form for fractions.
        figures = _("%(scheduled)s agents on shift on average, %(needed)s needed") % values
    chats = ngettext("%(count)s chat", "%(count)s chats", run.live_chats) % {"count": count(run.live_chats)}
    return StaffingRow(when=when, figures=f"{figures} ({chats})")


def _staffing_headline(coverage: StaffingCoverage) -> str:
    if coverage.covered_share is None:
        return _("No live chats came in this month.")
    return _("%(share)s of the chats came in hours that were fully staffed.") % {
        "share": percent(coverage.covered_share)
    }


def _staffing_summary(understaffed: int) -> str:
    if not understaffed:
        return _("Every hour of the week had at least as many agents on shift as needed.")
    return ngettext(
        "%(count)d hour of the week had fewer agents on shift than needed; where it mattered most:",
        "%(count)d hours of the week had fewer agents on shift than needed; where it mattered most:",
        understaffed,
    ) % {"count": understaffed}


def _staffing_pooling(coverage: StaffingCoverage) -> str:
    """Return the pooling saving in a sentence, or "" when the tenant's agents serve no one else or it saved nothing."""
    saving, separate = coverage.pooling_saving_agent_hours, coverage.separate_agent_hours
    if not coverage.shares_agents or saving <= 0:
        return ""
    return ngettext(
        "The agents who answer your chats also serve other clients, as one team. To meet every client's target "
        "it needed %(saving)s agent hour fewer this month than a separate team for each client would have "
        "(%(percent)s less).",
        "The agents who answer your chats also serve other clients, as one team. To meet every client's target "
        "it needed %(saving)s agent hours fewer this month than a separate team for each client would have "
        "(%(percent)s less).",
        saving,
    ) % {"saving": count(saving), "percent": percent(saving / separate)}


def _staffing_note(coverage: StaffingCoverage) -> str:
    concurrency = round(coverage.concurrency, 1)
    return _(
        "For each hour of the week, the agents on shift for you (on average over the month) are compared with "
        "the agents needed to answer %(share)s of chats within your target of %(target)s. The agents needed "
        "follow from the chats that came in during that hour, a handling time of %(handle)s per chat and the "
        "number of chats an agent may hold at once (%(concurrency)s on average), by the standard queueing "
        "formula of contact centres (Erlang C), with time for breaks and training. Messages left outside "
        "service hours are not counted. An agent who also serves other clients counts once: an hour is fully "
        "staffed when the agents trained for you are enough for your chats and their whole team is enough for "
        "all the chats it answers."
    ) % {
        "share": percent(coverage.target_share),
        "target": whole_seconds(coverage.target_seconds),
        "handle": whole_seconds(round(coverage.handle_seconds)),
        "concurrency": number_format(concurrency, 0 if concurrency.is_integer() else 1),
    }


def staffing_section(coverage: StaffingCoverage) -> StaffingSection:
    """Return the staffing coverage in words: the headline, the worst understaffed hours and how it is worked out."""
    runs = coverage.understaffed_runs()
    weekdays = _weekday_names("l")
    return StaffingSection(
        headline=_staffing_headline(coverage),
        summary=_staffing_summary(len(coverage.understaffed_hours)),
        rows=[_staffing_row(run, weekdays) for run in runs[:STAFFING_LIST_LIMIT]],
        rows_not_listed=max(0, len(runs) - STAFFING_LIST_LIMIT),
        note=_staffing_note(coverage),
        pooling=_staffing_pooling(coverage),
    )


# --- Lists ----------------------------------------------------------------------------------------


def _local_time(moment: dt.datetime | None) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else NO_FIGURE


def _short(text: str) -> str:
    return Truncator(text.strip()).chars(TEXT_LIMIT)


def _fame(tenant: Tenant, period: Period) -> list[FameEntry]:
    return [
        FameEntry(
            stars="★" * conversation.rating + "☆" * (5 - conversation.rating),
            rating=conversation.rating,
            comment=_short(conversation.rating_comment),
            agent=str(conversation.agent) if conversation.agent else "",
            when=_local_time(conversation.started_at),
        )
        for conversation in selectors.wall_of_fame(tenant=tenant, period=period)
    ]


def _escalations(tenant: Tenant, period: Period) -> list[EscalationEntry]:
    entries = []
    for conversation in selectors.escalations(tenant=tenant, period=period):
        handoff = getattr(conversation, "handoff", None)
        entries.append(
            EscalationEntry(
                when=_local_time(conversation.started_at),
                visitor=(handoff.visitor_name if handoff else "") or conversation.visitor.name or _("a visitor"),
                summary=_short(handoff.summary if handoff else conversation.summary),
                conversation_id=conversation.pk,
            )
        )
    return entries


def _leads(tenant: Tenant, period: Period) -> list[LeadEntry]:
    return [
        LeadEntry(
            when=_local_time(lead.conversation.started_at),
            name=lead.name,
            email=lead.email,
            phone=lead.phone,
            wants=_short(lead.wants),
        )
        for lead in selectors.leads(tenant=tenant, period=period)
    ]


def _daily_rows(figures: kpis.TenantKpis) -> list[DayRow]:
    return [
        DayRow(
            day=date_format(day.day, "D ") + date_format(day.day, "SHORT_DATE_FORMAT"),
            chats=count(day.chats),
            first_response_median=seconds(day.first_response_median),
        )
        for day in figures.daily
    ]


# --- CSV ------------------------------------------------------------------------------------------

# The figures a spreadsheet gets: stable column keys (for formulas and imports) and a translated name.
CSV_FIGURES: list[tuple[str, Promise, Callable[[kpis.TenantKpis], float | int | None]]] = [
    ("open_days", gettext_lazy("Open days (from go-live)"), lambda f: f.open_days),
    ("visitors", gettext_lazy("Visitors"), lambda f: f.visitors),
    ("returning_visitors", gettext_lazy("Returning visitors"), lambda f: f.returning_visitors),
    ("chats", gettext_lazy("Chats"), lambda f: f.chats),
    ("chatting_visitors", gettext_lazy("Visitors who chatted"), lambda f: f.chatting_visitors),
    ("chat_rate_percent", gettext_lazy("Chat rate (%)"), lambda f: f.chat_rate),
    ("reactive_chats", gettext_lazy("Chats started by the visitor"), lambda f: f.reactive_chats),
    ("proactive_chats", gettext_lazy("Chats from an invitation"), lambda f: f.proactive_chats),
    ("offline_messages", gettext_lazy("Messages outside service hours"), lambda f: f.offline_messages),
    ("answered_chats", gettext_lazy("Answered chats"), lambda f: f.answered_chats),
    ("chats_to_answer", gettext_lazy("Chats to answer (answered or missed)"), lambda f: f.chats_to_answer),
    ("first_response_median_seconds", gettext_lazy("First response, median (s)"), lambda f: f.first_response_median),
    ("first_response_p90_seconds", gettext_lazy("First response, 90th percentile (s)"), lambda f: f.first_response_p90),
    (
        "first_response_target_seconds",
        gettext_lazy("First response target (s)"),
        lambda f: f.first_response_target_seconds,
    ),
    ("within_target_percent", gettext_lazy("Answered within the target (%)"), lambda f: f.share_within_target),
    (
        "first_response_goal_percent",
        gettext_lazy("First response goal: answered within the target (%)"),
        lambda f: f.first_response_goal_percent,
    ),
    ("missed_chats", gettext_lazy("Missed chats"), lambda f: f.missed_chats),
    ("visitor_left_chats", gettext_lazy("Chats the visitor left"), lambda f: f.visitor_left_chats),
    ("closed_chats", gettext_lazy("Closed chats"), lambda f: f.closed_chats),
    ("closed_live_chats", gettext_lazy("Closed live chats"), lambda f: f.closed_live_chats),
    ("resolved_chats", gettext_lazy("Resolved live chats"), lambda f: f.resolved_chats),
    ("resolution_rate_percent", gettext_lazy("Resolution rate (%)"), lambda f: f.resolution_rate),
    ("resolution_target_percent", gettext_lazy("Resolution target (%)"), lambda f: f.resolution_target_percent),
    ("closed_offline_messages", gettext_lazy("Closed offline messages"), lambda f: f.closed_offline_messages),
    ("resolved_offline_messages", gettext_lazy("Resolved offline messages"), lambda f: f.resolved_offline_messages),
    (
        "offline_resolution_rate_percent",
        gettext_lazy("Offline messages resolved (%)"),
        lambda f: f.offline_resolution_rate,
    ),
    ("escalated_chats", gettext_lazy("Escalations"), lambda f: f.escalated_chats),
    ("escalation_rate_percent", gettext_lazy("Escalation rate (%)"), lambda f: f.escalation_rate),
    ("rated_chats", gettext_lazy("Rated chats"), lambda f: f.rated_chats),
    ("csat_percent", gettext_lazy("Customer satisfaction (%)"), lambda f: f.csat),
    ("ratable_chats", gettext_lazy("Chats that could be rated"), lambda f: f.ratable_chats),
    ("csat_response_rate_percent", gettext_lazy("Rating response rate (%)"), lambda f: f.csat_response_rate),
    ("leads", gettext_lazy("Leads"), lambda f: f.leads),
    ("outside_office_hours_percent", gettext_lazy("Chats outside 9–17 (%)"), lambda f: f.share_outside_office_hours),
    ("average_handle_seconds", gettext_lazy("Average handle time (s)"), lambda f: f.average_handle_seconds),
    (
        "average_concurrent_chats",
        gettext_lazy("Average concurrent chats per agent"),
        lambda f: f.average_concurrent_chats,
    ),
]


# The staffing coverage figures of a monthly report (``reporting.coverage``), after the KPIs.
CSV_STAFFING_FIGURES: list[tuple[str, Promise, Callable[[StaffingCoverage], float | int | None]]] = [
    (
        "staffing_covered_percent",
        gettext_lazy("Live chats in fully staffed hours (%)"),
        lambda c: c.covered_share,
    ),
    (
        "staffing_understaffed_hours",
        gettext_lazy("Hours of the week with fewer agents on shift than needed"),
        lambda c: len(c.understaffed_hours),
    ),
    ("staffing_agent_hours", gettext_lazy("Agent hours on shift"), lambda c: c.agent_hours),
    (
        "staffing_pooling_saving_agent_hours",
        gettext_lazy("Agent hours saved by the team shared with other clients"),
        lambda c: c.pooling_saving_agent_hours if c.shares_agents else None,
    ),
    (
        "staffing_agent_hours_without_chats",
        gettext_lazy("Agent hours on shift in hours of the week without live chats"),
        lambda c: c.agent_hours_without_chats,
    ),
]


def _csv_value(key: str, value: float | int | None) -> str:
    """Return a plain, machine-readable value: dot decimals, rates as percentages, empty for none."""
    if value is None:
        return ""
    if key.endswith("_percent") and isinstance(value, float):
        value = value * 100
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    # The byte order mark makes spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def figures_csv(
    now: kpis.TenantKpis,
    before: kpis.TenantKpis,
    *,
    coverage: StaffingCoverage | None = None,
    previous_coverage: StaffingCoverage | None = None,
) -> bytes:
    """Return the period's and the previous period's figures as CSV, one figure per row.

    With the period's staffing coverage, its figures follow (empty for a previous period without shifts).
    """
    rows = [
        [
            _("key"),
            _("figure"),
            f"{now.period.first_day.isoformat()}/{now.period.last_day.isoformat()}",
            f"{before.period.first_day.isoformat()}/{before.period.last_day.isoformat()}",
        ]
    ]
    for key, label, read in CSV_FIGURES:
        rows.append([key, str(label), _csv_value(key, read(now)), _csv_value(key, read(before))])
    if coverage is not None:
        for key, label, read_coverage in CSV_STAFFING_FIGURES:
            earlier = read_coverage(previous_coverage) if previous_coverage is not None else None
            rows.append([key, str(label), _csv_value(key, read_coverage(coverage)), _csv_value(key, earlier)])
    return _csv_bytes(rows)


def daily_csv(figures: kpis.TenantKpis) -> bytes:
    """Return the period's chats and first response median per local day as CSV."""
    rows = [[_("day"), _("chats"), _("first response, median (s)")]]
    rows += [[day.day.isoformat(), str(day.chats), _csv_value("", day.first_response_median)] for day in figures.daily]
    return _csv_bytes(rows)


def staffing_csv(coverage: StaffingCoverage) -> bytes:
    """Return the staffing coverage per local weekday and hour as CSV (means per hour, two decimals)."""
    rows = [
        [
            _("weekday (1 = Monday)"),
            _("hour"),
            _("times in the period"),
            _("live chats"),
            _("agents needed"),
            _("your part of the agents on shift, average"),
            _("agents short, average"),
            _("agents trained for you on shift, average"),
            _("shared team: agents needed, each client apart"),
            _("shared team: agents needed together"),
            _("shared team: agents on shift, average"),
        ]
    ]
    rows += [
        [
            str(cell.weekday + 1),
            str(cell.hour),
            str(cell.occurrences),
            str(cell.live_chats),
            str(cell.needed),
            f"{cell.scheduled:.2f}",
            f"{cell.short:.2f}",
            f"{cell.trained_on_shift:.2f}",
            "" if cell.team_separate is None else str(cell.team_separate),
            "" if cell.team_needed is None else str(cell.team_needed),
            "" if cell.team_on_shift is None else f"{cell.team_on_shift:.2f}",
        ]
        for cell in coverage.hours
    ]
    return _csv_bytes(rows)


# --- Building -------------------------------------------------------------------------------------


def _period_label(kind: str, period: Period) -> str:
    if kind == ReportKind.MONTHLY:
        return date_format(period.first_day, "YEAR_MONTH_FORMAT")
    return f"{date_format(period.first_day, 'SHORT_DATE_FORMAT')}–{date_format(period.last_day, 'SHORT_DATE_FORMAT')}"


def _subject(tenant: Tenant, kind: str, period_label: str) -> str:
    name = " ".join(tenant.name.split())
    if kind == ReportKind.MONTHLY:
        return _("%(tenant)s: monthly chat report, %(period)s") % {"tenant": name, "period": period_label}
    return _("%(tenant)s: weekly chat report, %(period)s") % {"tenant": name, "period": period_label}


def build_report(*, tenant: Tenant, kind: str, period: Period) -> Report:
    """Return the tenant's report of this kind for the period, in the tenant's language and time zone."""
    previous = period.previous()
    now_figures = kpis.kpis_for_tenant(tenant, period)
    before_figures = kpis.kpis_for_tenant(tenant, previous)
    coverage = previous_coverage = None
    if kind == ReportKind.MONTHLY:
        coverage = staffing_coverage(tenant, period, figures=now_figures)
    if coverage is not None:
        previous_coverage = staffing_coverage(tenant, previous, figures=before_figures)
    with tenant_locale(tenant):
        period_label = _period_label(kind, period)
        previous_label = _("previous month") if kind == ReportKind.MONTHLY else _("previous week")
        escalations = _escalations(tenant, period)
        leads = _leads(tenant, period)
        slug = f"{tenant.slug}-{period.first_day.isoformat()}"
        # Translators: part of a CSV file's name; keep it one lower-case word without spaces.
        figures_name, daily_name, staffing_name = _("figures"), _("daily"), _("staffing")
        figures = figures_csv(now_figures, before_figures, coverage=coverage, previous_coverage=previous_coverage)
        attachments = [Attachment(filename=f"{slug}-{figures_name}.csv", content=figures)]
        chart_blocks = [_chats_per_day_chart(kind, now_figures), _heat_map_chart(now_figures, tenant.time_zone)]
        chart_blocks.append(_first_response_chart(tenant, period, now_figures))
        daily: list[DayRow] = []
        if kind == ReportKind.MONTHLY:
            daily = _daily_rows(now_figures)
            attachments.append(Attachment(filename=f"{slug}-{daily_name}.csv", content=daily_csv(now_figures)))
        staffing = staffing_section(coverage) if coverage is not None else None
        if coverage is not None:
            attachments.append(Attachment(filename=f"{slug}-{staffing_name}.csv", content=staffing_csv(coverage)))
        return Report(
            tenant=tenant,
            kind=kind,
            period=period,
            previous_period=previous,
            figures=now_figures,
            previous_figures=before_figures,
            language=tenant.language,
            subject=_subject(tenant, kind, period_label),
            title=_("Monthly chat report") if kind == ReportKind.MONTHLY else _("Weekly chat report"),
            period_label=period_label,
            previous_label=previous_label,
            comparison=comparison_text(now_figures, before_figures, previous_label=previous_label),
            headlines=headlines(now_figures, before_figures),
            charts=chart_blocks,
            wall_of_fame=_fame(tenant, period),
            escalations=escalations[:LIST_LIMIT],
            escalations_not_listed=max(0, len(escalations) - LIST_LIMIT),
            leads=leads[:LIST_LIMIT],
            leads_not_listed=max(0, len(leads) - LIST_LIMIT),
            daily=daily,
            staffing=staffing,
            attachments=attachments,
        )
