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
    chat_rate             chats / visitors

First response (live chats only: reactive and proactive; an offline message is answered later by
the next shift, so it is neither answered nor missed here)
    answered_chats        live chats where the visitor wrote and the first agent message came at or
                          after the visitor's first message (an agent's greeting before the visitor
                          wrote is not a response: such a chat has no first response time)
    first response time   first_agent_reply_at - first_visitor_message_at of an answered chat
    first_response_median, first_response_p90
                          the 50th and 90th percentile of those times, interpolated continuously
                          (PostgreSQL ``percentile_cont``): of n sorted times v[0..n-1] the p-th
                          percentile lies at position p*(n-1), between its neighbours linearly.
                          3, 5, 8, 12, 30 s give median 8 s and p90 v[3.6] = 12 + 0.6*18 = 22.8 s
    answered_within_target, share_within_target
                          answered chats whose first response time is at most the tenant's
                          ``first_response_target_seconds``; that count / answered_chats
    missed_chats          live chats where the visitor wrote, closed without any agent message, and
                          not marked spam nor closed as visitor left
    visitor_left_chats    chats the live-chat clock closed because their visitor had no page with
                          the chat open for the tenant's set time (outcome "visitor left",
                          ``conversations.timers``), answered or not; counted apart from every
                          figure below and from the missed chats

Outcomes (over closed_chats: conversations closed with any outcome but spam and visitor left)
    resolved_chats, resolution_rate
                          outcome resolved, lead, booking or sale; / closed_chats. The tenant's
                          ``resolution_target_percent`` is met when the rate * 100 reaches it
    escalated_chats, escalation_rate
                          outcome escalated; / closed_chats
    rated_chats, satisfied_ratings, csat, csat_response_rate
                          closed chats with a rating (1-5); those rated 4 or 5; csat = satisfied /
                          rated; csat_response_rate = rated / closed_chats
    leads                 chats with the lead outcome whose lead has an e-mail address or a phone

Time of day and workload
    chats_by_weekday_hour chats by local weekday (0 Monday ... 6 Sunday) and local hour (0-23) of
                          their start: a 7 x 24 matrix. On the 25-hour day of a daylight-saving
                          change both 03:xx hours count in hour 3; on the 23-hour day hour 3 has
                          none. chats_by_weekday and chats_by_hour are its row and column sums
    chats_outside_office_hours, share_outside_office_hours
                          chats started before 09:00 or from 17:00 local, any weekday; / chats
    handled_chats, average_handle_seconds
                          closed chats that had been assigned (any origin and outcome); the mean of
                          closed_at - assigned_at
    average_concurrent_chats
                          time-weighted average number of the tenant's chats an agent had open at
                          once while they had at least one open: the summed handle time of the
                          handled chats that have an agent, divided by the agents' summed busy
                          time, an agent's busy time being the union of their chats' intervals
                          [assigned_at, closed_at). Chats 10:00-10:10 and 10:05-10:20 of one agent:
                          25 min over 20 min busy = 1.25. Only the tenant's own chats count, so no
                          tenant's figure depends on, or reveals, another tenant's traffic
    daily                 every local day of the period with its chats and first response median

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
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.aggregates import Aggregate
from django.db.models.expressions import RowRange
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.db.models.lookups import LessThanOrEqual

from conversations import visitor_tallies
from conversations.models import Conversation, Lead, PageView, VisitorSpan
from conversations.sql import is_postgresql, seconds_sql
from reporting.periods import Kind, Period
from tenants.models import Tenant

QUERIES = 5
SPAN_OF_KIND = {Kind.DAY: VisitorSpan.DAY, Kind.WEEK: VisitorSpan.WEEK, Kind.MONTH: VisitorSpan.MONTH}
OFFICE_HOURS = (9, 17)
MEDIAN, P90 = 0.5, 0.9

# --- SQL building blocks --------------------------------------------------------------------------


class Seconds(Func):
    """The seconds from ``earlier`` to ``later`` as a float; NULL when either is."""

    output_field = FloatField()
    arity = 2

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)

    def as_sql(self, compiler, connection, **extra_context):
        later, earlier = self.get_source_expressions()
        later_sql, later_params = compiler.compile(later)
        earlier_sql, earlier_params = compiler.compile(earlier)
        sql = seconds_sql(connection.vendor, later=later_sql, earlier=earlier_sql)
        return sql, (*later_params, *earlier_params)


class LocalHourOfWeek(Func):
    """The hour of the week (0 = Monday 00:00-00:59 ... 167 = Sunday 23:xx) of a moment in a zone."""

    output_field = IntegerField()
    arity = 1

    def __init__(self, expression: Any, *, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):
        # Elsewhere (SQLite) Django's own functions convert the moment twice, which is fine there.
        (expression,) = self.get_source_expressions()
        weekday = ExtractIsoWeekDay(expression, tzinfo=self.zone)
        hour = ExtractHour(expression, tzinfo=self.zone)
        return compiler.compile(((weekday - 1) * 24 + hour).resolve_expression(compiler.query))

    def as_postgresql(self, compiler, connection, **extra_context):
        # One conversion per row: whole local hours since 1970-01-01 00:00, a Thursday (72 h after Monday).
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        template = "mod(floor(date_part('epoch', {} AT TIME ZONE %s) / 3600)::bigint + 72, 168)::integer"
        return template.format(sql), (*params, self.zone.key)


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile of a numeric expression (linear interpolation)."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, filter: Q | None = None) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction from 0 to 1.")
        super().__init__(expression, filter=filter, fraction=repr(float(fraction)))

    def as_sqlite(self, compiler, connection, **extra_context):
        raise NotSupportedError("SQLite has no percentile_cont; fetch the values and use percentile().")


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the continuous percentile of the values, as PostgreSQL's percentile_cont; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def ratio(part: int | float, whole: int | float) -> float | None:
    """Return part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


# --- Which conversations count where (see the module docstring) ----------------------------------

Origin, Outcome, Status = Conversation.Origin, Conversation.Outcome, Conversation.Status

FIRST_RESPONSE = Seconds("first_agent_reply_at", "first_visitor_message_at")
LIVE = ~Q(origin=Origin.OFFLINE_MESSAGE)
VISITOR_WROTE = Q(first_visitor_message_at__isnull=False)
ANSWERED = LIVE & VISITOR_WROTE & Q(first_agent_reply_at__gte=F("first_visitor_message_at"))
# Closed, but not in the outcome figures: spam, and the chats whose visitor left (counted apart).
SET_APART = Q(outcome__in=(Outcome.SPAM, Outcome.VISITOR_LEFT))
MISSED = LIVE & VISITOR_WROTE & Q(status=Status.CLOSED, first_agent_reply_at__isnull=True) & ~SET_APART
CLOSED = Q(status=Status.CLOSED) & ~SET_APART
VISITOR_LEFT = Q(status=Status.CLOSED, outcome=Outcome.VISITOR_LEFT)
RESOLVED = CLOSED & Q(outcome__in=Conversation.RESOLVED_OUTCOMES)
ESCALATED = CLOSED & Q(outcome=Outcome.ESCALATED)
RATED = CLOSED & Q(rating__isnull=False)
SATISFIED = RATED & Q(rating__gte=4)
WITH_CONTACT = Q(email__gt="") | Q(phone__gt="")
HANDLED = Q(status=Status.CLOSED, assigned_at__isnull=False, closed_at__isnull=False)


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
class TenantKpis:
    """Every KPI of one tenant for one period; the module docstring defines each figure."""

    tenant_id: int
    period: Period
    first_response_target_seconds: int
    resolution_target_percent: int
    visitors: int
    returning_visitors: int
    chats: int
    chat_rate: float | None
    reactive_chats: int
    proactive_chats: int
    offline_messages: int
    answered_chats: int
    first_response_median: float | None
    first_response_p90: float | None
    answered_within_target: int
    share_within_target: float | None
    missed_chats: int
    visitor_left_chats: int
    closed_chats: int
    resolved_chats: int
    resolution_rate: float | None
    escalated_chats: int
    escalation_rate: float | None
    rated_chats: int
    satisfied_ratings: int
    csat: float | None
    csat_response_rate: float | None
    leads: int
    chats_by_weekday_hour: tuple[tuple[int, ...], ...]
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
    def meets_resolution_target(self) -> bool | None:
        """Say whether the resolution rate reaches the tenant's target; None without closed chats."""
        if self.resolution_rate is None:
            return None
        return self.resolution_rate * 100 >= self.resolution_target_percent

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
        figures["daily"] = [
            {"day": day.day.isoformat(), "chats": day.chats, "first_response_median": day.first_response_median}
            for day in self.daily
        ]
        figures["chats_by_hour"] = list(self.chats_by_hour)
        figures["chats_by_weekday"] = list(self.chats_by_weekday)
        figures["meets_resolution_target"] = self.meets_resolution_target
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
    totals = _conversation_totals(conversations, tenants)
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
            matrix=matrices.get(tenant.pk),
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


def _conversation_totals(conversations: QuerySet, tenants: Sequence[Tenant]) -> dict[int, dict[str, Any]]:
    """Query 2: every count, rate part, percentile and mean over the period's conversations, per tenant."""
    aggregates: dict[str, Any] = {
        "chats": Count("pk"),
        "reactive_chats": Count("pk", filter=Q(origin=Origin.REACTIVE)),
        "proactive_chats": Count("pk", filter=Q(origin=Origin.PROACTIVE)),
        "offline_messages": Count("pk", filter=Q(origin=Origin.OFFLINE_MESSAGE)),
        "answered_chats": Count("pk", filter=ANSWERED),
        "answered_within_target": Count("pk", filter=_within_target(tenants)),
        "missed_chats": Count("pk", filter=MISSED),
        "visitor_left_chats": Count("pk", filter=VISITOR_LEFT),
        "closed_chats": Count("pk", filter=CLOSED),
        "resolved_chats": Count("pk", filter=RESOLVED),
        "escalated_chats": Count("pk", filter=ESCALATED),
        "rated_chats": Count("pk", filter=RATED),
        "satisfied_ratings": Count("pk", filter=SATISFIED),
        "leads": Count("pk", filter=_leads(tenant.pk for tenant in tenants)),
        "handled_chats": Count("pk", filter=HANDLED),
        "average_handle_seconds": Avg(Seconds("closed_at", "assigned_at"), filter=HANDLED),
    }
    if _percentiles_in_database():
        aggregates["first_response_median"] = PercentileCont(FIRST_RESPONSE, fraction=MEDIAN, filter=ANSWERED)
        aggregates["first_response_p90"] = PercentileCont(FIRST_RESPONSE, fraction=P90, filter=ANSWERED)
    rows = conversations.values("tenant_id").annotate(**aggregates)
    return {row.pop("tenant_id"): row for row in rows}


def _weekday_hour_matrices(
    conversations: QuerySet, periods: Mapping[int, Period]
) -> dict[int, tuple[tuple[int, ...], ...]]:
    """Query 3: chats per tenant, local weekday and local hour of their start."""
    hour_of_week = _local(periods, lambda zone: LocalHourOfWeek("started_at", zone=zone), IntegerField())
    rows = conversations.annotate(local_hour_of_week=hour_of_week).values("tenant_id", "local_hour_of_week")
    cells: dict[int, list[list[int]]] = defaultdict(lambda: [[0] * 24 for _ in range(7)])
    for row in rows.annotate(chats=Count("pk")):
        weekday, hour = divmod(row["local_hour_of_week"], 24)
        cells[row["tenant_id"]][weekday][hour] += row["chats"]
    return {tenant_id: tuple(tuple(day) for day in matrix) for tenant_id, matrix in cells.items()}


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
    matrix: tuple[tuple[int, ...], ...] | None,
    days: Mapping[dt.date, Mapping[str, Any]],
    concurrency: float | None,
) -> TenantKpis:
    def count(name: str) -> int:
        return totals.get(name) or 0

    matrix = matrix or tuple(tuple(0 for _hour in range(24)) for _day in range(7))
    opens, closes = OFFICE_HOURS
    outside = sum(row[hour] for row in matrix for hour in range(24) if not opens <= hour < closes)
    visitors = audience.get("visitors", 0)
    chats, answered = count("chats"), count("answered_chats")
    closed, rated = count("closed_chats"), count("rated_chats")
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
        resolution_target_percent=tenant.resolution_target_percent,
        visitors=visitors,
        returning_visitors=audience.get("returning_visitors", 0),
        chats=chats,
        chat_rate=ratio(chats, visitors),
        reactive_chats=count("reactive_chats"),
        proactive_chats=count("proactive_chats"),
        offline_messages=count("offline_messages"),
        answered_chats=answered,
        first_response_median=totals.get("first_response_median"),
        first_response_p90=totals.get("first_response_p90"),
        answered_within_target=count("answered_within_target"),
        share_within_target=ratio(count("answered_within_target"), answered),
        missed_chats=count("missed_chats"),
        visitor_left_chats=count("visitor_left_chats"),
        closed_chats=closed,
        resolved_chats=count("resolved_chats"),
        resolution_rate=ratio(count("resolved_chats"), closed),
        escalated_chats=count("escalated_chats"),
        escalation_rate=ratio(count("escalated_chats"), closed),
        rated_chats=rated,
        satisfied_ratings=count("satisfied_ratings"),
        csat=ratio(count("satisfied_ratings"), rated),
        csat_response_rate=ratio(rated, closed),
        leads=count("leads"),
        chats_by_weekday_hour=matrix,
        chats_outside_office_hours=outside,
        share_outside_office_hours=ratio(outside, chats),
        handled_chats=count("handled_chats"),
        average_handle_seconds=totals.get("average_handle_seconds"),
        average_concurrent_chats=concurrency,
        daily=daily,
    )


__all__ = [
    "QUERIES",
    "DayFigures",
    "Period",
    "TenantKpis",
    "kpis_for_tenant",
    "kpis_for_tenants",
    "percentile",
    "ratio",
]
