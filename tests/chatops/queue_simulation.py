"""A discrete-event simulation of the chat floor, to check the staffing model against (not a model itself).

Agents hold up to ``limit`` chats; a new chat goes to the least loaded agent below the limit (the one
idle longest among equals, as our routing does), else waits first come, first served. Each chat
brings an amount of work (exponential, mean ``handle_seconds``); an agent with k chats gets through
``factors[k - 1]`` solo chats' worth of work per solo second, shared equally, so each of the k chats
advances at factors[k - 1] / k. Every chat's remaining work is tracked and the next event is the
earlier of the next arrival and the first chat to finish its work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class SimulatedFloor:
    """What a run measured: each chat's wait, and every handled chat as (agent, tenant, assigned, closed) in seconds."""

    waits: list[float] = field(default_factory=list)
    handled: list[tuple[int, int, float, float]] = field(default_factory=list)

    def share_within(self, seconds: float, *, skip: int = 0) -> float:
        counted = self.waits[skip:]
        return sum(wait <= seconds for wait in counted) / len(counted)


def simulate(
    *,
    agents: int,
    arrivals_per_hour: float,
    handle_seconds: float,
    factors: tuple[float, ...],
    chats: int,
    seed: int,
) -> SimulatedFloor:
    """Run the floor until ``chats`` chats have arrived; return the waits (in order of arrival) and handled chats."""
    rng = random.Random(seed)
    rate = arrivals_per_hour / 3600
    limit = len(factors)
    held: list[list[list[float]]] = [[] for _ in range(agents)]  # per agent: [remaining work, assigned at]
    idle_since = [0.0] * agents
    queue: list[tuple[int, float]] = []  # (chat number, arrived at)
    floor = SimulatedFloor()
    now, next_arrival, arrived = 0.0, rng.expovariate(rate), 0

    def assign(agent: int, number: int, arrived_at: float) -> None:
        floor.waits[number] = now - arrived_at
        held[agent].append([rng.expovariate(1 / handle_seconds), now])

    while arrived < chats or any(held):
        finish, finisher = float("inf"), -1
        for agent, open_chats in enumerate(held):
            if open_chats:
                speed = factors[len(open_chats) - 1] / len(open_chats)
                soonest = min(chat[0] for chat in open_chats) / speed
                if now + soonest < finish:
                    finish, finisher = now + soonest, agent
        moment = min(finish, next_arrival) if arrived < chats else finish
        for open_chats in held:
            if open_chats:
                done = (moment - now) * factors[len(open_chats) - 1] / len(open_chats)
                for chat in open_chats:
                    chat[0] -= done
        now = moment
        if arrived < chats and next_arrival <= finish:
            floor.waits.append(0.0)
            free = [agent for agent in range(agents) if len(held[agent]) < limit]
            if free:
                agent = min(free, key=lambda a: (len(held[a]), idle_since[a]))
                assign(agent, arrived, now)
            else:
                queue.append((arrived, now))
            arrived += 1
            next_arrival = now + rng.expovariate(rate)
        else:
            open_chats = held[finisher]
            chat = min(open_chats, key=lambda c: c[0])
            open_chats.remove(chat)
            floor.handled.append((finisher, 1, chat[1], now))
            if not open_chats:
                idle_since[finisher] = now
            if queue:
                number, arrived_at = queue.pop(0)
                assign(finisher, number, arrived_at)
    return floor
