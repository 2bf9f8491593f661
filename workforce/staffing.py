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
    The expected arrivals of the current hour are the chats (reactive and proactive; offline messages
    need nobody online) that started in the same local hour of the same weekday in each of the last
    ``WEEKS_OF_HISTORY`` weeks, averaged. The handle time is the tenant's mean over the chats started
    in those weeks. Both come from one query each for all tenants; an agent trained for several
    tenants counts as online for each of them (they are pooled).
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from chatops.models import Agent, Qualification, Shift
from conversations.models import Conversation
from tenants.models import Tenant

# A tenant's first-response target is a time (Tenant.first_response_target_seconds); the share of
# chats that must be answered within it is the same for every tenant.
TARGET_SHARE = 0.9
WEEKS_OF_HISTORY = 4
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


# --- The figures from the database ----------------------------------------------------------------


def same_hour_in_past_weeks(
    now: dt.datetime, zone: zoneinfo.ZoneInfo, weeks: int = WEEKS_OF_HISTORY
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return the moments [start, end) of the local hour ``now`` falls in, 1 to ``weeks`` weeks back.

    Weeks are counted on the local clock, so across a daylight-saving change it is still 14:00-15:00
    local time on the same weekday.
    """
    hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    windows = []
    for week in range(1, weeks + 1):
        start = (hour - dt.timedelta(weeks=week)).replace(tzinfo=zone).astimezone(dt.UTC)
        windows.append((start, start + dt.timedelta(hours=1)))
    return windows


def expected_arrivals_per_hour(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, float]:
    """Return each tenant's expected live chats in the current hour, in one query for all tenants."""
    ids_by_zone: dict[zoneinfo.ZoneInfo, list[int]] = defaultdict(list)
    for tenant in tenants:
        ids_by_zone[tenant.zone].append(tenant.pk)
    if not ids_by_zone:
        return {}
    windows = Q(pk__in=[])
    for zone, tenant_ids in ids_by_zone.items():
        for start, end in same_hour_in_past_weeks(now, zone):
            windows |= Q(tenant_id__in=tenant_ids, started_at__gte=start, started_at__lt=end)
    rows = (
        Conversation.objects.filter(windows)
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
        .order_by()
        .values("tenant_id")
        .annotate(chats=Count("pk"))
    )
    counts = {row["tenant_id"]: row["chats"] for row in rows}
    return {
        tenant_id: counts.get(tenant_id, 0) / WEEKS_OF_HISTORY
        for tenant_ids in ids_by_zone.values()
        for tenant_id in tenant_ids
    }


def recent_handle_seconds(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, float]:
    """Return each tenant's mean handle time over the chats of the last weeks (a default without any)."""
    from reporting.kpis import HANDLED, Seconds

    tenant_ids = [tenant.pk for tenant in tenants]
    rows = (
        Conversation.objects.filter(
            HANDLED,
            tenant_id__in=tenant_ids,
            started_at__gte=now - dt.timedelta(weeks=WEEKS_OF_HISTORY),
            started_at__lt=now,
        )
        .order_by()
        .values("tenant_id")
        .annotate(seconds=Avg(Seconds("closed_at", "assigned_at")))
    )
    found = {row["tenant_id"]: row["seconds"] for row in rows if row["seconds"]}
    return {tenant_id: found.get(tenant_id, DEFAULT_HANDLE_SECONDS) for tenant_id in tenant_ids}


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


def staffing_now(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, StaffingNow]:
    """Return each tenant's agents needed this hour (Erlang C) and working now; three queries in all."""
    tenants = list(tenants)
    arrivals = expected_arrivals_per_hour(tenants, now=now)
    handle = recent_handle_seconds(tenants, now=now)
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
