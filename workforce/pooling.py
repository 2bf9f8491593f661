"""Pooling: tenants that share trained agents, their combined requirement, and an agent's hour shared among them.

Pure computation (no database), used by the week plan (``chatops.staffing_plan``), the monthly
report's coverage (``reporting.coverage``) and the live operations board (``pools_now``), so that all
three judge an hour the same way.

Pools
    Tenants that share trained agents form a pool (a connected part of the agent-tenant training
    graph): its agents can serve the combined traffic. The pool's requirement serves all its chats
    first come, first served to the strictest target of its tenants, with the arrivals-weighted solo
    handle time and concurrency factors; the pool can always be run as separate teams, so its
    requirement is at most the sum of the separate ones. The difference is the pooling saving.

An agent's hour counts once
    An agent on shift gives one agent-hour (or the part of the hour on shift), shared among the
    tenants they are trained for in proportion to those tenants' agents required in that hour
    (equally when none needs anyone), never counted in full for each. The pool counts each agent
    on shift once.

Short, right, over
    An hour is short when the agents covering it are below the agents to schedule, over when they
    are a whole agent or more above it, right otherwise. A tenant's hour (``tenant_status``) is short
    when the agents trained for it on shift, each in full, are fewer than it needs on its own (the
    pool's other agents cannot answer its chats), or when its pool is short (one queue: a short pool
    is short for each of its tenants); over when its part of the agents is a whole agent or more above
    its need; right otherwise.

Now (the live board)
    The agents on shift are those online and on shift now, each in full (no shrinkage: they are at
    work). A tenant is short when its own trained agents online are fewer than it needs, or when its
    pool's agents online, each counted once, are fewer than the pool's requirement. Either need is
    never below the agents the chats open now call for (open chats / chat limit, summed over the pool).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from workforce.staffing import (
    TOLERANCE,
    ConcurrencyModel,
    Load,
    Policy,
    Requirement,
    StaffingNow,
    requirement,
)


class Status(StrEnum):
    SHORT = "short"
    RIGHT = "right"
    OVER = "over"


def status_of(covered: float, needed: int) -> Status:
    """Return short, right or over for the agents covering an hour against the agents to schedule."""
    if covered + TOLERANCE < needed:
        return Status.SHORT
    if covered + TOLERANCE >= needed + 1:
        return Status.OVER
    return Status.RIGHT


# --- Pooling --------------------------------------------------------------------------------------


def pooled_load(loads: Sequence[Load]) -> Load:
    """Return the combined traffic of several tenants: arrivals summed, handle time and factors weighted by arrivals."""
    total = sum(load.arrivals_per_hour for load in loads)
    weights = [load.arrivals_per_hour / total if total else 1 / len(loads) for load in loads]
    limit = min(load.model.limit for load in loads)
    factors = [sum(w * load.model.factors[k] for w, load in zip(weights, loads, strict=True)) for k in range(limit)]
    factors[0] = 1.0
    # Weighted means of non-decreasing sequences stay non-decreasing; max() only guards rounding.
    for k in range(1, limit):
        factors[k] = max(factors[k], factors[k - 1])
    handle = sum(w * load.handle_seconds for w, load in zip(weights, loads, strict=True))
    return Load(arrivals_per_hour=total, handle_seconds=handle, model=ConcurrencyModel(factors=tuple(factors)))


def pooled_policy(policies: Sequence[Policy]) -> Policy:
    """Return the strictest of the policies: the shortest target, highest share, most shrinkage, lowest cap."""
    return Policy(
        target_seconds=min(policy.target_seconds for policy in policies),
        target_share=max(policy.target_share for policy in policies),
        shrinkage=max(policy.shrinkage for policy in policies),
        occupancy_cap=min(policy.occupancy_cap for policy in policies),
    )


@dataclass(frozen=True)
class PooledRequirement:
    """A pool's hour: the agents to schedule if its tenants were staffed apart, and together."""

    separate: int
    pooled: int
    share_within_target: float

    @property
    def saving(self) -> int:
        return self.separate - self.pooled


def pooled_requirement(hours: Sequence[tuple[Load, Policy]], separate: Sequence[Requirement]) -> PooledRequirement:
    """Return the pool's requirement beside the sum of its tenants' ``separate`` ones (never above that sum)."""
    total = sum(each.scheduled for each in separate)
    if len(hours) == 1:
        return PooledRequirement(separate=total, pooled=total, share_within_target=separate[0].share_within_target)
    together = requirement(pooled_load([load for load, _ in hours]), pooled_policy([policy for _, policy in hours]))
    if together.scheduled <= total:
        return PooledRequirement(
            separate=total, pooled=together.scheduled, share_within_target=together.share_within_target
        )
    worst = min(each.share_within_target for each in separate)
    return PooledRequirement(separate=total, pooled=total, share_within_target=worst)


def pools(agent_tenants: Mapping[int, frozenset[int]], tenant_ids: Sequence[int]) -> list[tuple[int, ...]]:
    """Return the tenants grouped into pools: connected through agents trained for more than one (sorted)."""
    parent = {tenant_id: tenant_id for tenant_id in tenant_ids}

    def root(tenant_id: int) -> int:
        while parent[tenant_id] != tenant_id:
            parent[tenant_id] = parent[parent[tenant_id]]
            tenant_id = parent[tenant_id]
        return tenant_id

    for trained in agent_tenants.values():
        known = sorted(tenant_id for tenant_id in trained if tenant_id in parent)
        for other in known[1:]:
            parent[root(other)] = root(known[0])
    groups: dict[int, list[int]] = defaultdict(list)
    for tenant_id in tenant_ids:
        groups[root(tenant_id)].append(tenant_id)
    return sorted(tuple(sorted(group)) for group in groups.values())


# --- Coverage -------------------------------------------------------------------------------------


def share_agent_hours(
    on_shift: Mapping[int, float], agent_tenants: Mapping[int, frozenset[int]], weights: Mapping[int, float]
) -> dict[int, float]:
    """Return each tenant's agents in an hour: every agent's part of the hour shared among their tenants.

    ``on_shift`` is the part of the hour each agent is on shift (0-1); ``weights`` the tenants'
    requirement in the hour. An agent's hour is split in proportion to their tenants' weights, or
    equally among them when none weighs anything.
    """
    covered: dict[int, float] = defaultdict(float)
    for agent_id, part in on_shift.items():
        tenants = [tenant_id for tenant_id in agent_tenants.get(agent_id, ()) if tenant_id in weights]
        if not tenants or part <= 0:
            continue
        total = sum(weights[tenant_id] for tenant_id in tenants)
        for tenant_id in tenants:
            covered[tenant_id] += part * (weights[tenant_id] / total if total else 1 / len(tenants))
    return dict(covered)


@dataclass(frozen=True)
class PoolHour:
    """One pool's hour: separate and pooled requirement, the agents on shift for it (each once), its status."""

    requirement: PooledRequirement
    on_shift: float
    status: Status


@dataclass(frozen=True)
class HourCover:
    """One hour of several tenants: each tenant's requirement and share of the agents, and each pool's hour."""

    required: dict[int, Requirement]
    covered: dict[int, float]  # each tenant's part of the agents on shift
    trained: dict[int, float]  # the agents trained for each tenant on shift, each in full
    pools: dict[tuple[int, ...], PoolHour]

    def status(self, tenant_id: int, group: tuple[int, ...]) -> Status:
        """Return the tenant's status in this hour, ``group`` being its pool (see the module docstring)."""
        need = self.required[tenant_id].scheduled
        if self.trained.get(tenant_id, 0.0) + TOLERANCE < need or self.pools[group].status is Status.SHORT:
            return Status.SHORT
        return Status.OVER if status_of(self.covered.get(tenant_id, 0.0), need) is Status.OVER else Status.RIGHT


def cover_hour(
    hours: Mapping[int, tuple[Load, Policy]],
    *,
    on_shift: Mapping[int, float],
    agent_tenants: Mapping[int, frozenset[int]],
    groups: Sequence[tuple[int, ...]],
) -> HourCover:
    """Return an hour's requirement per tenant and pool against the agents on shift (``on_shift[agent]``, 0-1).

    ``hours`` holds each tenant's load and policy, ``groups`` the pools (``pools``) of those tenants.
    """
    required = {tenant_id: requirement(load, policy) for tenant_id, (load, policy) in hours.items()}
    covered = share_agent_hours(
        on_shift, agent_tenants, {tenant_id: need.scheduled for tenant_id, need in required.items()}
    )
    trained: dict[int, float] = defaultdict(float)
    for agent_id, part in on_shift.items():
        for tenant_id in agent_tenants.get(agent_id, ()):
            if tenant_id in hours:
                trained[tenant_id] += part
    pool_hours = {}
    for group in groups:
        pooled = pooled_requirement([hours[t] for t in group], [required[t] for t in group])
        present = sum(covered.get(tenant_id, 0.0) for tenant_id in group)
        pool_hours[group] = PoolHour(requirement=pooled, on_shift=present, status=status_of(present, pooled.pooled))
    return HourCover(required=required, covered=covered, trained=dict(trained), pools=pool_hours)


# --- Now (the live board) -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolNow:
    """A pool now: its tenants, its agents online and on shift (each once) and the agents it needs."""

    tenant_ids: tuple[int, ...]
    working: int
    needed: int

    @property
    def short(self) -> bool:
        return self.working < self.needed


def pools_now(tenants: Mapping[int, StaffingNow], *, open_chat_agents: Mapping[int, float]) -> dict[int, PoolNow]:
    """Return each tenant's pool now, from the tenants' staffing now (``staffing.staffing_now``).

    The pools and the pooled requirement are ``cover_hour``'s, with the agents working now on shift in
    full; ``open_chat_agents[tenant]`` (open chats / the agents' chat limit) summed over a pool and
    rounded up is the least it needs.
    """
    trained: dict[int, set[int]] = defaultdict(set)
    working: set[int] = set()
    for tenant_id, now in tenants.items():
        for agent_id in now.cover.agents:
            trained[agent_id].add(tenant_id)
        working |= now.cover.working
    agent_tenants = {agent_id: frozenset(tenant_ids) for agent_id, tenant_ids in trained.items()}
    groups = pools(agent_tenants, list(tenants))
    cover = cover_hour(
        {tenant_id: (now.load, now.policy) for tenant_id, now in tenants.items()},
        on_shift=dict.fromkeys(working, 1.0),
        agent_tenants=agent_tenants,
        groups=groups,
    )
    found = {}
    for group in groups:
        pool = cover.pools[group]
        for_open_chats = math.ceil(round(sum(open_chat_agents.get(tenant_id, 0.0) for tenant_id in group), 9))
        now = PoolNow(
            tenant_ids=group,
            working=round(pool.on_shift),
            needed=max(pool.requirement.pooled, for_open_chats),
        )
        found.update(dict.fromkeys(group, now))
    return found
