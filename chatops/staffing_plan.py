"""The week plan's arithmetic: each hour's requirement per tenant and per pool, and the coverage the shifts give.

Pure computation (no database): ``chatops.staffing_week`` gathers the figures and calls ``plan_week``.

Pooling, the sharing of an agent's hour and the status of an hour are ``workforce.pooling``'s (the
monthly report's coverage uses them too): a tenant's hour is short when its pool is short or when its
own trained agents on shift are too few for it, over when its part of the agents on shift is a whole
agent or more above the agents to schedule, right otherwise; a pool's hour compares its agents on
shift, each once, with the pooled requirement. The expected share within target is the model's for
the whole agents working (after the shrinkage) of the tenant's part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workforce.pooling import PoolHour, Status, cover_hour, pools
from workforce.staffing import Load, Policy, Requirement, evaluate


@dataclass(frozen=True)
class TenantWeek:
    """What the plan needs of a tenant: its policy and each hour's load (the forecast)."""

    tenant_id: int
    policy: Policy
    loads: tuple[Load, ...]


@dataclass(frozen=True)
class HourPlan:
    """One tenant's hour: the requirement, the agents covering it (shared), its status and expected share."""

    required: Requirement
    covered: float
    status: Status
    expected_share: float


@dataclass(frozen=True)
class WeekPlan:
    """The plan of a week: per tenant and per pool, one entry per hour."""

    hours: int
    tenants: dict[int, tuple[HourPlan, ...]]
    pools: dict[tuple[int, ...], tuple[PoolHour, ...]]

    def short_hours(self) -> list[tuple[int, int, HourPlan]]:
        """Return (tenant id, hour, plan) of every short hour, in order of tenant and hour."""
        return [
            (tenant_id, hour, plan)
            for tenant_id, plans in sorted(self.tenants.items())
            for hour, plan in enumerate(plans)
            if plan.status is Status.SHORT
        ]


def plan_week(
    weeks: Sequence[TenantWeek],
    *,
    on_shift: Sequence[Mapping[int, float]],
    agent_tenants: Mapping[int, frozenset[int]],
) -> WeekPlan:
    """Return the plan: each tenant's and pool's requirement per hour against the shifts (``on_shift[hour]``)."""
    hours = len(on_shift)
    by_tenant = {week.tenant_id: week for week in weeks}
    groups = pools(agent_tenants, list(by_tenant))
    group_of = {tenant_id: group for group in groups for tenant_id in group}
    tenant_plans: dict[int, list[HourPlan]] = {tenant_id: [] for tenant_id in by_tenant}
    pool_plans: dict[tuple[int, ...], list[PoolHour]] = {group: [] for group in groups}
    for hour in range(hours):
        cover = cover_hour(
            {tenant_id: (week.loads[hour], week.policy) for tenant_id, week in by_tenant.items()},
            on_shift=on_shift[hour],
            agent_tenants=agent_tenants,
            groups=groups,
        )
        for tenant_id, week in by_tenant.items():
            need = cover.required[tenant_id]
            mine = cover.covered.get(tenant_id, 0.0)
            working = week.policy.on_floor(mine)
            tenant_plans[tenant_id].append(
                HourPlan(
                    required=need,
                    covered=mine,
                    status=cover.status(tenant_id, group_of[tenant_id]),
                    expected_share=need.share_within_target
                    if working == need.on_floor
                    else evaluate(week.loads[hour], week.policy, agents=working)[0],
                )
            )
        for group in groups:
            pool_plans[group].append(cover.pools[group])
    return WeekPlan(
        hours=hours,
        tenants={tenant_id: tuple(plans) for tenant_id, plans in tenant_plans.items()},
        pools={group: tuple(plans) for group, plans in pool_plans.items()},
    )
