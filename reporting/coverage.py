"""Staffing coverage of a past period: agents on shift against agents needed, per hour of the week.

For the monthly report. Each local weekday x hour (7 x 24 cells) of the period is worked out on its own:

Occurrences
    How many times the cell came round in the period: the period's real hours [start + k h,
    start + (k + 1) h) are walked from local midnight and each is put in the cell of its local
    weekday and hour. On the 25-hour day of a daylight-saving change hour 3 comes twice, on the
    23-hour day not at all (as in the KPIs' weekday x hour matrix); zones with :30 offsets stay on
    their local hours because the walk starts at local midnight.

Agents needed
    The live chats (reactive and proactive; offline messages need nobody online) that started in
    the cell (the KPI ``live_chats_by_weekday_hour``), divided by its occurrences, are the cell's
    arrivals per hour. With the period's mean handle time (the KPI ``average_handle_seconds``, or
    ``staffing.DEFAULT_HANDLE_SECONDS`` without one), the tenant's first-response target and goal
    (``first_response_goal_percent``: the share to answer within the target) and the mean chat limit of
    the agents trained for the tenant, the staffing model (``staffing.agents_to_schedule``: Erlang C for
    agents whose speed per chat falls with the chats they hold, with the shrinkage and occupancy cap of
    the settings) gives the agents needed in that hour. Every count comes from ``reporting.kpis``;
    staffing gets only the numbers.

Agents on shift ("scheduled")
    The agent-hours on shift in the cell over the period, divided by its occurrences: the mean
    number of agents on shift in that hour. Only agents trained for the tenant count, and only from
    the local day their training was completed; shifts are clipped to the period, and a shift that
    ends at 17:30 gives half an agent-hour to the 17:00 hour. An agent trained for several tenants
    counts in full for each of them (they are pooled, as on the live board), so the figure says who
    *could* answer the tenant's chats, not who did.

A cell is covered when its agents on shift reach its agents needed; ``covered_share`` is the share
of the period's live chats that started in covered cells. Both sides are monthly means per hour:
a cell where one week had too few agents and another too many can still read as covered.

Queries: two (shifts, concurrency) with the period's KPIs given, however many shifts and chats; one
when there are no shifts, in which case there is no coverage to show (None). Without the KPIs (or in
the month the tenant went live, whose served days differ from the report's) they are computed too.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Avg, OuterRef, Subquery

from reporting import kpis
from reporting.kpis import ratio
from reporting.periods import Period, local_midnight
from tenants.models import Tenant
from workforce import staffing
from workforce.models import Qualification, Shift

HOURS_IN_WEEK = 7 * 24
HOUR = dt.timedelta(hours=1)
# Agents on shift are means of agent-seconds; this keeps 2.9999999 from reading as short of 3.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class HourCoverage:
    """One local weekday x hour of a period: its chats, agents needed and agents on shift (means per hour)."""

    weekday: int  # 0 Monday ... 6 Sunday
    hour: int  # 0-23, local
    occurrences: int
    live_chats: int
    needed: int
    scheduled: float

    @property
    def arrivals_per_hour(self) -> float:
        return self.live_chats / self.occurrences if self.occurrences else 0.0

    @property
    def agent_hours(self) -> float:
        """Return the agent-hours on shift in this cell over the whole period."""
        return self.scheduled * self.occurrences

    @property
    def short(self) -> float:
        """Return how many agents were missing on average (0 when enough were on shift)."""
        return max(self.needed - self.scheduled, 0.0)

    @property
    def understaffed(self) -> bool:
        return self.scheduled + TOLERANCE < self.needed


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
        """Return the agent-hours on shift over the period (agents trained for the tenant)."""
        return sum(cell.agent_hours for cell in self.hours)

    @property
    def agent_hours_without_chats(self) -> float:
        """Return the agent-hours on shift in weekday x hour cells without a single live chat."""
        return sum(cell.agent_hours for cell in self.hours if not cell.live_chats)

    @property
    def understaffed_hours(self) -> list[HourCoverage]:
        return [cell for cell in self.hours if cell.understaffed]

    def understaffed_runs(self) -> list[UnderstaffedRun]:
        """Return the understaffed hours merged into runs, the heaviest shortfall first."""
        runs: list[UnderstaffedRun] = []
        for cell in self.understaffed_hours:
            last = runs[-1] if runs else None
            if (
                last is not None
                and last.weekday == cell.weekday
                and last.end_hour == cell.hour
                and last.needed == cell.needed
                and round(last.scheduled, 1) == round(cell.scheduled, 1)
            ):
                runs[-1] = UnderstaffedRun(
                    weekday=last.weekday,
                    first_hour=last.first_hour,
                    end_hour=cell.hour + 1,
                    needed=last.needed,
                    scheduled=last.scheduled,
                    live_chats=last.live_chats + cell.live_chats,
                    weight=last.weight + cell.short * cell.live_chats,
                )
            else:
                runs.append(
                    UnderstaffedRun(
                        weekday=cell.weekday,
                        first_hour=cell.hour,
                        end_hour=cell.hour + 1,
                        needed=cell.needed,
                        scheduled=cell.scheduled,
                        live_chats=cell.live_chats,
                        weight=cell.short * cell.live_chats,
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


def _trained_shifts(tenant: Tenant, period: Period) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return the shift time in the period of agents trained for the tenant, from their training day on."""
    trained_on = Qualification.objects.completed().filter(agent_id=OuterRef("agent_id"), tenant=tenant)
    rows = (
        Shift.objects.overlapping(period.start, period.end)
        .annotate(trained_on=Subquery(trained_on.values("training_completed_on")[:1]))
        .filter(trained_on__lt=period.end_day)
        .order_by()
        .values_list("starts_at", "ends_at", "trained_on")
    )
    windows = []
    for starts_at, ends_at, day in rows:
        start = max(starts_at, period.start, local_midnight(day, period.zone))
        end = min(ends_at, period.end)
        if start < end:
            windows.append((start, end))
    return windows


def _concurrency(tenant: Tenant, period: Period) -> float:
    """Return the mean concurrency of the agents trained for the tenant by the end of the period."""
    found = (
        Qualification.objects.completed()
        .filter(tenant=tenant, training_completed_on__lt=period.end_day)
        .aggregate(concurrency=Avg("agent__max_concurrent_chats"))
    )
    return found["concurrency"] or staffing.DEFAULT_CONCURRENCY


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
    hour of the week and mean handle time (without one, the default of the live board) are used. In
    the month the tenant went live only the days from go-live count (``served_part``), and the KPIs
    of those days are computed; the result's ``period`` says which.
    """
    period = served_part(tenant, period)
    windows = _trained_shifts(tenant, period)
    if not windows:
        return None
    if figures is None or figures.period != period:
        figures = kpis.kpis_for_tenant(tenant, period)
    cells = hours_of_period(period)
    counts = occurrences(period)
    agent_hours = [0.0] * HOURS_IN_WEEK
    for start, end in windows:
        spread_over_hours(start, end, period=period, cells=cells, into=agent_hours)
    concurrency = _concurrency(tenant, period)
    handle = figures.average_handle_seconds or staffing.DEFAULT_HANDLE_SECONDS
    target = tenant.first_response_target_seconds
    target_share = tenant.first_response_goal_percent / 100

    hours = []
    for cell in range(HOURS_IN_WEEK):
        times = counts[cell]
        weekday, hour = divmod(cell, 24)
        live = figures.live_chats_by_weekday_hour[weekday][hour]
        needed = (
            staffing.agents_to_schedule(
                arrivals_per_hour=live / times,
                handle_seconds=handle,
                target_seconds=target,
                concurrency=concurrency,
                target_share=target_share,
            )
            if times
            else 0
        )
        hours.append(
            HourCoverage(
                weekday=weekday,
                hour=hour,
                occurrences=times,
                live_chats=live,
                needed=needed,
                scheduled=agent_hours[cell] / times if times else 0.0,
            )
        )
    return StaffingCoverage(
        tenant_id=tenant.pk,
        period=period,
        handle_seconds=handle,
        target_seconds=target,
        target_share=target_share,
        concurrency=concurrency,
        hours=tuple(hours),
    )
