"""Staffing: how many agents a tenant needs now, by Erlang C, and how many it has.

The model (M/M/N, "Erlang C")
    Chats arrive at random (Poisson) at ``arrivals_per_hour``; each occupies one server for the
    handle time on average (exponentially distributed); a chat that finds every server busy waits in
    the queue. With traffic A = arrivals per second x handle seconds (in erlangs) and N servers:

        P(wait)  = C(N, A), the Erlang C probability (1 when N <= A: the queue grows without end)
        P(answered within t) = 1 - C(N, A) * exp(-(N - A) * t / handle seconds)

    The servers needed are the fewest N whose answered-within-target share reaches the target share.

Concurrency
    An agent who may hold c chats at once is modelled as c servers, each working one chat for the
    measured handle time (assignment to close, which already includes the time the agent shared with
    other chats). The agents needed are the servers needed divided by the agents' concurrency (the
    mean maximum of the agents trained for the tenant), rounded up. It is an approximation: an agent
    at their limit slows down, so at high concurrency it is on the optimistic side.

What "now" means for the live board
    The expected arrivals of the current hour and the handle time come from the chat history, which
    lives a layer above (``reporting.demand`` reads them and passes them in). An agent trained for
    several tenants counts as online for each of them (they are pooled).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from tenants.models import Tenant
from workforce.models import Agent, Qualification, Shift

# A tenant's first-response target is a time (Tenant.first_response_target_seconds); the share of
# chats that must be answered within it is the same for every tenant.
TARGET_SHARE = 0.9
DEFAULT_HANDLE_SECONDS = 300
DEFAULT_CONCURRENCY = 3
# No tenant of ours needs this many servers; the search stops here rather than loop on bad input.
MAX_SERVERS = 10_000


# --- Erlang C -------------------------------------------------------------------------------------


def traffic_erlangs(*, arrivals_per_hour: float, handle_seconds: float) -> float:
    """Return the offered traffic in erlangs: arrivals per second times the handle time."""
    return arrivals_per_hour / 3600 * handle_seconds


def erlang_c(*, servers: int, traffic: float) -> float:
    """Return the probability that an arriving chat has to wait, with ``traffic`` in erlangs.

    Computed through the Erlang B recursion B(k) = A B(k-1) / (k + A B(k-1)), B(0) = 1, which stays
    exact for large N where A^N / N! would overflow; then C = N B / (N - A (1 - B)).
    """
    if servers < 0 or traffic < 0:
        raise ValueError("Servers and traffic cannot be negative.")
    if traffic == 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return servers * blocking / (servers - traffic * (1 - blocking))


def service_level(*, servers: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    """Return the share of chats answered within ``target_seconds`` with this many servers."""
    if handle_seconds <= 0:
        raise ValueError("The handle time must be positive.")
    if traffic == 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    waiting = erlang_c(servers=servers, traffic=traffic)
    return 1 - waiting * math.exp(-(servers - traffic) * target_seconds / handle_seconds)


def servers_needed(
    *, arrivals_per_hour: float, handle_seconds: float, target_seconds: float, target_share: float = TARGET_SHARE
) -> int:
    """Return the fewest servers that answer ``target_share`` of the chats within ``target_seconds``."""
    if not 0 < target_share < 1:
        raise ValueError("The target share is a fraction between 0 and 1.")
    traffic = traffic_erlangs(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds)
    if traffic <= 0:
        return 0
    servers = math.floor(traffic) + 1
    while (
        service_level(servers=servers, traffic=traffic, handle_seconds=handle_seconds, target_seconds=target_seconds)
        < target_share
    ):
        servers += 1
        if servers > MAX_SERVERS:
            raise ValueError(f"More than {MAX_SERVERS} servers needed: check the arrivals and handle time.")
    return servers


def agents_needed(
    *,
    arrivals_per_hour: float,
    handle_seconds: float,
    target_seconds: float,
    concurrency: float = 1,
    target_share: float = TARGET_SHARE,
) -> int:
    """Return the agents needed when each holds ``concurrency`` chats at once (c servers per agent)."""
    if concurrency < 1:
        raise ValueError("An agent holds at least one chat at a time.")
    servers = servers_needed(
        arrivals_per_hour=arrivals_per_hour,
        handle_seconds=handle_seconds,
        target_seconds=target_seconds,
        target_share=target_share,
    )
    # A float division can land a hair above a whole number (6 / 1.2 = 5.000000000000001).
    return math.ceil(round(servers / concurrency, 9))


# --- The agents: who is trained, who is working ----------------------------------------------------


@dataclass(frozen=True)
class AgentCover:
    """The agents trained for a tenant, those of them working now, and their mean concurrency."""

    trained: int
    online: int
    concurrency: float


def agent_cover(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, AgentCover]:
    """Return each tenant's trained agents and those online and on shift now, in one query."""
    tenant_ids = [tenant.pk for tenant in tenants]
    on_shift = Shift.objects.on_at(now).values("agent_id")
    working = Q(agent__presence=Agent.Presence.ONLINE, agent_id__in=on_shift)
    rows = (
        Qualification.objects.completed()
        .filter(tenant_id__in=tenant_ids)
        .order_by()
        .values("tenant_id")
        .annotate(
            trained=Count("agent_id", distinct=True),
            online=Count("agent_id", filter=working, distinct=True),
            concurrency=Avg("agent__max_concurrent_chats"),
        )
    )
    found = {row["tenant_id"]: row for row in rows}
    return {
        tenant_id: AgentCover(
            trained=found.get(tenant_id, {}).get("trained", 0),
            online=found.get(tenant_id, {}).get("online", 0),
            concurrency=found.get(tenant_id, {}).get("concurrency") or DEFAULT_CONCURRENCY,
        )
        for tenant_id in tenant_ids
    }


@dataclass(frozen=True)
class StaffingNow:
    """A tenant's staffing in the current hour: expected load, agents needed and agents working."""

    tenant_id: int
    expected_arrivals_per_hour: float
    handle_seconds: float
    concurrency: float
    agents_needed: int
    agents_online: int

    @property
    def shortfall(self) -> int:
        """Return how many agents are missing (0 when enough are working)."""
        return max(self.agents_needed - self.agents_online, 0)


def staffing_now(
    tenants: Iterable[Tenant], *, now: dt.datetime, arrivals: dict[int, float], handle: dict[int, float]
) -> dict[int, StaffingNow]:
    """Return each tenant's agents needed this hour (Erlang C) and working now; one query.

    The demand comes in: ``arrivals`` (expected chats this hour) and ``handle`` (mean handle seconds) by
    tenant id, read from the chat history by the layer that owns it (``reporting.demand``).
    """
    tenants = list(tenants)
    cover = agent_cover(tenants, now=now)
    return {
        tenant.pk: StaffingNow(
            tenant_id=tenant.pk,
            expected_arrivals_per_hour=arrivals[tenant.pk],
            handle_seconds=handle[tenant.pk],
            concurrency=cover[tenant.pk].concurrency,
            agents_needed=agents_needed(
                arrivals_per_hour=arrivals[tenant.pk],
                handle_seconds=handle[tenant.pk],
                target_seconds=tenant.first_response_target_seconds,
                concurrency=cover[tenant.pk].concurrency,
            ),
            agents_online=cover[tenant.pk].online,
        )
        for tenant in tenants
    }
