"""The demo's shifts, from the first day of last month to the end of next week: every open hour covered.

Planning is the demo's own work (an operations manager would do it by hand): walk the hours, and
where a client is open without a trained agent on shift, give the agent who would cover the most
uncovered client-hours a block of up to a shift's length, keeping rest times and the weekly limit.
The blocks are then planned through ``workforce.services.plan_shift``, which refuses any overlap.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from django.db.models import Max

from chatops.demo.description import Demo, ShiftRules
from chatops.demo.setup import local_moment
from tenants.hours import open_intervals
from tenants.models import Tenant
from workforce.models import Agent, Qualification, Shift
from workforce.services import plan_shift

# Trainees shadow only in this week and the next.
UPCOMING_WEEKS = 2


class OpenHours:
    """A tenant's open stretches over a window, answering "open at?" and "opens next when?" without a query."""

    def __init__(self, tenant: Tenant, *, start: dt.datetime, end: dt.datetime):
        stretches = open_intervals(tenant, start=start, end=end)
        self.starts = [opened for opened, _closed in stretches]
        self.ends = [closed for _opened, closed in stretches]

    def is_open(self, moment: dt.datetime) -> bool:
        index = bisect.bisect_right(self.starts, moment) - 1
        return index >= 0 and moment < self.ends[index]

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        index = bisect.bisect_right(self.starts, moment)
        return self.starts[index] if index < len(self.starts) else None


@dataclass(frozen=True)
class ShiftPlan:
    """The demo's planned shifts, the local days they span and the open hours nobody could cover."""

    shifts: list[Shift]
    first_day: dt.date
    last_day: dt.date
    # Of the shifts, those that start this week or next.
    upcoming: int
    uncovered: list[str]


def first_planned_day(today: dt.date) -> dt.date:
    """Return the first day of the month before today's: the demo's shifts start on it.

    Not on the Monday before: the month before would get a few days of shifts, and its staffing
    coverage, a monthly mean, would read as short in nearly every hour it had chats.
    """
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _staffed_from(tenant: Tenant) -> dt.datetime | None:
    """Return from when a tenant has an agent on shift in its open hours: once all its agents are trained.

    That is the day its last trained agent completed training, some days before a go-live: the month
    a tenant went live is staffed throughout, and only trained agents are ever planned for it. None
    if nobody is trained for it.
    """
    last_trained = (
        Qualification.objects.completed().filter(tenant=tenant).aggregate(day=Max("training_completed_on"))["day"]
    )
    if last_trained is None:
        return None
    return local_moment(tenant.zone, last_trained, 0)


def plan_demo_shifts(
    *, demo: Demo, now: dt.datetime, agents: dict[str, Agent], tenants: dict[str, Tenant]
) -> ShiftPlan:
    """Plan shifts so every open hour of every staffed tenant has a trained agent, where one is free.

    The plan runs from the previous month's first day (so last month's report has its staffing
    coverage) to the end of next week, on the team's clock.
    """
    rules, zone = demo.team.shifts, demo.team.planning_zone
    today = now.astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    first_day = first_planned_day(today)
    first_monday = first_day - dt.timedelta(days=first_day.weekday())
    end_monday = monday + dt.timedelta(weeks=UPCOMING_WEEKS)
    window_start = local_moment(zone, first_day, 0).astimezone(dt.UTC)
    window_end = local_moment(zone, end_monday, 0).astimezone(dt.UTC)
    this_week = local_moment(zone, monday, 0).astimezone(dt.UTC)
    # Counted in real hours: a stretch across a daylight-saving change is an hour longer or shorter.
    slots = [
        window_start + dt.timedelta(hours=index)
        for index in range((window_end - window_start) // dt.timedelta(hours=1))
    ]
    weeks = [(slot.astimezone(zone).date() - first_monday).days // 7 for slot in slots]
    hours = {slug: OpenHours(tenant, start=window_start, end=window_end) for slug, tenant in tenants.items()}
    staffed_from = {slug: _staffed_from(tenant) for slug, tenant in tenants.items()}
    demand = [
        frozenset(
            slug
            for slug, open_hours in hours.items()
            if staffed_from[slug] is not None and staffed_from[slug] <= slot and open_hours.is_open(slot)
        )
        for slot in slots
    ]
    skills = {spec.username: frozenset(spec.trained_for) for spec in demo.team.agents if spec.trained_for}
    blocks, uncovered = plan_blocks(demand=demand, skills=skills, rules=rules, weeks=weeks)
    names = {slug: tenant.name for slug, tenant in tenants.items()}
    shifts = []
    for username, first, last in blocks:
        served = sorted(set().union(*(demand[index] & skills[username] for index in range(first, last))))
        shifts.append(
            plan_shift(
                agent=agents[username],
                starts_at=slots[first],
                ends_at=slots[first] + dt.timedelta(hours=last - first),
                note=", ".join(names[slug] for slug in served),
            )
        )
    shifts += _shadowing_shifts(demo=demo, agents=agents, monday=monday)
    return ShiftPlan(
        shifts=shifts,
        first_day=first_day,
        last_day=end_monday - dt.timedelta(days=1),
        upcoming=sum(shift.starts_at >= this_week for shift in shifts),
        uncovered=[f"{slots[index].astimezone(zone):%a %d.%m. %H:%M} {slug}" for index, slug in uncovered],
    )


def _shadowing_shifts(*, demo: Demo, agents: dict[str, Agent], monday: dt.date) -> list[Shift]:
    """Plan the trainees' shifts: they shadow an experienced colleague in the daytime, Monday to Thursday.

    Only this week and next: the past needs no training shifts, and an untrained agent does not count
    for coverage anyway.
    """
    rules, zone = demo.team.shifts, demo.team.planning_zone
    shifts = []
    for spec in demo.team.agents:
        if spec.trained_for or not spec.in_training_for:
            continue
        for week in range(UPCOMING_WEEKS):
            for weekday in range(4):
                day = monday + dt.timedelta(days=7 * week + weekday)
                shifts.append(
                    plan_shift(
                        agent=agents[spec.username],
                        starts_at=local_moment(zone, day, rules.shadowing_from),
                        ends_at=local_moment(zone, day, rules.shadowing_from + rules.hours),
                        note="Training (shadowing)",
                    )
                )
    return shifts


def plan_blocks(
    *,
    demand: list[frozenset[str]],
    skills: dict[str, frozenset[str]],
    rules: ShiftRules,
    weeks: list[int] | None = None,
) -> tuple[list[tuple[str, int, int]], list[tuple[int, str]]]:
    """Cover hourly demand (the tenants open in each hour) with blocks of up to a shift's hours per agent.

    Walk the hours in order; where an open tenant has no trained agent on shift, start a block for
    the agent who would cover the most still-uncovered tenant-hours, keeping each agent's blocks
    apart by the rest time and within the weekly limit. A block that would run past the tenant's
    closing is moved earlier to end at it (a handover overlap with the previous agent); one that
    would leave an hour over is stretched to the closing. Return (agent, first hour, end hour)
    blocks and the (hour, tenant) pairs nobody could cover.

    ``weeks`` gives the week of each hour for the weekly limit: across a daylight-saving change a
    local week is not 168 hours. Without it every 168 hours from hour 0 are a week.
    """
    hours = len(demand)
    week_of = weeks if weeks is not None else [hour // (7 * 24) for hour in range(hours)]
    covered: list[set[str]] = [set() for _hour in range(hours)]
    planned: dict[str, list[tuple[int, int]]] = {username: [] for username in skills}
    blocks: list[tuple[str, int, int]] = []
    uncovered: list[tuple[int, str]] = []
    for hour in range(hours):
        for slug in sorted(demand[hour] - covered[hour]):
            if slug in covered[hour]:
                continue
            run_end = hour
            while run_end < hours and slug in demand[run_end]:
                run_end += 1
            if run_end - hour > rules.hours + rules.stretch_hours:
                first, last = hour, hour + rules.hours
            elif run_end - hour >= rules.hours:
                first, last = hour, run_end
            else:
                first, last = max(run_end - rules.hours, 0), run_end
            best = None
            for order, (username, skill) in enumerate(skills.items()):
                if slug not in skill:
                    continue
                start, end = first, last
                while start < end and not demand[start] & skill:
                    start += 1
                while end > start and not demand[end - 1] & skill:
                    end -= 1
                rested = all(
                    end + rules.min_rest_hours <= other_start or other_end + rules.min_rest_hours <= start
                    for other_start, other_end in planned[username]
                )
                week = week_of[start]
                this_week = sum(week_of[other_start] == week for other_start, _end in planned[username])
                if not rested or this_week >= rules.max_per_week:
                    continue
                gain = sum(len((demand[index] & skill) - covered[index]) for index in range(start, end))
                rank = (gain, -this_week, -order)
                if best is None or rank > best[0]:
                    best = (rank, username, start, end)
            if best is None:
                uncovered.append((hour, slug))
                continue
            _rank, username, start, end = best
            planned[username].append((start, end))
            blocks.append((username, start, end))
            for index in range(start, end):
                covered[index] |= demand[index] & skills[username]
    return blocks, uncovered
