"""Staffing coverage of a month: hand-made histories whose agents needed and on shift are worked out by hand.

October 2026 in Europe/Helsinki: Thursday 1 to Saturday 31, so Thursdays, Fridays and Saturdays
come five times and the other weekdays four; on Sunday 25 the clocks go back at 04:00 EEST to
03:00 EET, so that day has 25 hours, hour 3 twice (Sunday 03:00 comes round 5 times), and the
month 31 x 24 + 1 = 745 hours.

Erlang C by hand (handle time 300 s, target 10 s, one chat per agent at a time, 90 % within the
target), traffic A = arrivals per hour / 3600 x 300:
    12 chats an hour: A = 1. N = 2: B(1) = 1/2, B(2) = 1 x 1/2 / (2 + 1/2) = 0.2,
        C = 2 x 0.2 / (2 - 1 x 0.8) = 1/3, within 10 s: 1 - 1/3 x e^(-10/300) = 0.678 < 0.9;
        N = 3: B(3) = 0.2 / (3 + 0.2) = 0.0625, C = 3 x 0.0625 / (3 - 0.9375) = 0.0909,
        within 10 s: 1 - 0.0909 x e^(-2 x 10/300) = 0.915 >= 0.9: 3 agents.
    With one server C(1, A) = A:
    1 chat an hour: A = 1/12; 1 - 1/12 x e^(-(11/12) x 10/300) = 1 - 0.0833 x 0.970 = 0.919: 1 agent.
    0.4 chats an hour: A = 1/30; 1 - 1/30 x e^(-(29/30) x 10/300) = 0.968: 1 agent.
    3 chats an hour: A = 1/4; 1 - 1/4 x e^(-(3/4) x 10/300) = 0.756 < 0.9: more than 1 agent.
    2 chats an hour: A = 1/6; 1 - 1/6 x e^(-(5/6) x 10/300) = 0.838: 2 agents for 90 %, 1 for 80 %.

The sums by hand have no shrinkage: the tests set it to 0 (``no_shrinkage``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import Conversation
from reporting import kpis
from reporting.coverage import HourCoverage, StaffingCoverage, staffing_coverage
from reporting.kpis import kpis_for_tenant
from reporting.periods import Period
from tests.reporting.histories import add_shift, make_agent, make_chat, train
from tests.sqlite_rerun import assert_all_passed
from workforce.models import Qualification

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
OCTOBER = Period.month(2026, 10, zone=HELSINKI)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def agent(*tenants, completed_on: dt.date = dt.date(2026, 9, 1)):
    """Return a new agent trained for the tenants (one chat at a time unless set otherwise)."""
    return train(make_agent(), *tenants, completed_on=completed_on)


def set_concurrency(*agents, chats: int) -> None:
    for each in agents:
        each.max_concurrent_chats = chats
        each.save(update_fields=["max_concurrent_chats"])


def every(weekday_dates: list[int], start_hour: int, end_hour: int, who) -> None:
    for day in weekday_dates:
        add_shift(who, local(2026, 10, day, start_hour), local(2026, 10, day, end_hour))


@pytest.fixture(autouse=True)
def no_shrinkage(settings):
    """Work the agents needed out without shrinkage, as the sums above do."""
    settings.STAFFING_SHRINKAGE = 0


WEDNESDAYS = [7, 14, 21, 28]
THURSDAYS = [1, 8, 15, 22, 29]
SATURDAYS = [3, 10, 17, 24, 31]


@pytest.mark.django_db
def test_agents_on_shift_are_set_against_agents_needed_per_hour_of_the_week(tenant, other_tenant):
    # given agents A, B and C trained for the shop (B for the gym too: the shop and the gym are one pool),
    # each holding one chat at a time
    a, b, c = agent(tenant), agent(tenant, other_tenant), agent(tenant)
    # and D trained for the gym only, E still in training for the shop; both hold 10 chats at once
    # (counted for the shop, they would cover Saturday 20:00 and lift the mean concurrency to 4.6, so that
    # 3 servers make 1 agent and Wednesday 14:00 would be covered)
    # and F, who completed the shop's training only in November (10 chats at once as well)
    d, e, f = agent(other_tenant), make_agent(), agent(tenant, completed_on=dt.date(2026, 11, 2))
    Qualification.objects.create(agent=e, tenant=tenant, training_started_on=dt.date(2026, 9, 1))
    set_concurrency(a, b, c, chats=1)
    set_concurrency(d, e, f, chats=10)
    # Wednesday 14:00 (4 times): 12 live chats each Wednesday = 12 an hour: 3 agents needed;
    # A and B on shift every Wednesday, C on the 28th: 9 agent-hours / 4 = 2.25 on shift. The gym has one
    # chat then (0.25 an hour: 1 agent on its own), so B's hour goes 3/4 to the shop: 2.0 its own; the
    # pool (12.25 an hour, one chat at a time: traffic 1.02, 3 agents answer 91 %) needs 3, not 3 + 1
    for day in WEDNESDAYS:
        for minute in range(12):
            make_chat(tenant, local(2026, 10, day, 14, minute * 4))
    every(WEDNESDAYS, 14, 15, a)
    every(WEDNESDAYS, 14, 15, b)
    add_shift(c, local(2026, 10, 28, 14), local(2026, 10, 28, 15))
    # Thursday 10:00 (5 times): one live chat each = 1 an hour: 1 agent needed; A on 09-11 every Thursday:
    # 1.0 on shift at 10:00 and at 09:00, an hour without chats. Two offline messages each Thursday
    # at 10:xx need nobody (counted, 3 an hour would need more than one agent)
    for day in THURSDAYS:
        make_chat(tenant, local(2026, 10, day, 10, 15), origin=Conversation.Origin.PROACTIVE)
        for minute in (20, 40):
            make_chat(tenant, local(2026, 10, day, 10, minute), origin=Conversation.Origin.OFFLINE_MESSAGE)
    every(THURSDAYS, 9, 11, a)
    # Saturday 20:00 (5 times): 2 live chats = 0.4 an hour: 1 agent needed; only D and E on shift: D is in
    # the pool (1 on shift for the pool's 1 needed) but cannot answer the shop's chats
    make_chat(tenant, local(2026, 10, 3, 20, 5))
    make_chat(tenant, local(2026, 10, 17, 20, 50))
    every(SATURDAYS, 20, 21, d)
    every(SATURDAYS, 20, 21, e)
    # and the gym's own chats stay out
    make_chat(other_tenant, local(2026, 10, 7, 14, 30))

    # when
    coverage = staffing_coverage(tenant, OCTOBER)

    # then
    assert coverage is not None
    assert coverage.concurrency == 1
    one = pytest.approx(1.0)
    assert coverage.cell(WEDNESDAY, 14) == HourCoverage(
        weekday=WEDNESDAY,
        hour=14,
        occurrences=4,
        live_chats=48,
        needed=3,
        scheduled=pytest.approx(2.0),
        trained_on_shift=pytest.approx(2.25),
        team_separate=4,
        team_needed=3,
        team_on_shift=pytest.approx(2.25),
    )
    assert coverage.cell(THURSDAY, 10) == HourCoverage(
        weekday=THURSDAY,
        hour=10,
        occurrences=5,
        live_chats=5,
        needed=1,
        scheduled=one,
        trained_on_shift=one,
        team_separate=1,
        team_needed=1,
        team_on_shift=one,
    )
    assert coverage.cell(THURSDAY, 9) == HourCoverage(
        weekday=THURSDAY,
        hour=9,
        occurrences=5,
        live_chats=0,
        needed=0,
        scheduled=one,
        trained_on_shift=one,
        team_separate=0,
        team_needed=0,
        team_on_shift=one,
    )
    assert coverage.cell(SATURDAY, 20) == HourCoverage(
        weekday=SATURDAY,
        hour=20,
        occurrences=5,
        live_chats=2,
        needed=1,
        scheduled=0,
        trained_on_shift=0,
        team_separate=1,
        team_needed=1,
        team_on_shift=one,
    )
    # and nothing elsewhere
    others = [cell for cell in coverage.hours if (cell.weekday, cell.hour) not in {(2, 14), (3, 10), (3, 9), (5, 20)}]
    assert {(cell.live_chats, cell.needed, cell.scheduled) for cell in others} == {(0, 0, 0)}
    # and the Thursday chats came in covered hours: 5 of 48 + 5 + 2 = 55
    assert (coverage.live_chats, coverage.covered_chats) == (55, 5)
    assert coverage.covered_share == pytest.approx(5 / 55)
    # and the shop's 8 Wednesday and 10 Thursday agent-hours, 5 of them (Thursday 09:00) without chats
    assert coverage.agent_hours == pytest.approx(18)
    assert coverage.agent_hours_without_chats == pytest.approx(5)
    # and the shortfalls, heaviest first: Wednesday 0.75 agents x 48 chats = 36, Saturday 1 x 2 = 2
    runs = coverage.understaffed_runs()
    assert [(run.weekday, run.first_hour, run.end_hour, run.needed, run.live_chats) for run in runs] == [
        (WEDNESDAY, 14, 15, 3, 48),
        (SATURDAY, 20, 21, 1, 2),
    ]
    assert [run.weight for run in runs] == [pytest.approx(36), pytest.approx(2)]


@pytest.mark.django_db
@pytest.mark.django_db
@pytest.mark.parametrize(("goal_percent", "covered"), [(90, False), (80, True)])
def test_an_agent_on_shift_for_two_tenants_counts_once(tenant, other_tenant, goal_percent, covered):
    # given one agent trained for the shop and the gym, one chat at a time, on shift every Wednesday 14-15,
    # and one live chat for each of them every Wednesday at 14:xx: 1 an hour each, 1 agent each on its own
    for each in (tenant, other_tenant):
        each.first_response_goal_percent = goal_percent
        each.save(update_fields=["first_response_goal_percent"])
    shared = agent(tenant, other_tenant)
    set_concurrency(shared, chats=1)
    every(WEDNESDAYS, 14, 15, shared)
    for day in WEDNESDAYS:
        make_chat(tenant, local(2026, 10, day, 14, 10))
        make_chat(other_tenant, local(2026, 10, day, 14, 40))

    # when the shop's coverage is worked out
    coverage = staffing_coverage(tenant, OCTOBER)

    # then the agent is on shift once for both: 2 chats an hour together need 2 agents for 90 % (0.838 with
    # one), 1 for 80 %; the shop's own part of the agent's hour is a half (both need 1)
    cell = coverage.cell(WEDNESDAY, 14)
    assert (cell.needed, cell.scheduled, cell.trained_on_shift) == (1, pytest.approx(0.5), pytest.approx(1.0))
    assert (cell.team_separate, cell.team_needed, cell.team_on_shift) == (2, 1 if covered else 2, pytest.approx(1.0))
    assert cell.team_needed <= cell.team_separate
    assert cell.understaffed is not covered
    assert coverage.covered_share == (1 if covered else 0)
    # and the agent-hours are the shop's half of them; the pool saves an agent an hour only at 80 %
    assert coverage.agent_hours == pytest.approx(2)
    assert coverage.pooling_saving_agent_hours == pytest.approx(4 if covered else 0)
    assert coverage.separate_agent_hours == pytest.approx(8)


@pytest.mark.django_db
def test_in_the_month_of_go_live_only_the_days_served_count(tenant):
    # given a shop that went live on Wednesday 21 October at 09:00, with agent A on shift 14-15 on the
    # two Wednesdays since (and on the 14th, in training before go-live), one live chat in each of them
    tenant.went_live_at = local(2026, 10, 21, 9)
    tenant.save(update_fields=["went_live_at"])
    a = agent(tenant)
    set_concurrency(a, chats=1)
    for day in (14, 21, 28):
        add_shift(a, local(2026, 10, day, 14), local(2026, 10, day, 15))
    for day in (21, 28):
        make_chat(tenant, local(2026, 10, day, 14, 30))

    # when October's coverage is worked out
    coverage = staffing_coverage(tenant, OCTOBER)

    # then it runs from the 21st: Wednesday 14:00 came twice, with 1 chat an hour (1 agent needed) and
    # 2 agent-hours / 2 = 1.0 on shift, so covered (over the whole month: 3 / 4 = 0.75 on shift, short)
    assert coverage is not None
    assert (coverage.period.first_day, coverage.period.last_day) == (dt.date(2026, 10, 21), dt.date(2026, 10, 31))
    one = pytest.approx(1.0)
    assert coverage.cell(WEDNESDAY, 14) == HourCoverage(
        weekday=WEDNESDAY,
        hour=14,
        occurrences=2,
        live_chats=2,
        needed=1,
        scheduled=one,
        trained_on_shift=one,
        team_separate=None,
        team_needed=None,
        team_on_shift=None,
    )
    assert coverage.covered_share == 1


@pytest.mark.django_db
def test_hours_are_counted_on_the_local_clock_across_the_clock_change_and_shifts_are_clipped(tenant):
    # given two agents trained for the shop, one chat at a time; B only from Thursday 15 October
    a = agent(tenant)
    b = agent(tenant, completed_on=dt.date(2026, 10, 15))
    set_concurrency(a, b, chats=1)
    # Sunday 25 October 00:00-06:00 local is 7 real hours: 00, 01, 02, 03 EEST, 03 EET, 04, 05
    add_shift(a, local(2026, 10, 25, 0), local(2026, 10, 25, 6))
    # Wednesday 30 September 22:00 - Thursday 1 October 02:00: only Thursday 00 and 01 are in October
    add_shift(a, local(2026, 9, 30, 22), local(2026, 10, 1, 2))
    # Saturday 31 October 22:00 - Sunday 1 November 02:00: only Saturday 22 and 23 are in October
    add_shift(a, local(2026, 10, 31, 22), local(2026, 11, 1, 2))
    # Tuesday 6 October 16:00-17:30: a whole hour at 16, half an hour at 17
    add_shift(a, local(2026, 10, 6, 16), local(2026, 10, 6, 17, 30))
    # B on Wednesday 14 (before the training was completed: not counted) and Thursday 15, 10-12
    add_shift(b, local(2026, 10, 14, 10), local(2026, 10, 14, 12))
    add_shift(b, local(2026, 10, 15, 10), local(2026, 10, 15, 12))
    # a chat in each of the two 03:30s of 25 October (00:30 and 01:30 UTC): 2 / 5 = 0.4 an hour, 1 agent needed
    make_chat(tenant, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC))
    make_chat(tenant, dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))

    # when
    coverage = staffing_coverage(tenant, OCTOBER)

    # then every real hour of the month is one occurrence of its local hour
    assert sum(cell.occurrences for cell in coverage.hours) == 745
    assert coverage.cell(SUNDAY, 3).occurrences == 5
    assert coverage.cell(SUNDAY, 2).occurrences == 4
    assert coverage.cell(THURSDAY, 0).occurrences == 5
    # and the agent-hours go to their local hours: 2 of them at Sunday 03 (of 5), one at the others (of 4)
    scheduled = {(cell.weekday, cell.hour): cell.scheduled for cell in coverage.hours if cell.scheduled}
    assert scheduled == {
        (SUNDAY, 0): pytest.approx(1 / 4),
        (SUNDAY, 1): pytest.approx(1 / 4),
        (SUNDAY, 2): pytest.approx(1 / 4),
        (SUNDAY, 3): pytest.approx(2 / 5),
        (SUNDAY, 4): pytest.approx(1 / 4),
        (SUNDAY, 5): pytest.approx(1 / 4),
        (THURSDAY, 0): pytest.approx(1 / 5),
        (THURSDAY, 1): pytest.approx(1 / 5),
        (SATURDAY, 22): pytest.approx(1 / 5),
        (SATURDAY, 23): pytest.approx(1 / 5),
        (TUESDAY, 16): pytest.approx(1 / 4),
        (TUESDAY, 17): pytest.approx(0.5 / 4),
        (THURSDAY, 10): pytest.approx(1 / 5),
        (THURSDAY, 11): pytest.approx(1 / 5),
    }
    # 7 + 2 + 2 + 1.5 + 2 agent-hours
    assert coverage.agent_hours == pytest.approx(14.5)
    # and both chats of the repeated hour are in Sunday 03, short of its one agent
    assert coverage.cell(SUNDAY, 3).live_chats == 2
    assert coverage.cell(SUNDAY, 3).needed == 1
    assert coverage.covered_share == 0
    (run,) = coverage.understaffed_runs()
    assert (run.weekday, run.first_hour, run.end_hour, run.needed) == (SUNDAY, 3, 4, 1)


@pytest.mark.django_db
def test_no_shift_time_of_a_trained_agent_in_the_period_gives_no_coverage(tenant, other_tenant):
    # given chats, an agent trained for the gym only on shift, an agent trained for the shop with a shift
    # in November only, and two with a shift on 7 October whose training completed later (20 October, 1 November)
    make_chat(tenant, local(2026, 10, 7, 14))
    add_shift(agent(other_tenant), local(2026, 10, 7, 14), local(2026, 10, 7, 15))
    add_shift(agent(tenant), local(2026, 11, 1, 0), local(2026, 11, 1, 8))
    for completed_on in (dt.date(2026, 10, 20), dt.date(2026, 11, 1)):
        add_shift(agent(tenant, completed_on=completed_on), local(2026, 10, 7, 14), local(2026, 10, 7, 15))

    # when
    with CaptureQueriesContext(connection) as queries:
        coverage = staffing_coverage(tenant, OCTOBER)

    # then, after the training and the shifts
    assert coverage is None
    assert len(queries) == 2


@pytest.mark.django_db
def test_agents_needed_answer_the_tenants_own_share_within_the_target(tenant):
    # given Wednesday 14:00 with 12 live chats each time (12 an hour) and one agent on shift
    for day in WEDNESDAYS:
        for minute in range(12):
            make_chat(tenant, local(2026, 10, day, 14, minute * 4))
    one = agent(tenant)
    set_concurrency(one, chats=1)
    every(WEDNESDAYS, 14, 15, one)

    # when the goal is the default 90 %, and then 60 %
    default = staffing_coverage(tenant, OCTOBER)
    tenant.first_response_goal_percent = 60
    tenant.save(update_fields=["first_response_goal_percent"])
    lower = staffing_coverage(tenant, OCTOBER)

    # then 3 agents answer 91.5 % within 10 s (see above), but 2 already answer 67.8 %, enough for 60 %
    assert (default.cell(WEDNESDAY, 14).needed, default.target_share) == (3, 0.9)
    assert (lower.cell(WEDNESDAY, 14).needed, lower.target_share) == (2, 0.6)


@pytest.mark.django_db
def test_the_queries_do_not_grow_with_the_shifts_or_chats(tenant):
    # given one agent with one shift
    a = agent(tenant)
    add_shift(a, local(2026, 10, 1, 9), local(2026, 10, 1, 17))
    with CaptureQueriesContext(connection) as few:
        staffing_coverage(tenant, OCTOBER, figures=kpis_for_tenant(tenant, OCTOBER))
    # and then many more agents, shifts and chats
    for n in range(5):
        other = agent(tenant)
        for day in range(2, 31):
            add_shift(other, local(2026, 10, day, 8 + n), local(2026, 10, day, 12 + n))
        make_chat(tenant, local(2026, 10, 2 + n, 9))

    # when the report's KPIs of the month are given (they count the live chats per hour of the week)
    figures = kpis_for_tenant(tenant, OCTOBER)
    with CaptureQueriesContext(connection) as many:
        coverage = staffing_coverage(tenant, OCTOBER, figures=figures)

    # then: the KPIs as many queries as they always take, then training, shifts and the fit of the
    # concurrency (a tenant without shared agents reads no other tenant's chats)
    assert len(few) == kpis.QUERIES + (0 if connection.vendor == "postgresql" else 1) + 3
    assert len(many) == 3
    assert coverage.agent_hours == pytest.approx(8 + 5 * 29 * 4)


def test_understaffed_hours_of_a_weekday_merge_when_their_figures_are_the_same():
    # given Friday 19-20 and 20-21 with 2.0 on shift and 3 needed (10 and 14 chats), Friday 21-22 with 2.5,
    # Friday 22-23 covered, and Monday 09-10 with nobody on shift for 2 needed (3 chats)
    def cell(weekday, hour, *, chats=0, needed=0, scheduled=0.0):
        return HourCoverage(
            weekday=weekday,
            hour=hour,
            occurrences=4,
            live_chats=chats,
            needed=needed,
            scheduled=scheduled,
            trained_on_shift=scheduled,
            team_separate=None,
            team_needed=None,
            team_on_shift=None,
        )

    special = {
        (FRIDAY, 19): cell(FRIDAY, 19, chats=10, needed=3, scheduled=2.0),
        (FRIDAY, 20): cell(FRIDAY, 20, chats=14, needed=3, scheduled=2.0),
        (FRIDAY, 21): cell(FRIDAY, 21, chats=8, needed=3, scheduled=2.5),
        (FRIDAY, 22): cell(FRIDAY, 22, chats=5, needed=2, scheduled=2.0),
        (MONDAY, 9): cell(MONDAY, 9, chats=3, needed=2),
    }
    hours = tuple(special.get(divmod(n, 24), cell(*divmod(n, 24))) for n in range(168))
    coverage = StaffingCoverage(
        tenant_id=1,
        period=OCTOBER,
        handle_seconds=300,
        target_seconds=10,
        target_share=0.9,
        concurrency=1,
        hours=hours,
    )

    # when
    runs = coverage.understaffed_runs()

    # then Friday 19-21 weighs 1 x 10 + 1 x 14 = 24, Monday 2 x 3 = 6, Friday 21-22 0.5 x 8 = 4
    assert [(run.weekday, run.first_hour, run.end_hour, run.live_chats, run.weight) for run in runs] == [
        (FRIDAY, 19, 21, 24, 24),
        (MONDAY, 9, 10, 3, 6),
        (FRIDAY, 21, 22, 8, 4),
    ]
    # and 5 of the 40 chats came in a covered hour
    assert coverage.covered_share == 5 / 40


def test_coverage_holds_on_the_embedded_sqlite_default(sqlite_rerun):
    """Run this module's tests again on SQLite, where the local hour of the week is Django's own functions."""
    # given the embedded default, when this module runs there
    run = sqlite_rerun.of(__file__)

    # then every test passes there too
    assert_all_passed(run)
