"""Staffing coverage of a past period: agents on shift against agents needed, per hour of the week.

For the monthly report. Each local weekday x hour (7 x 24 cells) of the period is worked out on its own:

Occurrences
    How many times the cell came round in the period: the period's real hours [start + k h,
    start + (k + 1) h) are walked from local midnight and each is put in the cell of its local
    weekday and hour. On the 25-hour day of a daylight-saving change hour 3 comes twice, on the
    23-hour day not at all (as in the KPIs' weekday x hour matrix); zones with :30 offsets stay on
    their local hours because the walk starts at local midnight.

Agents needed (the week plan's model, ``workforce.pooling.cover_hour``)
    The live chats (reactive and proactive; offline messages need nobody online) that started in
    the cell (the KPI ``live_chats_by_weekday_hour``), divided by its occurrences, are the cell's
    arrivals per hour. With the solo handle time and concurrency factors fitted from the period's
    chats (``reporting.demand.fitted_from_history``; the defaults without enough of them), the mean
    chat limit of the agents trained for the tenant, and the tenant's policy (first-response target
    and goal, the settings' shrinkage and occupancy cap: ``staffing.policy_for``), the staffing model
    (Erlang C for agents whose speed per chat falls with the chats they hold) gives the agents to
    schedule for the tenant's own chats: ``needed``.

The pool ("team")
    Tenants that share trained agents (the connected part of the training graph the tenant is in,
    training completed before the period's end) are staffed as one team: its agents on shift, each
    counted once, serve the team's combined chats, whose requirement (``team_needed``) is at most the
    sum of the tenants' own (``team_separate``); the difference, times the occurrences, summed over the
    cells, is the pooling saving in agent-hours. A tenant without shared agents has no team (None).

Agents on shift
    The agent-hours on shift in the cell over the period, divided by its occurrences: mean agents on
    shift in that hour. An agent counts from the local day their first training in the team was
    completed; shifts are clipped to the period, and a shift that ends at 17:30 gives half an
    agent-hour to the 17:00 hour. ``trained_on_shift`` counts the agents trained for the tenant, each
    in full; ``scheduled`` is the tenant's part of them, each agent's hour shared among the tenants
    they are trained for in proportion to those tenants' own requirement (so an agent's hour is never
    counted in full for each); ``team_on_shift`` counts the team's agents, each once.

Covered
    A cell is covered when the team's agents on shift reach the team's requirement (the pooled
    queue: every chat of the team waits in one line, so a short team is short for each of its
    tenants) and the agents trained for the tenant on shift reach the tenant's own requirement (the
    team's other agents cannot answer its chats). ``covered_share`` is the share of the period's live
    chats that started in covered cells. Both sides are monthly means per hour: a cell where one week
    had too few agents and another too many can still read as covered.

Queries: training and shifts, one when no agent trained for the tenant had shift time (no coverage
to show: None); then the fitted models, and the other team tenants' chats per hour of the week;
with the period's KPIs given, however many shifts and chats. Without the KPIs (or in the month the
tenant went live, whose served days differ from the report's) they are computed too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F

from reporting import demand, kpis
from reporting.kpis import ratio
from reporting.periods import Period, local_midnight
from tenants.models import Tenant
from workforce import pooling, staffing
from workforce.models import Qualification, Shift

HOURS_IN_WEEK = 7 * 24
HOUR = dt.timedelta(hours=1)
# Agents on shift are means of agent-seconds; this keeps 2.9999999 from reading as short of 3.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class HourCoverage:
    """One local weekday x hour of a period: its chats, agents needed and on shift (means per hour).

    The ``team_*`` figures are None for a tenant without agents shared with other tenants.
    """

    weekday: int  # 0 Monday ... 6 Sunday
    hour: int  # 0-23, local
    occurrences: int
    live_chats: int
    needed: int  # agents to schedule for the tenant's own chats
    scheduled: float  # the tenant's part of the agents on shift (each agent's hour shared)
    trained_on_shift: float  # agents trained for the tenant on shift, each in full
    team_separate: int | None  # the team's tenants' own requirements, summed
    team_needed: int | None  # the team's requirement for its chats together (at most team_separate)
    team_on_shift: float | None  # the team's agents on shift, each once

    @property
    def arrivals_per_hour(self) -> float:
        return self.live_chats / self.occurrences if self.occurrences else 0.0

    @property
    def agent_hours(self) -> float:
        """Return the tenant's part of the agent-hours on shift in this cell over the whole period."""
        return self.scheduled * self.occurrences

    @property
    def team_short(self) -> bool:
        return self.team_needed is not None and self.team_on_shift + TOLERANCE < self.team_needed

    @property
    def judged(self) -> tuple[float, int]:
        """Return the agents on shift and needed that decide the hour: the team's when it is short, else own."""
        if self.team_short:
            return self.team_on_shift, self.team_needed
        return self.trained_on_shift, self.needed

    @property
    def short(self) -> float:
        """Return how many agents were missing on average (0 when enough were on shift)."""
        on_shift, needed = self.judged
        return max(needed - on_shift, 0.0)

    @property
    def understaffed(self) -> bool:
        on_shift, needed = self.judged
        return on_shift + TOLERANCE < needed

    @property
    def pooling_saving(self) -> int:
        """Return the agents the team saves in this hour by serving its tenants together."""
        return self.team_separate - self.team_needed if self.team_needed is not None else 0


@dataclass(frozen=True)
class UnderstaffedRun:
    """Consecutive understaffed hours of one weekday with the same agents needed and on shift (to 0.1)."""

    weekday: int
    first_hour: int
    end_hour: int  # exclusive: 1-24
    needed: int
    scheduled: float
    live_chats: int
    # The sum over its hours of missing agents x chats: how much the shortfall weighed.
    weight: float
    # Whether the figures are the team's (agents shared with other tenants), not the tenant's own.
    team: bool = False


@dataclass(frozen=True)
class StaffingCoverage:
    """A tenant's staffing coverage over a period; see the module docstring for each figure."""

    tenant_id: int
    period: Period
    handle_seconds: float
    target_seconds: int
    target_share: float
    concurrency: float
    hours: tuple[HourCoverage, ...]  # 168 cells, Monday 00 first

    def cell(self, weekday: int, hour: int) -> HourCoverage:
        return self.hours[weekday * 24 + hour]

    @property
    def live_chats(self) -> int:
        return sum(cell.live_chats for cell in self.hours)

    @property
    def covered_chats(self) -> int:
        """Return the live chats that started in hours with at least the agents needed on shift."""
        return sum(cell.live_chats for cell in self.hours if not cell.understaffed)

    @property
    def covered_share(self) -> float | None:
        return ratio(self.covered_chats, self.live_chats)

    @property
    def agent_hours(self) -> float:
        """Return the tenant's part of the agent-hours on shift over the period."""
        return sum(cell.agent_hours for cell in self.hours)

    @property
    def agent_hours_without_chats(self) -> float:
        """Return the tenant's part of the agent-hours on shift in weekday x hour cells without a live chat."""
        return sum(cell.agent_hours for cell in self.hours if not cell.live_chats)

    @property
    def shares_agents(self) -> bool:
        """Return whether the tenant's agents serve other tenants too (a team of several)."""
        return any(cell.team_needed is not None for cell in self.hours)

    @property
    def separate_agent_hours(self) -> int:
        """Return the agent-hours the team's tenants would need over the period, each staffed on its own."""
        return sum((cell.team_separate or 0) * cell.occurrences for cell in self.hours)

    @property
    def pooling_saving_agent_hours(self) -> int:
        """Return the agent-hours the team needed less over the period by serving its tenants together."""
        return sum(cell.pooling_saving * cell.occurrences for cell in self.hours)

    @property
    def understaffed_hours(self) -> list[HourCoverage]:
        return [cell for cell in self.hours if cell.understaffed]

    def understaffed_runs(self) -> list[UnderstaffedRun]:
        """Return the understaffed hours merged into runs, the heaviest shortfall first."""
        runs: list[UnderstaffedRun] = []
        for cell in self.understaffed_hours:
            on_shift, needed = cell.judged
            last = runs[-1] if runs else None
            if (
                last is not None
                and last.weekday == cell.weekday
                and last.end_hour == cell.hour
                and last.needed == needed
                and round(last.scheduled, 1) == round(on_shift, 1)
                and last.team == cell.team_short
            ):
                runs[-1] = UnderstaffedRun(
                    weekday=last.weekday,
                    first_hour=last.first_hour,
                    end_hour=cell.hour + 1,
                    needed=last.needed,
                    scheduled=last.scheduled,
                    live_chats=last.live_chats + cell.live_chats,
                    weight=last.weight + cell.short * cell.live_chats,
                    team=last.team,
                )
            else:
                runs.append(
                    UnderstaffedRun(
                        weekday=cell.weekday,
                        first_hour=cell.hour,
                        end_hour=cell.hour + 1,
                        needed=needed,
                        scheduled=on_shift,
                        live_chats=cell.live_chats,
                        weight=cell.short * cell.live_chats,
                        team=cell.team_short,
                    )
                )
        return sorted(runs, key=lambda run: (-run.weight, run.weekday, run.first_hour))


# --- Local hours ----------------------------------------------------------------------------------


def hour_of_week(moment: dt.datetime, period: Period) -> int:
    """Return the local hour of the week (0 = Monday 00:xx ... 167 = Sunday 23:xx) of a moment."""
    local = moment.astimezone(period.zone)
    return local.weekday() * 24 + local.hour


def hours_of_period(period: Period) -> list[int]:
    """Return the local hour of the week of each real hour [start + k h, start + (k + 1) h) of the period."""
    count = math.ceil(period.duration / HOUR)
    return [hour_of_week(period.start + k * HOUR, period) for k in range(count)]


def occurrences(period: Period) -> list[int]:
    """Return how many times each local hour of the week comes round in the period."""
    counts = [0] * HOURS_IN_WEEK
    for cell in hours_of_period(period):
        counts[cell] += 1
    return counts


def spread_over_hours(
    starts_at: dt.datetime, ends_at: dt.datetime, *, period: Period, cells: list[int], into: list[float]
) -> None:
    """Add the hours of [starts_at, ends_at), clipped to the period, to the cells they fall in."""
    start, end = max(starts_at, period.start), min(ends_at, period.end)
    k = math.floor((start - period.start) / HOUR)
    while k < len(cells):
        hour_start = period.start + k * HOUR
        if hour_start >= end:
            break
        overlap = min(end, hour_start + HOUR) - max(start, hour_start)
        if overlap > dt.timedelta(0):
            into[cells[k]] += overlap / HOUR
        k += 1


# --- The queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """The tenants that share agents with the tenant (itself included), their agents and chat limits."""

    tenant_ids: tuple[int, ...]
    agent_tenants: dict[int, frozenset[int]]  # the team's agents and the team tenants each is trained for
    first_trained: dict[int, dt.date]  # each agent's first completed training in the team
    limits: dict[int, float]  # each team tenant's agents' mean chat limit


def _team(tenant: Tenant, period: Period) -> Team:
    """Return the tenant's team by the end of the period, from all completed trainings (one query)."""
    rows = (
        Qualification.objects.completed()
        .filter(training_completed_on__lt=period.end_day)
        .order_by()
        .values_list("agent_id", "tenant_id", "training_completed_on", F("agent__max_concurrent_chats"))
    )
    trained: dict[int, set[int]] = defaultdict(set)
    first: dict[tuple[int, int], dt.date] = {}
    limit_of: dict[int, int] = {}
    for agent_id, tenant_id, day, limit in rows:
        trained[agent_id].add(tenant_id)
        first[agent_id, tenant_id] = day
        limit_of[agent_id] = limit
    graph = {agent_id: frozenset(tenants) for agent_id, tenants in trained.items()}
    everyone = sorted({tenant.pk} | {tenant_id for tenants in graph.values() for tenant_id in tenants})
    team = next(group for group in pooling.pools(graph, everyone) if tenant.pk in group)
    members = {agent_id: tenants for agent_id, tenants in graph.items() if tenants & set(team)}
    limits = {}
    for tenant_id in team:
        chat_limits = [limit_of[agent_id] for agent_id, tenants in members.items() if tenant_id in tenants]
        limits[tenant_id] = sum(chat_limits) / len(chat_limits) if chat_limits else staffing.DEFAULT_CONCURRENCY
    return Team(
        tenant_ids=team,
        agent_tenants=members,
        first_trained={
            agent_id: min(first[agent_id, tenant_id] for tenant_id in tenants) for agent_id, tenants in members.items()
        },
        limits=limits,
    )


def _hours_on_shift(team: Team, period: Period, cells: list[int]) -> dict[int, list[float]]:
    """Return each team agent's hours on shift per local hour of the week, from their first training day on."""
    found: dict[int, list[float]] = {}
    rows = (
        Shift.objects.overlapping(period.start, period.end)
        .filter(agent_id__in=list(team.agent_tenants))
        .order_by()
        .values_list("agent_id", "starts_at", "ends_at")
    )
    for agent_id, starts_at, ends_at in rows:
        start = max(starts_at, local_midnight(team.first_trained[agent_id], period.zone))
        if start < ends_at:
            hours = found.setdefault(agent_id, [0.0] * HOURS_IN_WEEK)
            spread_over_hours(start, ends_at, period=period, cells=cells, into=hours)
    return found


# --- Entry point ----------------------------------------------------------------------------------


def served_part(tenant: Tenant, period: Period) -> Period:
    """Return the days of the period from the tenant's go-live on (the whole period if it was live before).

    A month in which the tenant went live is averaged over the days it was served: over the whole
    month, the days before go-live (no chats, no shifts) would halve the agents on shift per hour
    while any chat at all still needs one agent, and a fully staffed month would read as short.
    """
    return kpis.served_part(tenant, period) or period


def staffing_coverage(
    tenant: Tenant, period: Period, *, figures: kpis.TenantKpis | None = None
) -> StaffingCoverage | None:
    """Return the tenant's staffing coverage per local hour of the week, or None without any shift time.

    ``figures`` are the period's KPIs if the caller has them (the report does): their live chats per
    hour of the week are used. In the month the tenant went live only the days from go-live count
    (``served_part``), and the KPIs of those days are computed; the result's ``period`` says which.
    The other tenants of its team are read over the same hours, on the tenant's clock.
    """
    period = served_part(tenant, period)
    cells = hours_of_period(period)
    team = _team(tenant, period)
    on_shift = _hours_on_shift(team, period, cells)
    if not any(tenant.pk in team.agent_tenants[agent_id] for agent_id in on_shift):
        return None
    if figures is None or figures.period != period:
        figures = kpis.kpis_for_tenant(tenant, period)
    arrivals = demand.live_chats_by_hour_of_week([t for t in team.tenant_ids if t != tenant.pk], period)
    arrivals[tenant.pk] = [chats for weekday in figures.live_chats_by_weekday_hour for chats in weekday]
    fitted = demand.fitted_from_history(team.limits, start=period.start, end=period.end)
    policies = {tenant.pk: staffing.policy_for(tenant)}
    for other in Tenant.objects.filter(pk__in=[t for t in team.tenant_ids if t != tenant.pk]):
        policies[other.pk] = staffing.policy_for(other)
    counts = occurrences(period)
    shared = len(team.tenant_ids) > 1

    hours = []
    for cell in range(HOURS_IN_WEEK):
        times = counts[cell]
        weekday, hour = divmod(cell, 24)
        present = {agent_id: hours_of[cell] / times for agent_id, hours_of in on_shift.items() if times}
        cover = pooling.cover_hour(
            {
                tenant_id: (
                    staffing.Load(
                        arrivals_per_hour=arrivals[tenant_id][cell] / times if times else 0.0,
                        handle_seconds=fitted[tenant_id].handle_seconds,
                        model=fitted[tenant_id].model,
                    ),
                    policies[tenant_id],
                )
                for tenant_id in team.tenant_ids
            },
            on_shift=present,
            agent_tenants=team.agent_tenants,
            groups=[team.tenant_ids],
        )
        pool = cover.pools[team.tenant_ids]
        hours.append(
            HourCoverage(
                weekday=weekday,
                hour=hour,
                occurrences=times,
                live_chats=arrivals[tenant.pk][cell],
                needed=cover.required[tenant.pk].scheduled,
                scheduled=cover.covered.get(tenant.pk, 0.0),
                trained_on_shift=cover.trained.get(tenant.pk, 0.0),
                team_separate=pool.requirement.separate if shared else None,
                team_needed=pool.requirement.pooled if shared else None,
                team_on_shift=pool.on_shift if shared else None,
            )
        )
    policy = policies[tenant.pk]
    return StaffingCoverage(
        tenant_id=tenant.pk,
        period=period,
        handle_seconds=fitted[tenant.pk].handle_seconds,
        target_seconds=tenant.first_response_target_seconds,
        target_share=policy.target_share,
        concurrency=team.limits[tenant.pk],
        hours=tuple(hours),
    )
