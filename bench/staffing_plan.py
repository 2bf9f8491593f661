"""Time the staffing week plan for 50 tenants x 168 hours, and how the agent-count search grows with traffic.

The plan (``chatops.staffing_plan.plan_week``) is pure computation: this bench makes up 50 tenants
with a weekly pattern of up to ``--peak`` chats an hour, solo handle times of 150-400 s, agents
holding 2-4 chats, 400 agents in ten teams, each agent trained for one to three of their team's
five tenants (so the tenants form ten pools), and eight-hour shifts on five days, then times the
whole plan: each tenant's requirement per hour, each pool's pooled one, the agents' hours shared
among their tenants, and every hour's expected share within target.

Then it times the search for the agents needed alone at traffic growing tenfold per step: the
search evaluates the queue O(log N) times at O(N c) each, so the time per requirement should grow
about tenfold per step (N log N), not a hundredfold (quadratic).

    python bench/staffing_plan.py --rounds 5

Needs no database (Django is set up only for the imports).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatops.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from chatops.staffing_plan import TenantWeek, plan_week  # noqa: E402
from workforce import staffing  # noqa: E402
from workforce.staffing import Load, Policy  # noqa: E402

HOURS = 168
TENANTS = 50
AGENTS = 400


def weekly_pattern(hour: int, peak: float, rng: random.Random) -> float:
    """Return a made-up arrival rate: busy office hours, quieter evenings, a little at night, less at weekends."""
    day, clock = divmod(hour, 24)
    daytime = max(math.sin(math.pi * (clock - 6) / 16), 0.05) if 6 <= clock < 22 else 0.05
    weekend = 0.6 if day >= 5 else 1.0
    return peak * daytime * weekend * rng.uniform(0.8, 1.2)


def make_weeks(peak: float, rng: random.Random) -> list[TenantWeek]:
    weeks = []
    for tenant_id in range(1, TENANTS + 1):
        model = staffing.industry_model(rng.randint(2, 4))
        handle = rng.uniform(150, 400)
        scale = rng.uniform(0.1, 1.0)
        loads = tuple(
            Load(arrivals_per_hour=weekly_pattern(hour, peak * scale, rng), handle_seconds=handle, model=model)
            for hour in range(HOURS)
        )
        policy = Policy(target_seconds=rng.choice([10, 20, 30]), shrinkage=0.25, occupancy_cap=0.85)
        weeks.append(TenantWeek(tenant_id=tenant_id, policy=policy, loads=loads))
    return weeks


def make_shifts(rng: random.Random) -> tuple[list[dict[int, float]], dict[int, frozenset[int]]]:
    # Teams of 40 agents serve ten groups of 5 tenants; within a group each agent is trained for one to three.
    trained = {}
    for agent in range(AGENTS):
        group = range(agent % 10 * 5 + 1, agent % 10 * 5 + 6)
        trained[agent] = frozenset(rng.sample(group, rng.choice([1, 1, 2, 3])))
    on_shift: list[dict[int, float]] = [{} for _ in range(HOURS)]
    for agent in range(AGENTS):
        for day in rng.sample(range(7), 5):
            start = day * 24 + rng.choice([6, 8, 10, 14])
            for hour in range(start, min(start + 8, HOURS)):
                on_shift[hour][agent] = 1.0
    return on_shift, trained


def time_plan(peak: float, rounds: int) -> None:
    rng = random.Random(15)
    weeks = make_weeks(peak, rng)
    on_shift, trained = make_shifts(rng)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        plan = plan_week(weeks, on_shift=on_shift, agent_tenants=trained)
        times.append(time.perf_counter() - started)
    short = len(plan.short_hours())
    saving = sum(hour.requirement.saving for hours in plan.pools.values() for hour in hours)
    print(
        f"plan, {TENANTS} tenants x {HOURS} hours, peak {peak:g} chats/h: best {min(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms over {rounds} rounds; {len(plan.pools)} pools, "
        f"{short} short tenant-hours, pooling saves {saving} agent-hours"
    )


def time_search(rounds: int) -> None:
    policy = Policy(target_seconds=10)
    model = staffing.industry_model(3)
    previous = None
    print("search for the agents needed (300 s, 3 chats, 90 % in 10 s), best of the rounds:")
    print("  chats/h   agents   ms per search   x previous")
    for arrivals in (10, 100, 1_000, 10_000, 100_000):
        load = Load(arrivals_per_hour=arrivals, handle_seconds=300, model=model)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            needed = staffing.agents_on_floor_needed(load, policy)
            times.append(time.perf_counter() - started)
        each = min(times)
        growth = f"{each / previous:8.1f}" if previous else "       -"
        print(f"  {arrivals:7d}  {needed:7d}   {each * 1000:13.3f}   {growth}")
        previous = each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peak", type=float, default=60, help="the busiest tenant's peak chats an hour")
    args = parser.parse_args()
    time_plan(args.peak, args.rounds)
    time_search(args.rounds)


if __name__ == "__main__":
    main()
