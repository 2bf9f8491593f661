"""Staffing by Erlang C: textbook examples worked out by hand, and the figures read from the database."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

import pytest
from django.utils import timezone

from conversations.models import Conversation
from reporting import demand
from tests import factories
from tests.reporting.histories import make_chat
from workforce import staffing
from workforce.models import Agent
from workforce.services import plan_shift

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def test_erlang_c_of_two_erlangs_on_three_servers_is_four_ninths():
    # A = 2 erlangs, N = 3 servers. The textbook formula:
    #   C = (A^N / N! * N / (N - A)) / (sum_{k<N} A^k / k! + A^N / N! * N / (N - A))
    #   A^3 / 3! = 8 / 6 = 4/3; times 3 / (3 - 2) = 4
    #   sum_{k<3} A^k / k! = 1 + 2 + 2 = 5
    #   C = 4 / (5 + 4) = 4/9
    assert staffing.erlang_c(servers=3, traffic=2) == pytest.approx(4 / 9)


def test_service_level_of_the_same_queue_within_20_seconds():
    # Handle time 180 s, target 20 s: SL = 1 - C * exp(-(N - A) * t / h) = 1 - 4/9 * exp(-1 * 20 / 180)
    #   exp(-1/9) = 0.894839...; 4/9 * 0.894839 = 0.397706; SL = 0.602294
    level = staffing.service_level(servers=3, traffic=2, handle_seconds=180, target_seconds=20)

    assert level == pytest.approx(1 - 4 / 9 * math.exp(-1 / 9))
    assert level == pytest.approx(0.6023, abs=1e-4)


def test_the_call_centre_textbook_example_needs_14_agents_for_80_percent_in_20_seconds():
    # 100 contacts in half an hour (200 an hour), 3 minutes each: A = 200 / 3600 * 180 = 10 erlangs.
    # With 13 agents: C(13, 10) = 0.2853, SL = 1 - 0.2853 * exp(-3 * 20 / 180) = 1 - 0.2853 * 0.7165 = 0.7956
    # With 14 agents: C(14, 10) = 0.1741, SL = 1 - 0.1741 * exp(-4 * 20 / 180) = 1 - 0.1741 * 0.6412 = 0.8884
    # so 14 is the fewest that reach 80 %.
    assert staffing.traffic_erlangs(arrivals_per_hour=200, handle_seconds=180) == pytest.approx(10)
    assert staffing.erlang_c(servers=13, traffic=10) == pytest.approx(0.2853, abs=1e-4)
    assert staffing.erlang_c(servers=14, traffic=10) == pytest.approx(0.1741, abs=1e-4)
    assert staffing.service_level(servers=13, traffic=10, handle_seconds=180, target_seconds=20) == pytest.approx(
        0.7956, abs=1e-4
    )
    assert staffing.service_level(servers=14, traffic=10, handle_seconds=180, target_seconds=20) == pytest.approx(
        0.8884, abs=1e-4
    )
    assert staffing.servers_needed(arrivals_per_hour=200, handle_seconds=180, target_seconds=20, target_share=0.8) == 14


def test_no_traffic_needs_nobody_and_too_few_servers_never_answer_in_time():
    one = staffing.industry_model(1)
    assert staffing.agents_needed(arrivals_per_hour=0, handle_seconds=300, target_seconds=10, model=one) == 0
    assert staffing.erlang_c(servers=2, traffic=2) == 1
    assert staffing.service_level(servers=2, traffic=3, handle_seconds=300, target_seconds=10) == 0


def test_nonsense_input_is_refused():
    with pytest.raises(ValueError):
        staffing.servers_needed(arrivals_per_hour=10, handle_seconds=300, target_seconds=10, target_share=1)
    with pytest.raises(ValueError):
        staffing.industry_model(2).__class__(factors=(0.5, 1.0))
    with pytest.raises(ValueError):
        staffing.Policy(target_seconds=10, shrinkage=1)
    with pytest.raises(ValueError):
        staffing.Policy(target_seconds=10, occupancy_cap=0)
    with pytest.raises(ValueError):
        staffing.erlang_c(servers=-1, traffic=1)


def test_the_same_hour_of_past_weeks_is_counted_on_the_local_clock_across_a_clock_change():
    # given Wednesday 4 November 2026 14:20 in Helsinki (winter time, UTC+2); four weeks back is
    # Wednesday 7 October, still summer time (UTC+3)
    now = dt.datetime(2026, 11, 4, 14, 20, tzinfo=HELSINKI)

    # when
    windows = demand.same_hour_in_past_weeks(now, HELSINKI)

    # then each window is 14:00-15:00 local time
    assert [start.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M") for start, _end in windows] == [
        "2026-10-28 14:00",
        "2026-10-21 14:00",
        "2026-10-14 14:00",
        "2026-10-07 14:00",
    ]
    assert windows[0][0] == dt.datetime(2026, 10, 28, 12, tzinfo=dt.UTC)
    assert windows[3][0] == dt.datetime(2026, 10, 7, 11, tzinfo=dt.UTC)
    assert all(end - start == dt.timedelta(hours=1) for start, end in windows)


@pytest.mark.django_db
def test_expected_arrivals_average_the_same_hour_of_the_last_four_weeks_for_all_tenants_in_one_query(
    tenant, other_tenant, django_assert_num_queries
):
    # given Wednesday 4 November 2026 14:20 Helsinki (13:20 Warsaw)
    now = dt.datetime(2026, 11, 4, 14, 20, tzinfo=HELSINKI)
    # the Helsinki tenant: 3 + 2 + 0 + 3 live chats in 14:00-14:59 of the four previous Wednesdays = 8 / 4 = 2 an hour
    for day, chats in ((28, 3), (21, 2), (7, 3)):
        for minute in range(chats):
            make_chat(tenant, dt.datetime(2026, 10, day, 14, 10 + minute, tzinfo=HELSINKI))
    # ... which must not count: an offline message, 13:59 and 15:00, today, five weeks back, a Tuesday
    make_chat(tenant, dt.datetime(2026, 10, 28, 14, 30, tzinfo=HELSINKI), origin=Conversation.Origin.OFFLINE_MESSAGE)
    make_chat(tenant, dt.datetime(2026, 10, 28, 13, 59, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 10, 28, 15, 0, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 11, 4, 14, 5, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 9, 30, 14, 10, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 10, 27, 14, 10, tzinfo=HELSINKI))
    # the Warsaw tenant: its own local 13:00-13:59, one chat a week back = 1 / 4 = 0.25 an hour
    warsaw = zoneinfo.ZoneInfo("Europe/Warsaw")
    make_chat(other_tenant, dt.datetime(2026, 10, 28, 13, 30, tzinfo=warsaw))
    make_chat(other_tenant, dt.datetime(2026, 10, 28, 14, 30, tzinfo=warsaw))

    # when
    with django_assert_num_queries(1):
        arrivals = demand.expected_arrivals_per_hour([tenant, other_tenant], now=now)

    # then
    assert arrivals == {tenant.pk: 2.0, other_tenant.pk: 0.25}


@pytest.mark.django_db
def test_agents_online_are_trained_online_and_on_shift_now(tenant, other_tenant):
    # given four agents trained for the tenant: working (concurrency 2), online off shift, on shift away,
    # and working but trained for the other tenant only (concurrency 4)
    now = timezone.now()

    def agent(*, trained_for, online: bool, on_shift: bool, chats: int = 3) -> Agent:
        made = factories.make_agent(trained_for=trained_for, max_concurrent_chats=chats)
        if online:
            Agent.objects.filter(pk=made.pk).update(presence=Agent.Presence.ONLINE)
        if on_shift:
            plan_shift(agent=made, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))
        return made

    working = agent(trained_for=[tenant], online=True, on_shift=True, chats=2)
    off_shift = agent(trained_for=[tenant], online=True, on_shift=False, chats=2)
    away = agent(trained_for=[tenant], online=False, on_shift=True, chats=2)
    elsewhere = agent(trained_for=[other_tenant], online=True, on_shift=True, chats=4)

    # when
    cover = staffing.agent_cover([tenant, other_tenant], now=now)

    # then
    assert cover[tenant.pk] == staffing.AgentCover(
        agents=frozenset({working.pk, off_shift.pk, away.pk}), working=frozenset({working.pk}), concurrency=2
    )
    assert (cover[tenant.pk].trained, cover[tenant.pk].online) == (3, 1)
    assert cover[other_tenant.pk] == staffing.AgentCover(
        agents=frozenset({elsewhere.pk}), working=frozenset({elsewhere.pk}), concurrency=4
    )


@pytest.mark.django_db
def test_the_live_board_needs_follow_the_handle_time_fitted_from_history_in_three_queries(
    tenant, django_assert_num_queries
):
    # given Wednesday 4 November 2026 14:20 Helsinki; 30 chats in 14:00-15:00 of each of the last four
    # Wednesdays (30 an hour), each handled alone by one agent holding up to 2 chats in 120 s
    now = dt.datetime(2026, 11, 4, 14, 20, tzinfo=HELSINKI)
    worker = factories.make_agent(trained_for=[tenant], max_concurrent_chats=2)
    for day in (28, 21, 14, 7):
        for minute in range(30):
            make_chat(
                tenant,
                dt.datetime(2026, 10, day, 14, minute * 2, tzinfo=HELSINKI),
                assigned=1,
                closed=121,
                agent=worker,
            )

    # when
    with django_assert_num_queries(3):
        now_figures = demand.staffing_now([tenant], now=now)[tenant.pk]

    # then the solo handle time is 120 s (120 closes at one chat); two chats at once take the industry's 1.7
    assert now_figures.handle_seconds == pytest.approx(120)
    assert now_figures.model == staffing.ConcurrencyModel(factors=(1.0, 1.7), fitted=(True, False))
    assert now_figures.expected_arrivals_per_hour == 30
    assert now_figures.agents_needed == staffing.agents_needed(
        arrivals_per_hour=30, handle_seconds=120, target_seconds=10, model=now_figures.model
    )
    assert now_figures.agents_needed == 2  # one agent answers only 61 % within 10 s
    assert now_figures.share_within_target == 0
