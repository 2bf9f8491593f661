"""The multi-chat staffing model: against Erlang C, against a simulated floor, and its fit from history."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.chatops.queue_simulation import simulate
from workforce import staffing
from workforce.staffing import ConcurrencyModel, HandleHistory, Load, Policy

BASE = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return BASE + dt.timedelta(seconds=seconds)


def test_with_one_chat_per_agent_the_model_is_erlang_c():
    # given the textbook example (200 an hour, 180 s: 10 erlangs) with agents holding one chat
    model = ConcurrencyModel(factors=(1.0,))

    # when / then: the same share within 20 s as Erlang C for 11 to 16 agents, and the same 14 needed for 80 %
    for agents in range(11, 17):
        assert staffing.share_within(
            agents=agents, arrivals_per_hour=200, handle_seconds=180, target_seconds=20, model=model
        ) == pytest.approx(staffing.service_level(servers=agents, traffic=10, handle_seconds=180, target_seconds=20))
    assert (
        staffing.agents_needed(
            arrivals_per_hour=200, handle_seconds=180, target_seconds=20, target_share=0.8, model=model
        )
        == 14
    )


def test_the_industry_factors_stop_at_four_chats_and_follow_the_agents_limit():
    assert staffing.industry_model(3.67).factors == (1.0, 1.7, 2.5, 2.9)
    assert staffing.industry_model(2.2).factors == (1.0, 1.7)
    assert staffing.industry_model(6).factors == (1.0, 1.7, 2.5, 2.9, 2.9, 2.9)
    assert staffing.industry_model(0.4).factors == (1.0,)
    with pytest.raises(ValueError):
        ConcurrencyModel(factors=(1.0, 1.7, 1.5))


def test_the_issues_examples_need_more_agents_than_c_servers_each_gave():
    # 120 chats an hour at 300 s, agents holding 3: the old count (c servers each) was 5 agents
    three = staffing.industry_model(3)

    def share(agents: int, arrivals: float, handle: float, model: ConcurrencyModel) -> float:
        return staffing.share_within(
            agents=agents, arrivals_per_hour=arrivals, handle_seconds=handle, target_seconds=10, model=model
        )

    assert share(5, 120, 300, three) < 0.8
    assert share(6, 120, 300, three) >= 0.9
    assert staffing.agents_needed(arrivals_per_hour=120, handle_seconds=300, target_seconds=10, model=three) == 6
    # 300 an hour at 210 s, agents holding 4, the old count 6: 17.5 solo erlangs over 6 x 2.9 = 17.4: endless queue
    four = staffing.industry_model(4)
    assert staffing.occupancy(agents=6, arrivals_per_hour=300, handle_seconds=210, model=four) > 1
    assert share(6, 300, 210, four) == 0
    assert staffing.agents_needed(arrivals_per_hour=300, handle_seconds=210, target_seconds=10, model=four) == 8


@pytest.mark.parametrize(
    ("arrivals", "handle", "factors", "target"),
    [
        (120, 300, (1.0, 1.7, 2.5), 10),
        (300, 210, (1.0, 1.7, 2.5, 2.9), 10),
        (60, 240, (1.0, 1.7), 20),
        (200, 180, (1.0, 1.5, 1.9), 30),
    ],
)
def test_the_predicted_share_within_target_matches_a_simulated_floor_within_a_few_points(
    arrivals, handle, factors, target
):
    # given the agents the model asks for, and one fewer
    model = ConcurrencyModel(factors=factors)
    needed = staffing.agents_needed(
        arrivals_per_hour=arrivals, handle_seconds=handle, target_seconds=target, model=model
    )
    for agents in (needed - 1, needed):
        # when the same floor is simulated: 30 000 chats, the first 1 000 left out as the warm-up
        floor = simulate(
            agents=agents, arrivals_per_hour=arrivals, handle_seconds=handle, factors=factors, chats=30_000, seed=agents
        )
        predicted = staffing.share_within(
            agents=agents, arrivals_per_hour=arrivals, handle_seconds=handle, target_seconds=target, model=model
        )

        # then
        assert floor.share_within(target, skip=1_000) == pytest.approx(predicted, abs=0.04)


def test_the_factors_and_solo_handle_time_fitted_from_a_simulated_history_are_the_true_ones():
    # given a floor whose agents really work at 1, 1.5 and 1.9 solo chats' speed with 1, 2 and 3 chats
    floor = simulate(agents=5, arrivals_per_hour=110, handle_seconds=240, factors=(1.0, 1.5, 1.9), chats=20_000, seed=3)
    rows = [(agent, tenant, at(start), at(end)) for agent, tenant, start, end in floor.handled]

    # when
    model, solo = staffing.fit_concurrency(staffing.handle_history(rows)[1], limit=3)

    # then
    assert model.fitted == (True, True, True) and model.source == "fitted"
    assert model.factors == pytest.approx((1.0, 1.5, 1.9), abs=0.06)
    assert solo == pytest.approx(240, rel=0.05)


def test_time_at_each_level_is_shared_among_the_tenants_of_the_chats_held():
    # given one agent: a shop chat 0-100 s, a gym chat 50-150 s (two held from 50 to 100), a shop chat 200-260 s
    rows = [(1, "shop", at(0), at(100)), (1, "gym", at(50), at(150)), (1, "shop", at(200), at(260))]

    # when
    history = staffing.handle_history(rows, levels=3)

    # then the shop had 50 + 60 s at one chat and half of the 50 s at two; its first chat closed at two
    assert history["shop"] == HandleHistory(seconds_at=(110.0, 25.0, 0.0), closes_at=(1, 1, 0))
    assert history["gym"] == HandleHistory(seconds_at=(50.0, 25.0, 0.0), closes_at=(1, 0, 0))


def test_a_level_without_enough_closes_takes_the_industry_factor_and_fitted_ones_stay_in_bounds():
    # given 100 closes in 10 000 s at one chat, at two 3.5 x faster (more than one chat more), at three too few
    history = HandleHistory(seconds_at=(10_000.0, 1_000.0, 500.0), closes_at=(100, 35, 10))

    # when
    model, solo = staffing.fit_concurrency(history, limit=3)

    # then
    assert model.factors == (1.0, 2.0, 2.5)
    assert model.fitted == (True, True, False) and model.source == "mixed"
    assert solo == 100
    # and without enough at one chat, nothing is fitted
    thin = HandleHistory(seconds_at=(100.0, 100.0), closes_at=(5, 50))
    assert staffing.fit_concurrency(thin, limit=2) == (staffing.industry_model(2), None)


def test_the_requirement_adds_shrinkage_and_keeps_occupancy_under_the_cap():
    # given 600 chats an hour at 240 s with 3 chats each: 40 solo erlangs, 16 agents fully busy at f(3) = 2.5
    load = Load(arrivals_per_hour=600, handle_seconds=240, model=staffing.industry_model(3))

    # when
    loose = staffing.requirement(load, Policy(target_seconds=60, target_share=0.5))
    capped = staffing.requirement(load, Policy(target_seconds=60, target_share=0.5, occupancy_cap=0.8, shrinkage=0.3))

    # then the loose target is met near the bound; the cap asks for 16 / 0.8 = 20, scheduled 20 / 0.7 -> 29
    assert loose.on_floor == 17
    assert capped.on_floor == 20
    assert capped.occupancy == pytest.approx(0.8)
    assert capped.scheduled == 29
    assert capped.share_within_target >= 0.5


def test_the_requirement_is_the_fewest_agents_that_meet_the_target():
    rng = random.Random(7)
    for _ in range(40):
        load = Load(
            arrivals_per_hour=rng.uniform(1, 400),
            handle_seconds=rng.uniform(120, 600),
            model=staffing.industry_model(rng.randint(1, 4)),
        )
        policy = Policy(target_seconds=rng.choice([10, 20, 60]), target_share=rng.choice([0.8, 0.9]))

        needed = staffing.agents_on_floor_needed(load, policy)

        enough, fewer = (staffing.evaluate(load, policy, agents=agents) for agents in (needed, needed - 1))

        assert enough[0] >= policy.target_share
        assert fewer[0] < policy.target_share or fewer[1] > 1


def test_the_search_evaluates_the_queue_a_logarithmic_number_of_times(monkeypatch):
    # given a counter of the queue evaluations
    calls = []
    meets = staffing._meets
    monkeypatch.setattr(
        staffing, "_meets", lambda agents, load, policy: calls.append(agents) or meets(agents, load, policy)
    )
    policy = Policy(target_seconds=10)
    counts = {}
    for arrivals in (10, 100, 1_000, 10_000):
        calls.clear()
        needed = staffing.agents_on_floor_needed(
            Load(arrivals_per_hour=arrivals, handle_seconds=300, model=staffing.industry_model(3)), policy
        )
        counts[arrivals] = (needed, len(calls))

    # then a thousand times the traffic needs hundreds of times the agents but few more evaluations
    assert counts[10_000][0] > 100 * counts[10][0] / 2
    assert all(evaluations <= 12 for _needed, evaluations in counts.values())
