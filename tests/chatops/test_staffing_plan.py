"""The week plan's arithmetic: pooling, an agent's hour shared among tenants, short / right / over."""

from __future__ import annotations

import random

import pytest

from chatops.staffing_plan import TenantWeek, plan_week
from workforce import staffing
from workforce.pooling import Status, pooled_load, pooled_requirement, pools, share_agent_hours, status_of
from workforce.staffing import Load, Policy

SHOP, GYM, BANK = 1, 2, 3


def load(arrivals: float, handle: float = 300, chats: int = 3) -> Load:
    return Load(arrivals_per_hour=arrivals, handle_seconds=handle, model=staffing.industry_model(chats))


def separate_and_pooled(hours):
    separate = [staffing.requirement(each, policy) for each, policy in hours]
    return pooled_requirement(hours, separate)


def test_two_tenants_with_the_same_traffic_need_fewer_agents_pooled_than_apart():
    # given two tenants of 60 chats an hour at 300 s, agents holding 3, 90 % within 10 s
    policy = Policy(target_seconds=10)
    alone = staffing.requirement(load(60), policy)

    # when
    together = separate_and_pooled([(load(60), policy), (load(60), policy)])

    # then apart is twice one alone; together is one tenant of 120 an hour (6 agents), fewer
    assert together.separate == 2 * alone.scheduled == 8
    assert together.pooled == staffing.requirement(load(120), policy).scheduled == 6
    assert together.saving == 2


def test_the_pooled_requirement_never_exceeds_the_sum_of_the_separate_ones():
    rng = random.Random(11)
    for _ in range(60):
        hours = [
            (
                load(rng.choice([0, rng.uniform(0.5, 300)]), rng.uniform(90, 600), rng.randint(1, 4)),
                Policy(
                    target_seconds=rng.choice([10, 30, 60]),
                    target_share=rng.choice([0.8, 0.9]),
                    shrinkage=rng.choice([0, 0.3]),
                ),
            )
            for _ in range(rng.randint(2, 4))
        ]

        pooled = separate_and_pooled(hours)

        assert pooled.pooled <= pooled.separate


def test_the_pools_load_weighs_handle_time_and_factors_by_arrivals_and_takes_the_lowest_limit():
    combined = pooled_load([load(30, 200, chats=2), load(90, 400, chats=4)])

    assert combined.arrivals_per_hour == 120
    assert combined.handle_seconds == pytest.approx(0.25 * 200 + 0.75 * 400)
    assert combined.model.factors == (1.0, 1.7)


def test_tenants_sharing_agents_form_one_pool():
    trained = {10: frozenset({SHOP, GYM}), 11: frozenset({GYM}), 12: frozenset({BANK}), 13: frozenset({99})}

    assert pools(trained, [SHOP, GYM, BANK]) == [(1, 2), (3,)]


def test_an_agents_hour_is_shared_among_their_tenants_by_what_each_needs():
    trained = {10: frozenset({SHOP, GYM}), 11: frozenset({GYM})}

    covered = share_agent_hours({10: 1.0, 11: 0.5}, trained, {SHOP: 3, GYM: 1})

    assert covered == {SHOP: pytest.approx(0.75), GYM: pytest.approx(0.25 + 0.5)}
    assert share_agent_hours({10: 1.0}, trained, {SHOP: 0, GYM: 0}) == {SHOP: 0.5, GYM: 0.5}


def test_an_agent_on_shift_for_two_tenants_is_counted_once():
    # given one agent trained for the shop and the gym, on shift the whole hour; each tenant has one chat
    # an hour at 300 s, one at a time: alone A = 1/12, 1 - 1/12 e^(-(11/12) 10/300) = 0.919: one agent;
    # together A = 1/6, 1 - 1/6 e^(-(5/6) 10/300) = 0.838 < 0.9: two agents
    policy = Policy(target_seconds=10)
    weeks = [TenantWeek(tenant_id=tenant, policy=policy, loads=(load(1, chats=1),)) for tenant in (SHOP, GYM)]

    # when
    plan = plan_week(weeks, on_shift=[{10: 1.0}], agent_tenants={10: frozenset({SHOP, GYM})})

    # then each tenant gets half of him: short for its one agent apart
    shop, gym = plan.tenants[SHOP][0], plan.tenants[GYM][0]
    assert (shop.required.scheduled, shop.covered, shop.status) == (1, 0.5, Status.SHORT)
    assert (gym.required.scheduled, gym.covered, gym.status) == (1, 0.5, Status.SHORT)
    assert sum(hour.covered for hour in (shop, gym)) == 1
    # and the pool counts him once, against what the two need together
    pool = plan.pools[(SHOP, GYM)][0]
    assert pool.on_shift == 1
    assert (pool.requirement.separate, pool.requirement.pooled) == (2, 2)
    assert pool.status is Status.SHORT
    assert [(tenant, hour) for tenant, hour, _ in plan.short_hours()] == [(SHOP, 0), (GYM, 0)]


def test_hours_read_short_right_or_over():
    assert [status_of(covered, 3) for covered in (2.5, 3.0, 3.9, 4.0)] == [
        Status.SHORT,
        Status.RIGHT,
        Status.RIGHT,
        Status.OVER,
    ]


def test_the_expected_share_is_that_of_the_whole_agents_working_after_shrinkage():
    # given 120 chats an hour at 300 s, 3 chats each (6 on the floor), 25 % shrinkage: 8 to schedule
    policy = Policy(target_seconds=10, shrinkage=0.25)
    week = TenantWeek(tenant_id=SHOP, policy=policy, loads=(load(120),) * 2)

    # when 8 are on shift in the first hour and 7 in the second
    trained = {n: frozenset({SHOP}) for n in range(8)}
    plan = plan_week(
        [week], on_shift=[dict.fromkeys(range(8), 1.0), dict.fromkeys(range(7), 1.0)], agent_tenants=trained
    )

    # then 8 x 0.75 = 6 working reach the target; 7 x 0.75 = 5.25, so 5 working, do not
    first, second = plan.tenants[SHOP]
    assert first.required.scheduled == 8 and first.status is Status.RIGHT
    assert first.expected_share >= 0.9
    assert second.status is Status.SHORT
    assert second.expected_share == pytest.approx(
        staffing.share_within(
            agents=5, arrivals_per_hour=120, handle_seconds=300, target_seconds=10, model=load(1).model
        )
    )


def test_a_tenant_is_short_when_its_pool_is_or_its_own_trained_agents_are_too_few_not_by_its_part_alone():
    # given a shared agent (shop and gym) and a gym-only agent; one chat an hour each, 3 chats per agent:
    # one agent each on its own, one for the two together
    trained = {10: frozenset({SHOP, GYM}), 11: frozenset({GYM})}
    policy = Policy(target_seconds=10, shrinkage=0)
    weeks = [TenantWeek(tenant_id=each, policy=policy, loads=(load(1), load(1))) for each in (SHOP, GYM)]

    # when both are on shift in the first hour, only the gym's own agent in the second
    plan = plan_week(weeks, on_shift=[{10: 1.0, 11: 1.0}, {11: 1.0}], agent_tenants=trained)

    # then in the first hour the shop's part of the shared agent is a half, short of its one agent on its
    # own, but the shared agent is there for it and the pool has 2 for its 1: right
    first, second = plan.tenants[SHOP]
    assert plan.pools[(SHOP, GYM)][0].requirement.pooled == 1
    assert (first.required.scheduled, first.covered, first.status) == (1, 0.5, Status.RIGHT)
    # and in the second the pool has its one agent, who cannot answer the shop's chats: short
    assert plan.pools[(SHOP, GYM)][1].status is Status.RIGHT
    assert second.status is Status.SHORT
    assert plan.tenants[GYM][1].status is Status.RIGHT
