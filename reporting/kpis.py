"""The KPI definitions: every figure a report, dashboard, the admin or the API shows comes from here.

Periods and time
    A period is whole local days [start, end) of the tenant's time zone (``reporting.periods.Period``);
    "local" below means in the period's zone, which callers take from the tenant. Conversation
    figures count the conversations *started* in the period: each chat belongs to exactly one period
    whatever happened to it later, and one still open when the figures are computed counts as a chat
    but not (yet) as closed, missed or rated. Rates are fractions from 0 to 1; a figure whose
    denominator is zero is None, never 0. Durations are seconds (float).

Visitors and chats
    visitors              distinct visitors with a page view in the period
    returning_visitors    distinct visitors with a page view in the period marked "returning"
                          (a new visit after a pause, ``conversations.visits.record_page_view``)
    chats                 conversations started in the period, every origin
    reactive_chats, proactive_chats, offline_messages
                          chats by origin: visitor started / invitation accepted / message left
                          outside service hours
    chatting_visitors     visitors (above) who started a conversation of any origin in the period
    chat_rate             chatting_visitors / visitors: the share of visitors who chatted. It cannot
                          pass 100 %: a visitor with three chats counts once, and a chat whose
                          visitor had no page view in the period (a page opened the day before)
                          does not count, as that visitor is not among the visitors either
    open_days             the local days of the period from the tenant's go-live day on (every day
                          when it has none yet); the day counts that a partial period is compared by

First response (live chats only: reactive and proactive; an offline message is answered later by
the next shift, so it is neither answered nor missed here)
    first response        the first agent message at or after the visitor's first message
                          (``Conversation.first_agent_reply_at``, which the services set only once the
                          visitor has written): an agent's greeting before the visitor wrote is not a
                          response, and a visitor who then waits 60 s for an answer waited 60 s
    answered_chats        live chats where the visitor wrote and an agent answered (as above)
    first response time   first_agent_reply_at - first_visitor_message_at of an answered chat
    first_response_median, first_response_p90
                          the 50th and 90th percentile of those times, interpolated continuously
                          (PostgreSQL ``percentile_cont``): of n sorted times v[0..n-1] the p-th
                          percentile lies at position p*(n-1), between its neighbours linearly.
                          3, 5, 8, 12, 30 s give median 8 s and p90 v[3.6] = 12 + 0.6*18 = 22.8 s
    answered_within_target, chats_to_answer, share_within_target
                          answered chats whose first response time is at most the tenant's
                          ``first_response_target_seconds``; answered_chats + missed_chats (below);
                          answered_within_target / chats_to_answer: a visitor left unanswered was
                          not answered in time either (leaving them out flatters: 81 % vs 77 %)
    first response target met (``TenantKpis.first_response_target``)
                          when share_within_target reaches the tenant's ``first_response_goal_percent``
                          (default 90 %, the share staffing plans for): answered_within_target * 100
                          >= goal * chats_to_answer, in whole numbers. Never judged on the median,
                          which is shown beside it with the p90. 76 of 100 within 10 s: missed,
                          whatever the median
    missed_chats          live chats where the visitor wrote and that closed without any agent
                          message, unless marked spam: a visitor who waited unanswered and left (the
                          clock closed the chat as "visitor left") was missed too
    visitor_left_chats    chats the live-chat clock closed because their visitor had no page with
                          the chat open for the tenant's set time (outcome "visitor left",
                          ``conversations.timers``), answered or not; counted apart from every
                          figure below (those unanswered are among the missed chats above)

Outcomes (closed: conversations closed with any outcome but spam and visitor left)
    closed_chats          closed conversations, live chats and offline messages
    closed_live_chats, resolved_chats, resolution_rate
                          closed live chats; those with the outcome resolved, lead, booking or sale;
                          resolved_chats / closed_live_chats. Offline messages are answered by the
                          next shift and do not count here. Target met (``TenantKpis.resolution_target``)
                          when resolved_chats * 100 >= ``resolution_target_percent`` * closed_live_chats
    closed_offline_messages, resolved_offline_messages, offline_resolution_rate
                          the same for offline messages, reported apart and without a target
    escalated_chats, escalation_rate
                          outcome escalated; / closed_chats
    rated_chats, satisfied_ratings, csat
                          closed chats with a rating (1-5); those rated 4 or 5; csat = satisfied / rated
    ratable_chats, ratable_chats_rated, csat_response_rate
                          closed live chats that were answered (a visitor can only rate a chat an
                          agent answered: offline messages and missed chats are not ratable); those of
                          them with a rating; csat_response_rate = ratable_chats_rated / ratable_chats
    leads                 chats with the lead outcome whose lead has an e-mail address or a phone

Time of day and workload
    chats_by_weekday_hour chats by local weekday (0 Monday ... 6 Sunday) and local hour (0-23) of
                          their start: a 7 x 24 matrix. On the 25-hour day of a daylight-saving
                          change both 03:xx hours count in hour 3; on the 23-hour day hour 3 has
                          none. chats_by_weekday and chats_by_hour are its row and column sums
    chats_outside_office_hours, share_outside_office_hours
                          chats started before 09:00 or from 17:00 local, any weekday; / chats
    handled_chats, average_handle_seconds
                          closed live chats that had been assigned, any outcome but spam; the mean
                          of closed_at - assigned_at. Offline messages (assigned at night, closed by
                          the next shift) and spam would lengthen it and the agents staffing plans
                          for; ``average_handle_seconds_of`` gives the same figure over any moments
    average_concurrent_chats
                          time-weighted average number of the tenant's chats an agent had open at
                          once while they had at least one open: the summed handle time of the
                          handled chats that have an agent, divided by the agents' summed busy
                          time, an agent's busy time being the union of their chats' intervals
                          [assigned_at, closed_at). Chats 10:00-10:10 and 10:05-10:20 of one agent:
                          25 min over 20 min busy = 1.25. Only the tenant's own chats count, so no
                          tenant's figure depends on, or reveals, another tenant's traffic
    live_chats_by_weekday_hour
                          the same matrix over live chats only (the staffing coverage reads it)
    daily                 every local day of the period with its chats and first response median
    first_response_bands  (``first_response_bands``) answered chats by first response time in bands
                          whose bounds include the tenant's target, so no band straddles it

Rounding and comparing: ``reporting.formatting`` (every page and e-mail shows figures through it).

Queries
    The figures of any number of tenants, each in its own local period, take ``QUERIES`` queries on
    PostgreSQL, each grouped by tenant; all counting, percentiles and local-time bucketing happen in
    the database. The conditions grow with the distinct periods, zones and first-response targets in
    use, not with the tenants; the targets are those of the ``Tenant`` objects given. Visitors of a
    whole local day, week or month come from the tenant's visitor tally when it covers the period
    (``conversations.visitor_tallies``, kept as page views arrive, exactly the same figures), else
    from the page views; both kinds of tenant are answered by the one query. SQLite (the
    embedded default) has no ``percentile_cont``: there one more query fetches only the answered
    chats' first response times, and their percentiles are computed here with the same
    interpolation; SQLite reads moments to the millisecond.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    Exists,
    Expression,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RowRange
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual

from conversations import visitor_tallies
from conversations.models import Conversation, Lead, PageView, VisitorSpan
from conversations.sql import is_postgresql
from reporting.periods import Kind, Period
from reporting.sql import LocalHourOfWeek, PercentileCont, Seconds, percentile, seconds_sql
from tenants.models import Tenant

QUERIES = 5
SPAN_OF_KIND = {Kind.DAY: VisitorSpan.DAY, Kind.WEEK: VisitorSpan.WEEK, Kind.MONTH: VisitorSpan.MONTH}
OFFICE_HOURS = (9, 17)
MEDIAN, P90 = 0.5, 0.9


def ratio(part: int | float, whole: int | float) -> float | None:
    """Return part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


# --- Which conversations count where (see the module docstring) ----------------------------------

Origin, Outcome, Status = Conversation.Origin, Conversation.Outcome, Conversation.Status

FIRST_RESPONSE = Seconds("first_agent_reply_at", "first_visitor_message_at")
OFFLINE = Q(origin=Origin.OFFLINE_MESSAGE)
LIVE = ~OFFLINE
VISITOR_WROTE = Q(first_visitor_message_at__isnull=False)
ANSWERED = LIVE & VISITOR_WROTE & Q(first_agent_reply_at__gte=F("first_visitor_message_at"))
# Closed, but not in the outcome figures: spam, and the chats whose visitor left (counted apart).
SET_APART = Q(outcome__in=(Outcome.SPAM, Outcome.VISITOR_LEFT))
MISSED = LIVE & VISITOR_WROTE & Q(status=Status.CLOSED, first_agent_reply_at__isnull=True) & ~Q(outcome=Outcome.SPAM)
CLOSED = Q(status=Status.CLOSED) & ~SET_APART
VISITOR_LEFT = Q(status=Status.CLOSED, outcome=Outcome.VISITOR_LEFT)
RESOLVED = CLOSED & Q(outcome__in=Conversation.RESOLVED_OUTCOMES)
ESCALATED = CLOSED & Q(outcome=Outcome.ESCALATED)
RATED = CLOSED & Q(rating__isnull=False)
SATISFIED = RATED & Q(rating__gte=4)
RATABLE = CLOSED & ANSWERED
WITH_CONTACT = Q(email__gt="") | Q(phone__gt="")
HANDLED = LIVE & Q(status=Status.CLOSED, assigned_at__isnull=False, closed_at__isnull=False) & ~Q(outcome=Outcome.SPAM)
HANDLE_TIME = Seconds("closed_at", "assigned_at")


def _within_target(tenants: Iterable[Tenant]) -> Q:
    """Answered chats whose first response time is at most their tenant's target.

    One branch per distinct target in use (no join to the tenants), the targets as the tenants given.
    """
    tenants_by_target: dict[int, list[int]] = defaultdict(list)
    for tenant in tenants:
        tenants_by_target[tenant.first_response_target_seconds].append(tenant.pk)
    condition = Q(pk__in=[])
    for target, tenant_ids in tenants_by_target.items():
        condition |= Q(tenant_id__in=tenant_ids) & Q(LessThanOrEqual(FIRST_RESPONSE, Value(float(target))))
    return ANSWERED & condition


def _chatting_visitor(periods: Mapping[int, Period]) -> Q:
    """Chats whose visitor viewed a page in the tenant's period, i.e. is one of the period's visitors."""
    viewed = PageView.objects.filter(_in_periods("viewed_at", periods), visitor_id=OuterRef("visitor_id"))
    return Q(Exists(viewed))


def _leads(tenant_ids: Iterable[int]) -> Q:
    """Chats with the lead outcome whose lead has contact details (a hashed subquery, not a join)."""
    with_contact = Lead.objects.filter(WITH_CONTACT, tenant_id__in=list(tenant_ids)).values("conversation_id")
    return Q(outcome=Outcome.LEAD, pk__in=with_contact)


def _in_periods(field: str, periods: Mapping[int, Period]) -> Q:
    """Rows of each tenant whose ``field`` lies in that tenant's own period.

    Tenants with the same bounds (the same local period in the same zone) share one range, so the
    condition grows with the number of distinct periods, not of tenants.
    """
    tenants_by_bounds: dict[tuple[dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for tenant_id, period in periods.items():
        tenants_by_bounds[period.start, period.end].append(tenant_id)
    condition = Q(pk__in=[])
    for (start, end), tenant_ids in tenants_by_bounds.items():
        condition |= Q(tenant_id__in=tenant_ids, **{f"{field}__gte": start, f"{field}__lt": end})
    if len(tenants_by_bounds) < 2:
        return condition
    # One range around them all as well: it changes no row, but lets PostgreSQL read a (tenant, time)
    # index once instead of OR-ing one bitmap per zone (see docs/performance.md, "KPIs at scale").
    enclosing = Q(
        tenant_id__in=list(periods),
        **{
            f"{field}__gte": min(start for start, _ in tenants_by_bounds),
            f"{field}__lt": max(end for _, end in tenants_by_bounds),
        },
    )
    return enclosing & condition


def _local(
    periods: Mapping[int, Period], build: Callable[[zoneinfo.ZoneInfo], Expression], output_field: Any
) -> Expression:
    """Apply ``build`` in each tenant's zone: one CASE branch per zone in use, none when there is one."""
    tenants_by_zone: dict[zoneinfo.ZoneInfo, list[int]] = defaultdict(list)
    for tenant_id, period in periods.items():
        tenants_by_zone[period.zone].append(tenant_id)
    if len(tenants_by_zone) == 1:
        return build(next(iter(tenants_by_zone)))
    return Case(
        *(When(tenant_id__in=ids, then=build(zone)) for zone, ids in tenants_by_zone.items()),
        output_field=output_field,
    )


def _percentiles_in_database() -> bool:
    return is_postgresql()


# --- Results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    """One local day of a period's daily series."""

    day: dt.date
    chats: int
    first_response_median: float | None


@dataclass(frozen=True)
class Target:
    """A figure held against its goal: ``part`` of ``whole`` must reach ``goal_percent`` per cent.

    The one place a target is judged: in whole numbers (``part * 100 >= goal_percent * whole``), so no
    rounding decides it; None when there is nothing to judge (``whole`` is 0).
    """

    figure: str
    part: int
    whole: int
    goal_percent: int

    @property
    def share(self) -> float | None:
        return ratio(self.part, self.whole)

    @property
    def met(self) -> bool | None:
        if not self.whole:
            return None
        return self.part * 100 >= self.goal_percent * self.whole


@dataclass(frozen=True)
class TenantKpis:
    """Every KPI of one tenant for one period; the module docstring defines each figure."""

    tenant_id: int
    period: Period
    first_response_target_seconds: int
    first_response_goal_percent: int
    resolution_target_percent: int
    open_days: int
    visitors: int
    returning_visitors: int
    chats: int
    chatting_visitors: int
    chat_rate: float | None
    reactive_chats: int
    proactive_chats: int
    offline_messages: int
    answered_chats: int
    first_response_median: float | None
    first_response_p90: float | None
    answered_within_target: int
    chats_to_answer: int
    share_within_target: float | None
    missed_chats: int
    visitor_left_chats: int
    closed_chats: int
    closed_live_chats: int
    resolved_chats: int
    resolution_rate: float | None
    closed_offline_messages: int
    resolved_offline_messages: int
    offline_resolution_rate: float | None
    escalated_chats: int
    escalation_rate: float | None
    rated_chats: int
    satisfied_ratings: int
    csat: float | None
    ratable_chats: int
    ratable_chats_rated: int
    csat_response_rate: float | None
    leads: int
    chats_by_weekday_hour: tuple[tuple[int, ...], ...]
    live_chats_by_weekday_hour: tuple[tuple[int, ...], ...]
    chats_outside_office_hours: int
    share_outside_office_hours: float | None
    handled_chats: int
    average_handle_seconds: float | None
    average_concurrent_chats: float | None
    daily: tuple[DayFigures, ...]

    @property
    def chats_by_hour(self) -> tuple[int, ...]:
        """Return the chats per local hour of day (0-23), all weekdays together."""
        return tuple(sum(row[hour] for row in self.chats_by_weekday_hour) for hour in range(24))

    @property
    def chats_by_weekday(self) -> tuple[int, ...]:
        """Return the chats per local weekday, Monday first."""
        return tuple(sum(row) for row in self.chats_by_weekday_hour)

    @property
    def first_response_target(self) -> Target:
        """Return the first response target: the share answered within the target time against the goal."""
        return Target(
            "share_within_target", self.answered_within_target, self.chats_to_answer, self.first_response_goal_percent
        )

    @property
    def resolution_target(self) -> Target:
        """Return the resolution target: closed live chats resolved in the chat against the tenant's target."""
        return Target("resolution_rate", self.resolved_chats, self.closed_live_chats, self.resolution_target_percent)

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready values (dates and moments in ISO 8601, the zone by name)."""
        figures = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        figures["period"] = {
            "kind": str(self.period.kind),
            "time_zone": self.period.zone.key,
            "first_day": self.period.first_day.isoformat(),
            "last_day": self.period.last_day.isoformat(),
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
        }
        figures["chats_by_weekday_hour"] = [list(row) for row in self.chats_by_weekday_hour]
        figures["live_chats_by_weekday_hour"] = [list(row) for row in self.live_chats_by_weekday_hour]
        figures["daily"] = [
            {"day": day.day.isoformat(), "chats": day.chats, "first_response_median": day.first_response_median}
            for day in self.daily
        ]
        figures["chats_by_hour"] = list(self.chats_by_hour)
        figures["chats_by_weekday"] = list(self.chats_by_weekday)
        figures["meets_first_response_target"] = self.first_response_target.met
        figures["meets_resolution_target"] = self.resolution_target.met
        return figures


# --- Entry points ---------------------------------------------------------------------------------


def kpis_for_tenant(tenant: Tenant, period: Period, *, tallies: bool = True) -> TenantKpis:
    """Return the tenant's KPIs for the period."""
    return kpis_for_tenants([tenant], lambda _tenant: period, tallies=tallies)[tenant.pk]


def kpis_for_tenants(
    tenants: Iterable[Tenant], period_for: Callable[[Tenant], Period], *, tallies: bool = True
) -> dict[int, TenantKpis]:
    """Return each tenant's KPIs for its own period, by tenant id in the order given.

    ``period_for`` gives a tenant's period, normally in the tenant's zone (e.g.
    ``lambda t: Period.month(2026, 10, zone=t.zone)``). The number of queries is ``QUERIES`` (one
    more on SQLite) however many tenants there are. ``tallies=False`` counts visitors from the page
    views even where a visitor tally covers the period (to compare the two, or to time the difference).
    """
    tenants = list(tenants)
    if not tenants:
        return {}
    periods = {tenant.pk: period_for(tenant) for tenant in tenants}
    conversations = Conversation.objects.filter(_in_periods("started_at", periods)).order_by()

    audience = _audience(tenants, periods, tallies=tallies)
    totals = _conversation_totals(conversations, tenants, periods)
    matrices = _weekday_hour_matrices(conversations, periods)
    days = _daily(conversations, periods)
    concurrency = _concurrency(conversations)
    if not _percentiles_in_database():
        _add_percentiles_from_durations(conversations, periods, totals, days)

    return {
        tenant.pk: _assemble(
            tenant=tenant,
            period=periods[tenant.pk],
            audience=audience.get(tenant.pk, {}),
            totals=totals.get(tenant.pk, {}),
            matrices=matrices.get(tenant.pk),
            days=days.get(tenant.pk, {}),
            concurrency=concurrency.get(tenant.pk),
        )
        for tenant in tenants
    }


# --- The queries ----------------------------------------------------------------------------------


def _audience(tenants: Sequence[Tenant], periods: Mapping[int, Period], *, tallies: bool) -> dict[int, dict[str, int]]:
    """Query 1: visitors and returning visitors per tenant, from the tally where it covers the period.

    Tenants whose tally covers their period read one row each; the others count distinct visitors
    over their page views. When there are both, the two parts are one query (UNION ALL).
    """
    covered = [tenant.pk for tenant in tenants if tallies and _tally_covers(tenant, periods[tenant.pk])]
    tallied = {
        tenant_id: (periods[tenant_id].zone.key, SPAN_OF_KIND[periods[tenant_id].kind], periods[tenant_id].first_day)
        for tenant_id in covered
    }
    counted = {tenant_id: period for tenant_id, period in periods.items() if tenant_id not in tallied}
    parts = []
    if counted:
        parts.append(
            PageView.objects.filter(_in_periods("viewed_at", counted))
            .order_by()
            .values("tenant_id")
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                returning_visitors=Count("visitor_id", distinct=True, filter=Q(returning=True)),
            )
            .values_list("tenant_id", "visitors", "returning_visitors")
        )
    if tallied:
        parts.append(visitor_tallies.tallies_for(tallied))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {
        tenant_id: {"visitors": visitors, "returning_visitors": returning} for tenant_id, visitors, returning in rows
    }


def _tally_covers(tenant: Tenant, period: Period) -> bool:
    span = SPAN_OF_KIND.get(period.kind)
    return span is not None and visitor_tallies.covers(tenant, span=span, zone=period.zone, start=period.start)


def _conversation_totals(
    conversations: QuerySet, tenants: Sequence[Tenant], periods: Mapping[int, Period]
) -> dict[int, dict[str, Any]]:
    """Query 2: every count, rate part, percentile and mean over the period's conversations, per tenant."""
    aggregates: dict[str, Any] = {
        "chats": Count("pk"),
        "chatting_visitors": Count("visitor_id", distinct=True, filter=_chatting_visitor(periods)),
        "reactive_chats": Count("pk", filter=Q(origin=Origin.REACTIVE)),
        "proactive_chats": Count("pk", filter=Q(origin=Origin.PROACTIVE)),
        "offline_messages": Count("pk", filter=Q(origin=Origin.OFFLINE_MESSAGE)),
        "answered_chats": Count("pk", filter=ANSWERED),
        "answered_within_target": Count("pk", filter=_within_target(tenants)),
        "missed_chats": Count("pk", filter=MISSED),
        "visitor_left_chats": Count("pk", filter=VISITOR_LEFT),
        "closed_chats": Count("pk", filter=CLOSED),
        "closed_live_chats": Count("pk", filter=CLOSED & LIVE),
        "resolved_chats": Count("pk", filter=RESOLVED & LIVE),
        "closed_offline_messages": Count("pk", filter=CLOSED & OFFLINE),
        "resolved_offline_messages": Count("pk", filter=RESOLVED & OFFLINE),
        "escalated_chats": Count("pk", filter=ESCALATED),
        "rated_chats": Count("pk", filter=RATED),
        "satisfied_ratings": Count("pk", filter=SATISFIED),
        "ratable_chats": Count("pk", filter=RATABLE),
        "ratable_chats_rated": Count("pk", filter=RATABLE & Q(rating__isnull=False)),
        "leads": Count("pk", filter=_leads(tenant.pk for tenant in tenants)),
        "handled_chats": Count("pk", filter=HANDLED),
        "average_handle_seconds": Avg(HANDLE_TIME, filter=HANDLED),
    }
    if _percentiles_in_database():
        aggregates["first_response_median"] = PercentileCont(FIRST_RESPONSE, fraction=MEDIAN, filter=ANSWERED)
        aggregates["first_response_p90"] = PercentileCont(FIRST_RESPONSE, fraction=P90, filter=ANSWERED)
    rows = conversations.values("tenant_id").annotate(**aggregates)
    return {row.pop("tenant_id"): row for row in rows}


Matrix = tuple[tuple[int, ...], ...]
EMPTY_MATRIX: Matrix = tuple(tuple(0 for _hour in range(24)) for _day in range(7))


def _weekday_hour_matrices(conversations: QuerySet, periods: Mapping[int, Period]) -> dict[int, tuple[Matrix, Matrix]]:
    """Query 3: all chats and live chats per tenant, local weekday and local hour of their start."""
    hour_of_week = _local(periods, lambda zone: LocalHourOfWeek("started_at", zone=zone), IntegerField())
    rows = conversations.annotate(local_hour_of_week=hour_of_week).values("tenant_id", "local_hour_of_week")
    every: dict[int, list[list[int]]] = defaultdict(lambda: [[0] * 24 for _ in range(7)])
    live: dict[int, list[list[int]]] = defaultdict(lambda: [[0] * 24 for _ in range(7)])
    for row in rows.annotate(chats=Count("pk"), live_chats=Count("pk", filter=LIVE)):
        weekday, hour = divmod(row["local_hour_of_week"], 24)
        every[row["tenant_id"]][weekday][hour] += row["chats"]
        live[row["tenant_id"]][weekday][hour] += row["live_chats"]
    return {
        tenant_id: (tuple(map(tuple, matrix)), tuple(map(tuple, live[tenant_id])))
        for tenant_id, matrix in every.items()
    }


def _local_day(periods: Mapping[int, Period]) -> Expression:
    return _local(periods, lambda zone: TruncDate("started_at", tzinfo=zone), DateField())


def _daily(conversations: QuerySet, periods: Mapping[int, Period]) -> dict[int, dict[dt.date, dict[str, Any]]]:
    """Query 4: chats and the first response median per tenant and local day."""
    aggregates: dict[str, Any] = {"chats": Count("pk")}
    if _percentiles_in_database():
        aggregates["first_response_median"] = PercentileCont(FIRST_RESPONSE, fraction=MEDIAN, filter=ANSWERED)
    rows = conversations.annotate(local_day=_local_day(periods)).values("tenant_id", "local_day").annotate(**aggregates)
    days: dict[int, dict[dt.date, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        days[row.pop("tenant_id")][row.pop("local_day")] = row
    return days


def _concurrency(conversations: QuerySet) -> dict[int, float | None]:
    """Query 5: the summed handle time over the agents' summed busy time, per tenant.

    Within each agent's chats in order of assignment, a chat adds to the busy time only the part of
    its interval after the latest close among the chats assigned before it (a window function), so
    the sum is the length of the union of the intervals without building the union.
    """
    handled = (
        conversations.filter(HANDLED, agent__isnull=False)
        .annotate(
            owner=F("tenant_id"),
            began=F("assigned_at"),
            ended=F("closed_at"),
            covered_until=Window(
                Max("closed_at"),
                partition_by=[F("tenant_id"), F("agent_id")],
                order_by=[F("assigned_at").asc(), F("pk").asc()],
                frame=RowRange(start=None, end=-1),
            ),
        )
        .values("owner", "began", "ended", "covered_until")
    )
    inner, params = handled.query.sql_with_params()
    whole = seconds_sql(connection.vendor, later="ended", earlier="began")
    rest = seconds_sql(connection.vendor, later="ended", earlier="covered_until")
    sql = f"""
        SELECT owner,
               SUM({whole}),
               SUM(CASE
                       WHEN covered_until IS NULL OR covered_until <= began THEN {whole}
                       WHEN covered_until < ended THEN {rest}
                       ELSE 0
                   END)
        FROM ({inner}) AS handled
        GROUP BY owner
    """  # noqa: S608 - our own SQL around Django's query, whose parameters are passed separately
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {owner: ratio(handle or 0, busy or 0) for owner, handle, busy in cursor.fetchall()}


def _add_percentiles_from_durations(
    conversations: QuerySet,
    periods: Mapping[int, Period],
    totals: dict[int, dict[str, Any]],
    days: dict[int, dict[dt.date, dict[str, Any]]],
) -> None:
    """The SQLite fallback: fetch only the answered chats' first response times and interpolate here."""
    rows = (
        conversations.filter(ANSWERED)
        .annotate(local_day=_local_day(periods), first_response=FIRST_RESPONSE)
        .values_list("tenant_id", "local_day", "first_response")
    )
    by_tenant: dict[int, list[float]] = defaultdict(list)
    by_day: dict[tuple[int, dt.date], list[float]] = defaultdict(list)
    for tenant_id, day, seconds in rows:
        by_tenant[tenant_id].append(seconds)
        by_day[tenant_id, day].append(seconds)
    for tenant_id, figures in totals.items():
        figures["first_response_median"] = percentile(by_tenant[tenant_id], MEDIAN)
        figures["first_response_p90"] = percentile(by_tenant[tenant_id], P90)
    for tenant_id, tenant_days in days.items():
        for day, figures in tenant_days.items():
            figures["first_response_median"] = percentile(by_day.get((tenant_id, day), []), MEDIAN)


# --- Putting one tenant's figures together --------------------------------------------------------


def _assemble(
    *,
    tenant: Tenant,
    period: Period,
    audience: Mapping[str, int],
    totals: Mapping[str, Any],
    matrices: tuple[Matrix, Matrix] | None,
    days: Mapping[dt.date, Mapping[str, Any]],
    concurrency: float | None,
) -> TenantKpis:
    def count(name: str) -> int:
        return totals.get(name) or 0

    matrix, live_matrix = matrices or (EMPTY_MATRIX, EMPTY_MATRIX)
    opens, closes = OFFICE_HOURS
    outside = sum(row[hour] for row in matrix for hour in range(24) if not opens <= hour < closes)
    visitors = audience.get("visitors", 0)
    chats, answered = count("chats"), count("answered_chats")
    closed, rated = count("closed_chats"), count("rated_chats")
    closed_live, closed_offline = count("closed_live_chats"), count("closed_offline_messages")
    daily = tuple(
        DayFigures(
            day=day,
            chats=days.get(day, {}).get("chats", 0),
            first_response_median=days.get(day, {}).get("first_response_median"),
        )
        for day in period.local_days()
    )
    return TenantKpis(
        tenant_id=tenant.pk,
        period=period,
        first_response_target_seconds=tenant.first_response_target_seconds,
        first_response_goal_percent=tenant.first_response_goal_percent,
        resolution_target_percent=tenant.resolution_target_percent,
        open_days=open_days(tenant, period),
        visitors=visitors,
        returning_visitors=audience.get("returning_visitors", 0),
        chats=chats,
        chatting_visitors=count("chatting_visitors"),
        chat_rate=ratio(count("chatting_visitors"), visitors),
        reactive_chats=count("reactive_chats"),
        proactive_chats=count("proactive_chats"),
        offline_messages=count("offline_messages"),
        answered_chats=answered,
        first_response_median=totals.get("first_response_median"),
        first_response_p90=totals.get("first_response_p90"),
        answered_within_target=count("answered_within_target"),
        chats_to_answer=answered + count("missed_chats"),
        share_within_target=ratio(count("answered_within_target"), answered + count("missed_chats")),
        missed_chats=count("missed_chats"),
        visitor_left_chats=count("visitor_left_chats"),
        closed_chats=closed,
        closed_live_chats=closed_live,
        resolved_chats=count("resolved_chats"),
        resolution_rate=ratio(count("resolved_chats"), closed_live),
        closed_offline_messages=closed_offline,
        resolved_offline_messages=count("resolved_offline_messages"),
        offline_resolution_rate=ratio(count("resolved_offline_messages"), closed_offline),
        escalated_chats=count("escalated_chats"),
        escalation_rate=ratio(count("escalated_chats"), closed),
        rated_chats=rated,
        satisfied_ratings=count("satisfied_ratings"),
        csat=ratio(count("satisfied_ratings"), rated),
        ratable_chats=count("ratable_chats"),
        ratable_chats_rated=count("ratable_chats_rated"),
        csat_response_rate=ratio(count("ratable_chats_rated"), count("ratable_chats")),
        leads=count("leads"),
        chats_by_weekday_hour=matrix,
        live_chats_by_weekday_hour=live_matrix,
        chats_outside_office_hours=outside,
        share_outside_office_hours=ratio(outside, chats),
        handled_chats=count("handled_chats"),
        average_handle_seconds=totals.get("average_handle_seconds"),
        average_concurrent_chats=concurrency,
        daily=daily,
    )


# --- Open days, first response bands and handle time over any moments -----------------------------


def served_part(tenant: Tenant, period: Period) -> Period | None:
    """Return the days of the period from the tenant's go-live day on; None if it went live after the period.

    A tenant that has not gone live (no ``went_live_at``) is served the whole period.
    """
    if tenant.went_live_at is None:
        return period
    live_from = tenant.went_live_at.astimezone(period.zone).date()
    if live_from <= period.first_day:
        return period
    if live_from >= period.end_day:
        return None
    return Period(live_from, period.end_day, period.zone, Kind.DAYS)


def open_days(tenant: Tenant, period: Period) -> int:
    """Return the number of local days of the period from the tenant's go-live day on."""
    served = served_part(tenant, period)
    return 0 if served is None else (served.end_day - served.first_day).days


# Upper bounds of the first-response bands, in seconds; the tenant's target is added as a bound.
FIRST_RESPONSE_BOUNDS = (5, 10, 20, 30, 60, 120)


@dataclass(frozen=True)
class Band:
    """Answered chats whose first response took more than ``above`` and at most ``up_to`` seconds."""

    above: int | None
    up_to: int | None
    chats: int
    within_target: bool


def first_response_bounds(target_seconds: int) -> tuple[int, ...]:
    """Return the band bounds, the tenant's target among them so a band never straddles it."""
    return tuple(sorted({*FIRST_RESPONSE_BOUNDS, target_seconds}))


def first_response_bands(tenant: Tenant, period: Period) -> list[Band]:
    """Return the period's answered chats per first-response band, in one query; the last band is open-ended."""
    bounds = first_response_bounds(tenant.first_response_target_seconds)
    lows: Sequence[int | None] = (None, *bounds)
    highs: Sequence[int | None] = (*bounds, None)
    aggregates = {}
    for index, (low, high) in enumerate(zip(lows, highs, strict=True)):
        condition = Q()
        if low is not None:
            condition &= Q(first_response__gt=low)
        if high is not None:
            condition &= Q(first_response__lte=high)
        aggregates[f"band_{index}"] = Count("pk", filter=condition)
    counts = (
        Conversation.objects.for_tenant(tenant)
        .filter(ANSWERED, started_at__gte=period.start, started_at__lt=period.end)
        .annotate(first_response=FIRST_RESPONSE)
        .aggregate(**aggregates)
    )
    target = tenant.first_response_target_seconds
    return [
        Band(above=low, up_to=high, chats=counts[f"band_{index}"], within_target=high is not None and high <= target)
        for index, (low, high) in enumerate(zip(lows, highs, strict=True))
    ]


def average_handle_seconds_of(
    tenants: Iterable[Tenant], *, start: dt.datetime, end: dt.datetime
) -> dict[int, float | None]:
    """Return each tenant's ``average_handle_seconds`` over the chats started in [start, end), in one query."""
    tenant_ids = [tenant.pk for tenant in tenants]
    rows = (
        Conversation.objects.filter(HANDLED, tenant_id__in=tenant_ids, started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("tenant_id")
        .annotate(seconds=Avg(HANDLE_TIME))
    )
    found = {row["tenant_id"]: row["seconds"] for row in rows}
    return {tenant_id: found.get(tenant_id) for tenant_id in tenant_ids}


__all__ = [
    "QUERIES",
    "Band",
    "DayFigures",
    "Period",
    "Target",
    "TenantKpis",
    "average_handle_seconds_of",
    "first_response_bands",
    "kpis_for_tenant",
    "kpis_for_tenants",
    "open_days",
    "percentile",
    "ratio",
    "served_part",
]
