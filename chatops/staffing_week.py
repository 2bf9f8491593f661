"""The week plan from the database: forecast, fitted concurrency, training and shifts, into ``plan_week``.

Hours are the real hours of the week from Monday 00:00 on the planning clock
(``settings.STAFFING_PLANNING_ZONE``); each takes the forecast of its local hour of the week. A
tenant counts once it has gone live. What-if changes (target, concurrency, shrinkage) replace the
tenants' own for the whole plan. Queries: tenants, history, fit, chat limits, training, shifts.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg

from chatops.staffing_forecast import HELD_OUT, WEEKS_USED, Forecast, arrivals_history, forecast_next_week
from chatops.staffing_plan import TenantWeek, WeekPlan, plan_week
from reporting import demand
from tenants.models import Tenant
from workforce import staffing
from workforce.models import Qualification, Shift

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WhatIf:
    """Changes to try on the plan: a target, a chat limit with the industry's factors, a shrinkage (None: as set)."""

    target_seconds: int | None = None
    target_share: float | None = None
    concurrency: int | None = None
    shrinkage: float | None = None

    def policy(self, tenant: Tenant) -> staffing.Policy:
        changes = {"target_share": self.target_share, "shrinkage": self.shrinkage}
        if self.target_seconds is not None:
            changes["target_seconds"] = self.target_seconds
        return staffing.policy_for(tenant, **{key: value for key, value in changes.items() if value is not None})


@dataclass(frozen=True)
class WeekData:
    """The plan of a week with what went into it."""

    zone: zoneinfo.ZoneInfo
    monday: dt.date
    starts: tuple[dt.datetime, ...]  # each real hour's start
    tenants: dict[int, Tenant]
    forecasts: dict[int, Forecast]
    fitted: dict[int, staffing.Fitted]
    plan: WeekPlan
    shifts: list[Shift] = field(default_factory=list)


def planning_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.STAFFING_PLANNING_ZONE)


def next_monday(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    today = now.astimezone(zone).date()
    return today + dt.timedelta(days=7 - today.weekday())


def hour_starts(monday: dt.date, zone: zoneinfo.ZoneInfo) -> list[dt.datetime]:
    """Return the start (UTC) of each real hour of the week from Monday 00:00 local (167 to 169 of them)."""
    start = dt.datetime.combine(monday, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(weeks=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return [start + k * HOUR for k in range(int((end - start) / HOUR))]


def hours_on_shift(shifts: list[Shift], starts: list[dt.datetime]) -> list[dict[int, float]]:
    """Return, per hour, the part of it each agent is on shift (0-1)."""
    first = starts[0]
    on_shift: list[dict[int, float]] = [defaultdict(float) for _ in starts]
    for shift in shifts:
        k = max(int((shift.starts_at - first) / HOUR), 0)
        while k < len(starts) and starts[k] < shift.ends_at:
            overlap = min(shift.ends_at, starts[k] + HOUR) - max(shift.starts_at, starts[k])
            if overlap > dt.timedelta(0):
                on_shift[k][shift.agent_id] += overlap / HOUR
            k += 1
    return [dict(hour) for hour in on_shift]


def _chat_limits(tenant_ids: list[int]) -> dict[int, float]:
    rows = (
        Qualification.objects.completed()
        .filter(tenant_id__in=tenant_ids)
        .order_by()
        .values("tenant_id")
        .annotate(limit=Avg("agent__max_concurrent_chats"))
    )
    found = {row["tenant_id"]: row["limit"] for row in rows}
    return {tenant_id: found.get(tenant_id) or staffing.DEFAULT_CONCURRENCY for tenant_id in tenant_ids}


def _agent_tenants(tenant_ids: list[int], until: dt.date) -> dict[int, frozenset[int]]:
    trained: dict[int, set[int]] = defaultdict(set)
    rows = (
        Qualification.objects.completed()
        .filter(tenant_id__in=tenant_ids, training_completed_on__lt=until)
        .values_list("agent_id", "tenant_id")
    )
    for agent_id, tenant_id in rows:
        trained[agent_id].add(tenant_id)
    return {agent_id: frozenset(tenants) for agent_id, tenants in trained.items()}


def week_plan(*, monday: dt.date, now: dt.datetime, what_if: WhatIf | None = None) -> WeekData:
    """Return the plan of the week starting ``monday`` (planning clock), forecast from the weeks before ``now``."""
    what_if = what_if or WhatIf()
    zone = planning_zone()
    tenants = {tenant.pk: tenant for tenant in Tenant.objects.filter(went_live_at__isnull=False).order_by("name")}
    ids = list(tenants)
    history_monday = min(monday, next_monday(now, zone) - dt.timedelta(weeks=1))
    history = arrivals_history(ids, monday=history_monday, zone=zone, weeks=WEEKS_USED + HELD_OUT)
    forecasts = {tenant_id: forecast_next_week(history[tenant_id]) for tenant_id in ids}
    limits = _chat_limits(ids)
    fitted = demand.fitted_from_history(limits, start=now - dt.timedelta(weeks=demand.WEEKS_OF_HISTORY), end=now)
    if what_if.concurrency is not None:
        model = staffing.industry_model(what_if.concurrency)
        fitted = {
            tenant_id: staffing.Fitted(model=model, handle_seconds=f.handle_seconds) for tenant_id, f in fitted.items()
        }
    starts = hour_starts(monday, zone)
    weeks = []
    for tenant_id, tenant in tenants.items():
        arrivals = forecasts[tenant_id].arrivals
        loads = tuple(
            staffing.Load(
                arrivals_per_hour=arrivals[start.astimezone(zone).weekday() * 24 + start.astimezone(zone).hour],
                handle_seconds=fitted[tenant_id].handle_seconds,
                model=fitted[tenant_id].model,
            )
            for start in starts
        )
        weeks.append(TenantWeek(tenant_id=tenant_id, policy=what_if.policy(tenant), loads=loads))
    shifts = list(
        Shift.objects.overlapping(starts[0], starts[-1] + HOUR)
        .select_related("agent")
        .order_by("agent__display_name", "starts_at")
    )
    plan = plan_week(
        weeks,
        on_shift=hours_on_shift(shifts, starts),
        agent_tenants=_agent_tenants(ids, monday + dt.timedelta(weeks=1)),
    )
    return WeekData(
        zone=zone,
        monday=monday,
        starts=tuple(starts),
        tenants=tenants,
        forecasts=forecasts,
        fitted=fitted,
        plan=plan,
        shifts=shifts,
    )
