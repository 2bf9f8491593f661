"""The operations board: every live tenant, problems first, agents online against needed.

The clock is Wednesday 4 November 2026 14:00 in Helsinki; every tenant here is in Helsinki with the
default first-response target of 10 s.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts import roles
from chatops.tasks import run_live_chat_timers
from conversations import services as conversation_services
from conversations.models import LIVE_CHAT_CLOCK, Conversation
from outbox import services as outbox
from outbox.models import OutgoingEmail
from reporting import formatting, selectors
from reporting.consumers import board_frame
from tenants.models import Tenant
from tests import factories
from tests.reporting.histories import make_chat
from workforce import pooling, staffing
from workforce.models import Agent
from workforce.services import plan_shift

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 11, 4, 14, 0, tzinfo=HELSINKI)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]


def helsinki(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def live_tenant(name: str) -> Tenant:
    return factories.make_tenant(name=name, slug=name.lower(), status=Tenant.Status.LIVE)


def working_agent(tenant: Tenant, *, chats: int = 3, online: bool = True) -> Agent:
    agent = factories.make_agent(trained_for=[tenant], max_concurrent_chats=chats)
    if online:
        Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE)
    plan_shift(agent=agent, starts_at=NOW - dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=1))
    return agent


@pytest.fixture
def board_tenants(db):
    """Alpha: a chat waiting 30 s. Beta: busy at this hour, its one agent offline. Gamma: quiet, one agent on."""
    alpha = live_tenant("Alpha")
    make_chat(alpha, NOW - dt.timedelta(seconds=30))

    beta = live_tenant("Beta")
    # 8 chats in 14:00-14:59 on each of the four previous Wednesdays, each handled for 300 s
    for weeks in range(1, 5):
        for minute in range(8):
            started = helsinki(2026, 11, 4, 14, 5 + minute) - dt.timedelta(weeks=weeks)
            make_chat(beta, started, replied=5, assigned=2, closed=302, outcome=Conversation.Outcome.RESOLVED)
    working_agent(beta, chats=1, online=False)

    gamma = live_tenant("Gamma")
    make_chat(gamma, helsinki(2026, 11, 4, 9, 0), replied=5, assigned=2, closed=300, outcome="resolved")
    make_chat(gamma, helsinki(2026, 11, 4, 10, 0), replied=15, assigned=2, closed=300, outcome="resolved")
    working_agent(gamma)

    # not on the board: a tenant still onboarding, with a chat waiting for an hour
    onboarding = factories.make_tenant(name="Delta", slug="delta")
    make_chat(onboarding, NOW - dt.timedelta(hours=1))
    return alpha, beta, gamma


def test_problems_come_first_with_their_reason(board_tenants):
    # when
    rows = selectors.operations_board(now=NOW)

    # then Alpha (a wait past its target, and its waiting chat has no agent online: short too) and Beta
    # (too few agents) lead, the one with a chat waiting first
    assert [row.tenant.name for row in rows] == ["Alpha", "Beta", "Gamma"]
    alpha, beta, gamma = rows
    assert (alpha.queue.waiting, alpha.longest_wait_seconds, alpha.wait_past_target, alpha.understaffed) == (
        1,
        30,
        True,
        True,
    )
    assert (beta.queue.waiting, beta.wait_past_target, beta.understaffed) == (0, False, True)
    assert (gamma.queue.waiting, gamma.wait_past_target, gamma.understaffed) == (0, False, False)


def test_agents_needed_come_from_erlang_c_on_this_hours_expected_chats(board_tenants):
    # Beta expects 32 / 4 = 8 chats this hour, 300 s each: A = 8 * 300 / 3600 = 2/3 erlang. Answering
    # 90 % within 10 s (t / h = 1/30):
    #   N = 1: C = A = 0.667;             SL = 1 - 0.667 * exp(-(1/3) / 30) = 0.341
    #   N = 2: B = 0.1176, C = 0.1667;    SL = 1 - 0.1667 * exp(-(4/3) / 30) = 0.841
    #   N = 3: B = 0.0255, C = 0.0325;    SL = 1 - 0.0325 * exp(-(7/3) / 30) = 0.970  >= 0.9
    # Its one agent holds 1 chat at a time: 3 agents needed, none online.
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    beta = rows["Beta"].staffing
    assert beta.expected_arrivals_per_hour == 8
    assert beta.handle_seconds == pytest.approx(300)
    assert (beta.agents_needed, beta.agents_online, beta.shortfall) == (3, 0, 3)
    # nobody expected at Alpha and Gamma: nobody needed; Gamma's agent is online and on shift
    assert (rows["Alpha"].staffing.agents_needed, rows["Alpha"].staffing.agents_online) == (0, 0)
    assert (rows["Gamma"].staffing.agents_needed, rows["Gamma"].staffing.agents_online) == (0, 1)


def test_todays_share_within_target_and_chats(board_tenants):
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    # Gamma answered in 5 s and 15 s today: 1 of 2 within 10 s
    assert rows["Gamma"].today.chats == 2
    assert rows["Gamma"].share_within_target_text == "50 %"
    # Alpha's only chat is unanswered: no share; Beta had no chat today
    assert rows["Alpha"].share_within_target_text == formatting.NO_FIGURE
    assert rows["Beta"].today.chats == 0


def test_the_board_makes_the_same_number_of_queries_for_three_tenants_or_six(board_tenants):
    # given
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            selectors.operations_board(now=NOW)
        return len(captured.captured_queries)

    three = queries()

    # when three more live tenants come, with chats and agents of their own
    for name in ("Epsilon", "Zeta", "Eta"):
        tenant = live_tenant(name)
        make_chat(tenant, NOW - dt.timedelta(minutes=1))
        working_agent(tenant)

    # then
    assert queries() == three


# --- The page -------------------------------------------------------------------------------------


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


def test_the_page_lists_the_rows_problems_first_and_marks_them(client, ops_manager, board_tenants, frozen_now):
    # given
    client.force_login(ops_manager)

    # when
    response = client.get("/operations/board/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    rows = re.findall(r'<tr class="board-row([^"]*)" data-tenant="(\w+)"', page)
    assert rows == [(" is-late is-short", "alpha"), (" is-short", "beta"), ("", "gamma")]
    assert "delta" not in page
    assert '"socket_path": "/ws/operations/board/?lang=en"' in page


def test_the_admin_front_page_links_to_the_board(client, ops_manager):
    client.force_login(ops_manager)

    page = client.get("/admin/").content.decode()

    assert 'href="/operations/board/"' in page
    assert 'href="/dashboard/"' in page


@pytest.mark.parametrize("role", [roles.AGENT, roles.CLIENT_USER, None])
def test_only_operations_managers_see_the_board(client, tenant, role):
    # given
    client.force_login(factories.make_user(role=role))

    # when
    response = client.get("/operations/board/")

    # then
    assert response.status_code == 403
    assert 'data-tenant="' not in response.content.decode()


def test_signing_in_comes_first(client):
    response = client.get("/operations/board/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/operations/board/"


# --- The background work: the live-chat clock and the e-mail queue --------------------------------


def clock_ran(seconds_ago: int) -> None:
    conversation_services.record_clock_run(name=LIVE_CHAT_CLOCK, now=NOW - dt.timedelta(seconds=seconds_ago))


def queued_email(status: str, **fields) -> OutgoingEmail:
    message = EmailMessage(subject="Raportti", body="Hei", to=["boss@example.fi"])
    email = outbox.outgoing_email(message=message, kind="test", now=NOW - dt.timedelta(minutes=5))
    email.status = status
    for name, value in fields.items():
        setattr(email, name, value)
    email.save()
    return email


@pytest.mark.parametrize(
    ("seconds_ago", "late", "text"), [(3, False, "3 s ago"), (30, False, "30 s ago"), (31, True, "31 s ago")]
)
def test_the_clock_is_late_past_30_seconds(seconds_ago, late, text):
    # given
    clock_ran(seconds_ago)

    # when
    health = selectors.background_health(now=NOW)

    # then
    assert (health.clock_seconds_ago, health.clock_late, health.clock_ago_text) == (seconds_ago, late, text)


def test_a_clock_that_never_ran_is_late(db):
    assert selectors.background_health(now=NOW).clock_late is True


def test_a_long_silence_is_told_in_minutes(db):
    clock_ran(600)

    assert selectors.background_health(now=NOW).clock_ago_text == "10 min ago"


def test_the_email_queue_counts_what_is_on_its_way_failed_today_and_may_have_been_sent(db):
    # given
    queued_email(OutgoingEmail.Status.QUEUED)
    queued_email(OutgoingEmail.Status.SENDING, leased_until=NOW + dt.timedelta(minutes=1))
    queued_email(OutgoingEmail.Status.SENDING, leased_until=NOW - dt.timedelta(minutes=1), handed_over_at=NOW)
    queued_email(OutgoingEmail.Status.FAILED)
    queued_email(OutgoingEmail.Status.FAILED, created_at=NOW - dt.timedelta(days=3))
    queued_email(OutgoingEmail.Status.UNKNOWN)
    queued_email(OutgoingEmail.Status.SENT)

    # when
    email = selectors.background_health(now=NOW).email

    # then the two queued or being sent and the one whose sender died count as on their way; only today's failure
    assert (email.waiting, email.failed, email.uncertain) == (3, 1, 2)
    assert email.oldest_waiting_since == NOW - dt.timedelta(minutes=5)
    assert email.in_trouble


def test_the_page_says_when_the_clock_last_ran_and_marks_it_red_when_it_stopped(client, ops_manager, frozen_now, db):
    # given
    client.force_login(ops_manager)
    clock_ran(3)

    # when the clock ran 3 s ago, and when it last ran 45 s ago
    running = client.get("/operations/board/").content.decode()
    clock_ran(45)
    stopped = client.get("/operations/board/").content.decode()

    # then
    assert re.search(r'class="health-item" data-clock data-ran-at="[^"]+" data-late-after="30"', running)
    assert "last ran <span data-ago>3 s ago</span>" in running
    assert "data-late-flag hidden" in running
    assert 'class="health-item is-late" data-clock' in stopped
    assert "45 s ago" in stopped and "data-late-flag hidden" not in stopped
    assert '"seconds_ago": "%(count)s s ago"' in running


def test_the_board_frame_carries_the_clock_and_the_email_queue(ops_manager, frozen_now, db):
    # given
    clock_ran(40)
    queued_email(OutgoingEmail.Status.FAILED)

    # when
    frame = board_frame("en")

    # then
    assert frame["clock_late"] is True
    assert "40 s ago" in frame["health_html"]
    assert "1 failed in the last day" in frame["health_html"]


def test_the_clock_task_records_that_it_ran(db):
    # when
    run_live_chat_timers.delay()

    # then
    assert selectors.background_health(now=timezone.now()).clock_seconds_ago == 0


# --- Agents needed when chats wait that no forecast saw coming ---------------------------------------


def test_chats_waiting_past_target_with_no_forecast_need_agents_and_the_board_says_there_is_no_forecast(
    client, ops_manager, frozen_now, db
):
    # given a client with no history at this hour (no forecast) and four chats waiting 40 s, nobody online
    epsilon = live_tenant("Epsilon")
    for seconds in (40, 35, 30, 25):
        make_chat(epsilon, NOW - dt.timedelta(seconds=seconds))
    working_agent(epsilon, chats=2, online=False)  # trained agents hold 2 chats at once

    # when
    row = next(row for row in selectors.operations_board(now=NOW) if row.tenant == epsilon)
    client.force_login(ops_manager)
    page = client.get("/operations/board/").content.decode()

    # then the four waiting chats call for two agents though the forecast says none, and it is short
    assert row.staffing.agents_needed == 0
    assert (row.agents_needed, row.understaffed, row.wait_past_target) == (2, True, True)
    cells = re.search(r'data-tenant="epsilon".*?data-column="agents">(.*?)</td>', page, re.S).group(1)
    assert "0 of 2" in cells
    assert "0 of 0" not in cells
    assert "no forecast for this hour" in cells
    assert "2 for the chats open now" in cells
    assert board_frame(language="en")["tenants"][0]["agents_needed"] == 2


def test_assigned_chats_count_towards_the_agents_the_open_chats_need(db):
    # given one online agent holding 2 of 2 chats, and one more chat waiting
    tenant = live_tenant("Zeta")
    agent = working_agent(tenant, chats=2)
    for seconds in (300, 200):
        make_chat(tenant, NOW - dt.timedelta(seconds=seconds), assigned=2, agent=agent)
    make_chat(tenant, NOW - dt.timedelta(seconds=5))

    # when
    (row,) = selectors.operations_board(now=NOW)

    # then three open chats at two each call for two agents: one is missing
    assert (row.queue.waiting, row.queue.assigned) == (1, 2)
    assert (row.agents_needed, row.staffing.agents_online, row.understaffed) == (2, 1, True)


# --- Agents trained for several clients: one pool, each agent counted once ----------------------------


def shared_agent(*tenants: Tenant, online: bool = True) -> Agent:
    """Return an agent trained for all the ``tenants`` (three chats at once), on shift now."""
    agent = factories.make_agent(trained_for=list(tenants), max_concurrent_chats=3)
    if online:
        Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE)
    plan_shift(agent=agent, starts_at=NOW - dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=1))
    return agent


def chats_this_hour_in_past_weeks(tenant: Tenant, per_hour: int) -> None:
    """Give the tenant ``per_hour`` closed chats in 14:00-15:00 of each of the four previous Wednesdays."""
    for weeks in range(1, 5):
        for minute in range(per_hour):
            make_chat(tenant, helsinki(2026, 11, 4, 14, 2 + minute) - dt.timedelta(weeks=weeks), closed=300)


def pooled_now(*rows: selectors.BoardRow) -> int:
    """Return the pool's requirement for the rows' loads this hour, by the week plan's pooling."""
    hours = [
        (
            staffing.Load(
                arrivals_per_hour=row.staffing.expected_arrivals_per_hour,
                handle_seconds=row.staffing.handle_seconds,
                model=row.staffing.model,
            ),
            staffing.policy_for(row.tenant, shrinkage=0.0),
        )
        for row in rows
    ]
    return pooling.pooled_requirement(hours, [staffing.requirement(load, policy) for load, policy in hours]).pooled


def pair_sharing_one_agent(chats_per_hour: int) -> tuple[Tenant, Tenant]:
    """Return two live clients expecting ``chats_per_hour`` each this hour, whose one agent online serves both."""
    kotipuoti, lahjapuoti = live_tenant("Kotipuoti"), live_tenant("Lahjapuoti")
    for tenant in (kotipuoti, lahjapuoti):
        chats_this_hour_in_past_weeks(tenant, chats_per_hour)
    shared_agent(kotipuoti, lahjapuoti)
    return kotipuoti, lahjapuoti


@pytest.mark.parametrize(
    ("chats_per_hour", "pooled", "short"),
    [
        (6, 2, True),  # busy: 300 s at up to three at once, each alone needs one agent, together two
        (1, 1, False),  # quiet: together they need one agent too
    ],
)
def test_one_agent_shared_by_two_clients_is_short_for_both_when_their_pool_needs_more(
    db, chats_per_hour, pooled, short
):
    # given
    kotipuoti, lahjapuoti = pair_sharing_one_agent(chats_per_hour)

    # when
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    # then each has its one agent; the pool has one, counted once, against the pooled requirement
    koti, lahja = rows["Kotipuoti"], rows["Lahjapuoti"]
    assert [(row.staffing.agents_online, row.agents_needed) for row in (koti, lahja)] == [(1, 1), (1, 1)]
    assert pooled_now(koti, lahja) == pooled
    assert (koti.pool.working, koti.pool.needed, koti.pool.tenant_ids) == (1, pooled, (kotipuoti.pk, lahjapuoti.pk))
    assert lahja.pool == koti.pool
    assert (koti.understaffed, lahja.understaffed) == (short, short)


def test_the_pool_on_the_board_needs_agents_at_work_without_the_shrinkage(db, settings):
    # given shrinkage planned at 30 % (one agent on the floor is two to schedule), and the quiet pair
    settings.STAFFING_SHRINKAGE = 0.3
    pair_sharing_one_agent(1)

    # when
    rows = selectors.operations_board(now=NOW)

    # then the agent online is at work: one is enough
    assert [(row.pool.working, row.pool.needed, row.understaffed) for row in rows] == [(1, 1, False), (1, 1, False)]


def test_a_client_short_of_its_own_trained_agents_is_short_whatever_its_pool_has(db):
    # given Lahjapuoti expecting 12 chats this hour (two agents alone) and Kotipuoti none; online: one agent
    # trained for both and two trained for Kotipuoti only, three in the pool that needs two
    kotipuoti, lahjapuoti = live_tenant("Kotipuoti"), live_tenant("Lahjapuoti")
    chats_this_hour_in_past_weeks(lahjapuoti, 12)
    shared_agent(kotipuoti, lahjapuoti)
    shared_agent(kotipuoti)
    shared_agent(kotipuoti)

    # when
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    # then the pool has enough, but Kotipuoti's agents cannot answer Lahjapuoti's chats: it is short
    koti, lahja = rows["Kotipuoti"], rows["Lahjapuoti"]
    assert (koti.pool.working, koti.pool.needed, koti.pool.short) == (3, 2, False)
    assert (lahja.staffing.agents_online, lahja.agents_needed, lahja.understaffed) == (1, 2, True)
    assert (koti.staffing.agents_online, koti.agents_needed, koti.understaffed) == (3, 0, False)


def test_the_chats_open_now_across_a_pool_need_its_agents_each_counted_once(db):
    # given two clients with no forecast, two chats waiting each, and one agent online (three at once)
    # trained for both, and one trained for both offline
    kotipuoti, lahjapuoti = live_tenant("Kotipuoti"), live_tenant("Lahjapuoti")
    for tenant in (kotipuoti, lahjapuoti):
        for seconds in (8, 4):
            make_chat(tenant, NOW - dt.timedelta(seconds=seconds))
    shared_agent(kotipuoti, lahjapuoti)
    shared_agent(kotipuoti, lahjapuoti, online=False)

    # when
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    # then each client's two chats alone need one agent, the pool's four need two: both are short
    koti, lahja = rows["Kotipuoti"], rows["Lahjapuoti"]
    assert (koti.agents_needed, lahja.agents_needed) == (1, 1)
    assert (koti.pool.working, koti.pool.needed) == (1, 2)
    assert (koti.understaffed, lahja.understaffed) == (True, True)


def test_a_client_alone_in_its_pool_is_judged_by_its_own_agents(board_tenants):
    rows = {row.tenant.name: row for row in selectors.operations_board(now=NOW)}

    gamma = rows["Gamma"]
    assert gamma.pool.tenant_ids == (gamma.tenant.pk,)
    assert (gamma.pool.working, gamma.pool.needed, gamma.shared_with) == (1, 0, 0)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "team shared with 1 other client: 1 of 2"),
        ("fi", "tiimi jaettu 1 muun asiakkaan kanssa: 1 / 2"),
        ("pl", "zespół wspólny z 1 innym klientem: 1 z 2"),
    ],
)
def test_the_board_says_which_clients_share_agents_and_the_pools_agents(
    client, ops_manager, frozen_now, language, text
):
    # given the two busy clients sharing one agent
    pair_sharing_one_agent(6)
    client.force_login(ops_manager)

    # when (the override puts back the language the request's middleware leaves active)
    with translation.override(language):
        page = client.get("/operations/board/", headers={"accept-language": language}).content.decode()
        frame = board_frame(language=language)

    # then both rows say it, and both are short
    for html in (page, frame["html"]):
        for slug in ("kotipuoti", "lahjapuoti"):
            assert text in re.search(rf'data-tenant="{slug}".*?data-column="agents">(.*?)</td>', html, re.S).group(1)
    pools = [(row["pool_agents_working"], row["pool_agents_needed"]) for row in frame["tenants"]]
    assert pools == [(1, 2), (1, 2)]
    assert [row["understaffed"] for row in frame["tenants"]] == [True, True]
