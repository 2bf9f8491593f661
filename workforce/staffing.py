"""Staffing: how many agents a tenant needs in an hour, and how many it has.

The queue (M/M/N Erlang C, extended to agents who hold several chats)
    Chats arrive at random (Poisson) at ``arrivals_per_hour`` and wait first come, first served. An
    agent holds at most ``c`` chats (the limit). The work of a chat is random (exponential) with mean
    ``handle_seconds``: its handle time when the agent has no other chat (the *solo* handle time).
    An agent holding k chats gets through work at ``f(k)`` times the speed of one chat alone, shared
    equally between the k chats, so each chat goes at ``f(k) / k`` and lasts ``k / f(k)`` times its
    solo handle time. ``f`` (the concurrency factors, f(1) = 1) is the model of concurrency: a second
    or third chat adds less than a whole chat's speed, because the agent switches between them.

    A new chat goes to the least loaded agent (as our routing does), so the n chats in service are
    spread as evenly as the agents allow: the whole floor completes chats at
    mu(n) = ((N - r) f(m) + r f(m + 1)) / handle, with m, r = divmod(n, N). That is a birth-death
    process: its stationary distribution comes from the Erlang B recursion with mu(n) in place of
    n / handle, B(n) = a B(n-1) / (1 + a B(n-1)) with a = arrivals / mu(n). A chat waits only when
    all N c places are taken; the queue then empties at the constant rate N f(c) / handle, so, with
    rho = arrivals x handle / (N f(c)) < 1,

        P(wait)               = B(N c) / (1 - rho (1 - B(N c)))
        P(answered within t)  = 1 - P(wait) exp(-(N f(c) / handle - arrivals) t)

    With c = 1 this is textbook Erlang C (``erlang_c``, ``service_level``). The even spread is an
    approximation (chats close at random, so loads drift apart between arrivals); a discrete-event
    simulation of agents, routing and shared speed (tests/chatops/test_staffing_simulation.py) finds
    the share within target within a few points of this formula.

The concurrency factors and where they come from
    Fitted per tenant from its own history (``fit_concurrency``, fed by ``reporting.demand``): over
    the chats of the last weeks, each agent's time holding exactly k chats (T_k, counting all their
    chats, of any tenant) and the tenant's chats that closed while the agent held k (D_k) give the
    completion rate D_k / T_k; with exponential work that is the maximum-likelihood estimate of
    f(k) / handle, so f(k) = (D_k / T_k) / (D_1 / T_1) and the solo handle time is T_1 / D_1. A level
    needs ``MIN_CLOSES_TO_FIT`` closes (and level 1 too) to be fitted; otherwise, and beyond the
    levels seen, the industry factors are used: about 1.7 for 2 chats, 2.5 for 3, 2.9 for 4 (the
    rule of thumb of contact-centre planners, e.g. the Call Centre Helper / ICMI chat-staffing
    guides: "divide the handle time by the concurrency factor"), and no gain past 4. Fitted factors
    are kept between the previous level's and one chat more.

The requirement of an hour (``requirement``)
    The fewest agents N on the floor whose share of chats answered within the target time reaches
    the target share and whose occupancy (arrivals x handle / (N f(c))) stays under the cap; the
    agents to schedule add the shrinkage (breaks, training): N / (1 - shrinkage), rounded up. The
    shrinkage is ``settings.STAFFING_SHRINKAGE``, 0 unless set. Contact-centre planners start from
    30-35 % when they have not measured their own (breaks and lunch about 12 %, training and meetings
    about 10 %, absence 5-8 %), but they apply it to a week's hours, not to each hour: whole agents per
    hour turn 30 % into "one agent on shift is none at work" (floor(1 x 0.7) = 0), so a one-agent
    night hour would always read short although the agent takes the break in the hour's slack. With
    0 an hour is judged by the agents on shift, breaks assumed to fall where the queue allows; set it
    (e.g. 0.3) to plan as if breaks were taken regardless of the queue. The
    search starts at the load's lower bound and gallops up, then bisects, so it evaluates the queue
    O(log N) times at O(N c) each: time grows with traffic as N log N, never quadratically.

What "now" means for the live board
    The expected arrivals of the current hour and the fitted handle time and factors come from the
    chat history, which lives a layer above (``reporting.demand`` reads them and passes them in). A
    tenant's agents online are those trained for it, online and on shift, each in full; an agent
    trained for several tenants is counted once for their pool, which ``workforce.pooling.pools_now``
    judges by the week plan's rule.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q

from tenants.models import Tenant
from workforce.models import Agent, Qualification, Shift

# A tenant's first-response target is a time (Tenant.first_response_target_seconds); the share of
# chats that must be answered within it is the same for every tenant.
TARGET_SHARE = 0.9
DEFAULT_HANDLE_SECONDS = 300
DEFAULT_CONCURRENCY = 3
# The industry's concurrency factors f(k) for k = 1, 2, 3, 4 chats at once (see the module docstring).
INDUSTRY_FACTORS = (1.0, 1.7, 2.5, 2.9)
MIN_CLOSES_TO_FIT = 30
# No tenant of ours needs this many servers; the search stops here rather than loop on bad input.
MAX_SERVERS = 10_000
# The queue's figures are sums of floats: this keeps 0.8999999999 from failing a 90 % target.
TOLERANCE = 1e-9


# --- Erlang C -------------------------------------------------------------------------------------


def traffic_erlangs(*, arrivals_per_hour: float, handle_seconds: float) -> float:
    """Return the offered traffic in erlangs: arrivals per second times the handle time."""
    return arrivals_per_hour / 3600 * handle_seconds


def _erlang_c_from_b(*, servers: int, traffic: float, blocking: float) -> float:
    return servers * blocking / (servers - traffic * (1 - blocking))


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
    return _erlang_c_from_b(servers=servers, traffic=traffic, blocking=blocking)


def _within(*, waiting: float, servers: float, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    return 1 - waiting * math.exp(-(servers - traffic) * target_seconds / handle_seconds)


def service_level(*, servers: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    """Return the share of chats answered within ``target_seconds`` with this many servers."""
    if handle_seconds <= 0:
        raise ValueError("The handle time must be positive.")
    if traffic == 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    waiting = erlang_c(servers=servers, traffic=traffic)
    return _within(
        waiting=waiting, servers=servers, traffic=traffic, handle_seconds=handle_seconds, target_seconds=target_seconds
    )


def _check_share(target_share: float) -> None:
    if not 0 < target_share < 1:
        raise ValueError("The target share is a fraction between 0 and 1.")


def servers_needed(
    *, arrivals_per_hour: float, handle_seconds: float, target_seconds: float, target_share: float = TARGET_SHARE
) -> int:
    """Return the fewest single-chat servers that answer ``target_share`` of the chats within ``target_seconds``.

    The Erlang B recursion is carried one server at a time from the load up, so the search costs
    O(N) in all, not O(N) per candidate.
    """
    _check_share(target_share)
    traffic = traffic_erlangs(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds)
    if traffic <= 0:
        return 0
    blocking = 1.0
    for servers in range(1, MAX_SERVERS + 1):
        blocking = traffic * blocking / (servers + traffic * blocking)
        if servers <= traffic:
            continue
        waiting = _erlang_c_from_b(servers=servers, traffic=traffic, blocking=blocking)
        level = _within(
            waiting=waiting,
            servers=servers,
            traffic=traffic,
            handle_seconds=handle_seconds,
            target_seconds=target_seconds,
        )
        if level + TOLERANCE >= target_share:
            return servers
    raise ValueError(f"More than {MAX_SERVERS} servers needed: check the arrivals and handle time.")


# --- Concurrency ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConcurrencyModel:
    """How fast an agent works with k chats at once: ``factors[k - 1]`` = f(k), f(1) = 1; the limit is their count.

    ``fitted`` says, per level, whether the factor came from the tenant's history (else the industry's).
    """

    factors: tuple[float, ...]
    fitted: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if not self.factors or self.factors[0] != 1:
            raise ValueError("The factor of one chat is 1.")
        if any(later < earlier for earlier, later in zip(self.factors, self.factors[1:], strict=False)):
            raise ValueError("A further chat cannot slow an agent's total work down.")

    @property
    def limit(self) -> int:
        return len(self.factors)

    @property
    def full_speed(self) -> float:
        """Return f(c): the agent's speed at the limit, in solo chats."""
        return self.factors[-1]

    @property
    def source(self) -> str:
        """Return "fitted", "industry" or "mixed": where the factors came from."""
        if self.fitted and all(self.fitted[1:]) and self.limit > 1:
            return "fitted"
        return "mixed" if any(self.fitted[1:]) else "industry"

    def at(self, chats: int) -> float:
        """Return f(k): 0 for no chat, the limit's factor past the limit."""
        return self.factors[min(chats, self.limit) - 1] if chats > 0 else 0.0


def industry_factor(chats: int) -> float:
    """Return the industry's concurrency factor for k chats at once (no gain past the table's end)."""
    return INDUSTRY_FACTORS[min(chats, len(INDUSTRY_FACTORS)) - 1]


def industry_model(limit: float) -> ConcurrencyModel:
    """Return the industry's factors up to the agents' chat limit (a mean limit rounds to the nearest)."""
    chats = max(round(limit), 1)
    return ConcurrencyModel(factors=tuple(industry_factor(k) for k in range(1, chats + 1)))


@dataclass(frozen=True)
class HandleHistory:
    """What the fit needs of a tenant's history: time at each level and closes at each level (index k - 1)."""

    seconds_at: tuple[float, ...]
    closes_at: tuple[int, ...]


def fit_concurrency(history: HandleHistory, *, limit: float) -> tuple[ConcurrencyModel, float | None]:
    """Return the concurrency model fitted from the history, and the solo handle time (None without level 1)."""
    chats = max(round(limit), 1)
    enough = [
        k <= len(history.closes_at) and history.closes_at[k - 1] >= MIN_CLOSES_TO_FIT and history.seconds_at[k - 1] > 0
        for k in range(1, chats + 1)
    ]
    if not enough[0]:
        return industry_model(chats), None
    solo_rate = history.closes_at[0] / history.seconds_at[0]
    factors, fitted = [1.0], [True]
    for k in range(2, chats + 1):
        previous = factors[-1]
        if enough[k - 1]:
            measured = history.closes_at[k - 1] / history.seconds_at[k - 1] / solo_rate
            factors.append(min(max(measured, previous), previous + 1))
        else:
            factors.append(max(industry_factor(k), previous))
        fitted.append(enough[k - 1])
    return ConcurrencyModel(factors=tuple(factors), fitted=tuple(fitted)), 1 / solo_rate


def handle_history(
    intervals: Iterable[tuple[int, int, dt.datetime, dt.datetime]], *, levels: int = 8
) -> dict[int, HandleHistory]:
    """Return each tenant's time and closes by the agent's number of chats, from (agent, tenant, assigned, closed).

    An agent's chats of every tenant make their load. The time at level k is shared among the
    tenants of the k chats held (a tenant with j of them gets j / k of it), so that closes over
    time estimate f(k) / handle for each tenant; a close counts for the tenant of the chat.
    """
    by_agent: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    for agent_id, tenant_id, assigned_at, closed_at in intervals:
        if closed_at > assigned_at:
            by_agent[agent_id].append((assigned_at, 1, tenant_id))
            by_agent[agent_id].append((closed_at, -1, tenant_id))
    seconds: dict[int, list[float]] = defaultdict(lambda: [0.0] * levels)
    closes: dict[int, list[int]] = defaultdict(lambda: [0] * levels)
    for events in by_agent.values():
        events.sort(key=lambda event: (event[0], event[1]))  # closes before assignments at the same instant
        open_by_tenant: dict[int, int] = defaultdict(int)
        held, since = 0, None
        for moment, change, tenant_id in events:
            if held and since is not None:
                level = min(held, levels) - 1
                spent = (moment - since).total_seconds()
                for owner, count in open_by_tenant.items():
                    if count:
                        seconds[owner][level] += spent * count / held
            if change < 0:
                closes[tenant_id][min(held, levels) - 1] += 1
            held += change
            open_by_tenant[tenant_id] += change
            since = moment
    return {
        tenant_id: HandleHistory(seconds_at=tuple(seconds[tenant_id]), closes_at=tuple(closes[tenant_id]))
        for tenant_id in set(seconds) | set(closes)
    }


# --- The multi-chat queue -------------------------------------------------------------------------


def waiting_probability(
    *, agents: int, arrivals_per_hour: float, handle_seconds: float, model: ConcurrencyModel
) -> float:
    """Return the probability that a chat finds every agent at the limit and waits (the module docstring's P(wait))."""
    arrivals = arrivals_per_hour / 3600
    if arrivals <= 0:
        return 0.0
    if agents <= 0 or arrivals * handle_seconds >= agents * model.full_speed:
        return 1.0
    work = arrivals * handle_seconds
    rho = work / (agents * model.full_speed)
    # n = level x N + r chats (r = 1 ... N) are spread evenly: N - r agents hold ``level``, r one more,
    # so the floor's speed is N f(level) + r (f(level + 1) - f(level)).
    factors = (0.0, *model.factors)
    blocking = 1.0
    for level in range(model.limit):
        base, slope = agents * factors[level], factors[level + 1] - factors[level]
        for more in range(1, agents + 1):
            offered = work * blocking
            blocking = offered / (base + more * slope + offered)
    return blocking / (1 - rho * (1 - blocking))


def share_within(
    *, agents: int, arrivals_per_hour: float, handle_seconds: float, target_seconds: float, model: ConcurrencyModel
) -> float:
    """Return the expected share of chats answered within ``target_seconds`` with ``agents`` on the floor."""
    if handle_seconds <= 0:
        raise ValueError("The handle time must be positive.")
    waiting = waiting_probability(
        agents=agents, arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds, model=model
    )
    if waiting >= 1:
        return 0.0
    drain = agents * model.full_speed / handle_seconds - arrivals_per_hour / 3600
    return 1 - waiting * math.exp(-drain * target_seconds)


def occupancy(*, agents: int, arrivals_per_hour: float, handle_seconds: float, model: ConcurrencyModel) -> float:
    """Return the share of the floor's full speed the traffic takes (above 1: the queue never clears)."""
    if agents <= 0:
        return math.inf if arrivals_per_hour > 0 else 0.0
    return arrivals_per_hour / 3600 * handle_seconds / (agents * model.full_speed)


# --- The requirement of an hour -------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What the requirement is for: the target (share within seconds), shrinkage and occupancy cap."""

    target_seconds: float
    target_share: float = TARGET_SHARE
    shrinkage: float = 0.0
    occupancy_cap: float = 1.0

    def __post_init__(self) -> None:
        _check_share(self.target_share)
        if not 0 <= self.shrinkage < 1:
            raise ValueError("The shrinkage is a fraction from 0 up to, not including, 1.")
        if not 0 < self.occupancy_cap <= 1:
            raise ValueError("The occupancy cap is a fraction above 0, at most 1.")

    def scheduled(self, on_floor: int) -> int:
        """Return the agents to schedule for ``on_floor`` working agents, with the shrinkage."""
        return math.ceil(round(on_floor / (1 - self.shrinkage), 9))

    def on_floor(self, scheduled: float) -> int:
        """Return the whole agents working out of ``scheduled`` on shift, after the shrinkage."""
        return math.floor(round(scheduled * (1 - self.shrinkage), 9))


def default_policy(*, target_seconds: float, **changes: float) -> Policy:
    """Return the policy for a target time, the settings' shrinkage and occupancy cap (``changes`` override)."""
    fields = {
        "target_seconds": target_seconds,
        "target_share": TARGET_SHARE,
        "shrinkage": settings.STAFFING_SHRINKAGE,
        "occupancy_cap": settings.STAFFING_OCCUPANCY_CAP,
    }
    fields.update(changes)
    return Policy(**fields)


def policy_for(tenant: Tenant, **changes: float) -> Policy:
    """Return the tenant's policy: its first-response target and goal, the settings' shrinkage and occupancy cap."""
    changes.setdefault("target_seconds", tenant.first_response_target_seconds)
    changes.setdefault("target_share", tenant.first_response_goal_percent / 100)
    return default_policy(**changes)


@dataclass(frozen=True)
class Load:
    """An hour's traffic: arrivals, solo handle time and the concurrency of the agents who serve it."""

    arrivals_per_hour: float
    handle_seconds: float
    model: ConcurrencyModel


@dataclass(frozen=True)
class Requirement:
    """The agents an hour needs: on the floor, to schedule (with shrinkage), and what they achieve."""

    on_floor: int
    scheduled: int
    share_within_target: float
    occupancy: float


def _meets(agents: int, load: Load, policy: Policy) -> bool:
    if (
        occupancy(
            agents=agents,
            arrivals_per_hour=load.arrivals_per_hour,
            handle_seconds=load.handle_seconds,
            model=load.model,
        )
        > policy.occupancy_cap + TOLERANCE
    ):
        return False
    level = share_within(
        agents=agents,
        arrivals_per_hour=load.arrivals_per_hour,
        handle_seconds=load.handle_seconds,
        target_seconds=policy.target_seconds,
        model=load.model,
    )
    return level + TOLERANCE >= policy.target_share


def agents_on_floor_needed(load: Load, policy: Policy) -> int:
    """Return the fewest agents on the floor that meet the policy: the load's bound, then gallop and bisect."""
    if load.arrivals_per_hour <= 0:
        return 0
    if load.handle_seconds <= 0:
        raise ValueError("The handle time must be positive.")
    busy = load.arrivals_per_hour / 3600 * load.handle_seconds / load.model.full_speed
    low = max(math.floor(busy) + 1, math.ceil(round(busy / policy.occupancy_cap, 9)), 1)
    if _meets(low, load, policy):
        return low
    step = 1
    while not _meets(low + step, load, policy):
        low += step
        step *= 2
        if low > MAX_SERVERS:
            raise ValueError(f"More than {MAX_SERVERS} agents needed: check the arrivals and handle time.")
    high = low + step  # low fails, high meets
    while high - low > 1:
        middle = (low + high) // 2
        if _meets(middle, load, policy):
            high = middle
        else:
            low = middle
    return high


def evaluate(load: Load, policy: Policy, *, agents: int) -> tuple[float, float]:
    """Return the expected share within target and the occupancy with ``agents`` on the floor."""
    level = (
        share_within(
            agents=agents,
            arrivals_per_hour=load.arrivals_per_hour,
            handle_seconds=load.handle_seconds,
            target_seconds=policy.target_seconds,
            model=load.model,
        )
        if load.arrivals_per_hour > 0
        else 1.0
    )
    used = occupancy(
        agents=agents, arrivals_per_hour=load.arrivals_per_hour, handle_seconds=load.handle_seconds, model=load.model
    )
    return level, used


def requirement(load: Load, policy: Policy) -> Requirement:
    """Return the hour's requirement: agents on the floor, to schedule, and their expected share and occupancy."""
    on_floor = agents_on_floor_needed(load, policy)
    level, used = evaluate(load, policy, agents=on_floor)
    return Requirement(
        on_floor=on_floor, scheduled=policy.scheduled(on_floor), share_within_target=level, occupancy=used
    )


def agents_needed(
    *,
    arrivals_per_hour: float,
    handle_seconds: float,
    target_seconds: float,
    model: ConcurrencyModel,
    target_share: float = TARGET_SHARE,
) -> int:
    """Return the agents on the floor needed for ``target_share`` within ``target_seconds`` (no shrinkage, no cap)."""
    load = Load(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds, model=model)
    return agents_on_floor_needed(load, Policy(target_seconds=target_seconds, target_share=target_share))


# --- Fitted models and the agents: who is trained, who is working ----------------------------------


@dataclass(frozen=True)
class Fitted:
    """A tenant's concurrency model and solo handle time, as fitted from its history (see ``fit_concurrency``)."""

    model: ConcurrencyModel
    handle_seconds: float


def fitted_models(histories: dict[int, HandleHistory], limits: dict[int, float]) -> dict[int, Fitted]:
    """Return each tenant's fitted model for the agents' chat limit ``limits[tenant_id]`` from its history.

    A tenant without enough closes at one chat keeps the default solo handle time.
    """
    empty = HandleHistory(seconds_at=(), closes_at=())
    fitted = {}
    for tenant_id, limit in limits.items():
        model, solo = fit_concurrency(histories.get(tenant_id, empty), limit=limit)
        fitted[tenant_id] = Fitted(model=model, handle_seconds=solo or DEFAULT_HANDLE_SECONDS)
    return fitted


@dataclass(frozen=True)
class AgentCover:
    """The agents trained for a tenant, those of them working now, and their mean chat limit."""

    agents: frozenset[int]
    working: frozenset[int]
    concurrency: float

    @property
    def trained(self) -> int:
        return len(self.agents)

    @property
    def online(self) -> int:
        return len(self.working)


def agent_cover(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, AgentCover]:
    """Return each tenant's trained agents and those online and on shift now, in one query."""
    tenant_ids = [tenant.pk for tenant in tenants]
    on_shift = Shift.objects.on_at(now).values("agent_id")
    working = Q(agent__presence=Agent.Presence.ONLINE, agent_id__in=on_shift)
    rows = (
        Qualification.objects.completed()
        .filter(tenant_id__in=tenant_ids)
        .order_by()
        .annotate(working=ExpressionWrapper(working, output_field=BooleanField()))
        .values_list("tenant_id", "agent_id", "agent__max_concurrent_chats", "working")
    )
    agents: dict[int, set[int]] = defaultdict(set)
    at_work: dict[int, set[int]] = defaultdict(set)
    limits: dict[int, list[int]] = defaultdict(list)
    for tenant_id, agent_id, limit, is_working in rows:
        agents[tenant_id].add(agent_id)
        limits[tenant_id].append(limit)
        if is_working:
            at_work[tenant_id].add(agent_id)
    return {
        tenant_id: AgentCover(
            agents=frozenset(agents[tenant_id]),
            working=frozenset(at_work[tenant_id]),
            concurrency=sum(limits[tenant_id]) / len(limits[tenant_id]) if limits[tenant_id] else DEFAULT_CONCURRENCY,
        )
        for tenant_id in tenant_ids
    }


@dataclass(frozen=True)
class StaffingNow:
    """A tenant's staffing in the current hour: expected load, agents needed on the floor and agents working."""

    tenant_id: int
    expected_arrivals_per_hour: float
    handle_seconds: float
    concurrency: float
    agents_needed: int
    agents_online: int
    policy: Policy
    cover: AgentCover
    model: ConcurrencyModel | None = None
    share_within_target: float | None = None

    @property
    def shortfall(self) -> int:
        """Return how many agents are missing (0 when enough are working)."""
        return max(self.agents_needed - self.agents_online, 0)

    @property
    def load(self) -> Load:
        """Return the hour's load: the expected chats, the fitted handle time and concurrency."""
        return Load(
            arrivals_per_hour=self.expected_arrivals_per_hour,
            handle_seconds=self.handle_seconds,
            model=self.model or industry_model(self.concurrency),
        )


def staffing_now(
    tenants: Sequence[Tenant],
    *,
    arrivals: dict[int, float],
    fitted: dict[int, Fitted],
    cover: dict[int, AgentCover],
) -> dict[int, StaffingNow]:
    """Return each tenant's agents needed on the floor this hour and working now, from the demand passed in.

    ``arrivals`` (expected chats this hour) and ``fitted`` (handle time and concurrency) come from the
    chat history (``reporting.demand``), ``cover`` from ``agent_cover``. The online agents' expected
    share within target is worked out with the same model. The agents online are at work: no shrinkage.
    Each tenant is judged alone here; ``workforce.pooling.pools_now`` judges the pools.
    """
    found = {}
    for tenant in tenants:
        load = Load(
            arrivals_per_hour=arrivals[tenant.pk],
            handle_seconds=fitted[tenant.pk].handle_seconds,
            model=fitted[tenant.pk].model,
        )
        policy = policy_for(tenant, shrinkage=0.0)
        online = cover[tenant.pk].online
        found[tenant.pk] = StaffingNow(
            tenant_id=tenant.pk,
            expected_arrivals_per_hour=load.arrivals_per_hour,
            handle_seconds=load.handle_seconds,
            concurrency=cover[tenant.pk].concurrency,
            agents_needed=agents_on_floor_needed(load, policy),
            agents_online=online,
            model=load.model,
            share_within_target=evaluate(load, policy, agents=online)[0],
            policy=policy,
            cover=cover[tenant.pk],
        )
    return found


def agents_to_schedule(
    *,
    arrivals_per_hour: float,
    handle_seconds: float,
    target_seconds: float,
    concurrency: float | ConcurrencyModel,
    target_share: float = TARGET_SHARE,
) -> int:
    """Return the agents to have on shift for an hour, with the settings' shrinkage and occupancy cap.

    ``concurrency`` is a fitted model, or the agents' mean chat limit for the industry's factors;
    ``target_share`` the share of chats to answer within ``target_seconds``.
    """
    model = concurrency if isinstance(concurrency, ConcurrencyModel) else industry_model(concurrency)
    policy = default_policy(target_seconds=target_seconds, target_share=target_share)
    load = Load(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds, model=model)
    return policy.scheduled(agents_on_floor_needed(load, policy))
