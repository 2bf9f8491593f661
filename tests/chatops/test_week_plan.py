"""The week plan in the admin: who may see it, its coverage from the database, copying a week, the e-mail."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from email import message_from_bytes

import pytest
from django.urls import reverse

from chatops.staffing_services import SHORT_HOURS_KIND, copy_last_week, email_short_hours
from chatops.staffing_week import week_plan
from outbox.models import OutgoingEmail
from tenants.models import Tenant
from tests import factories
from tests.reporting.histories import add_shift, make_chat
from workforce.models import Shift
from workforce.pooling import Status

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 11, 4, 12, 0, tzinfo=HELSINKI)  # a Wednesday; the coming week starts Monday 9 November
NEXT_MONDAY = dt.date(2026, 11, 9)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]


@pytest.fixture(autouse=True)
def no_shrinkage(settings):
    """Plan without shrinkage: the agents to schedule below are the agents needed on the floor."""
    settings.STAFFING_SHRINKAGE = 0


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def go_live(*tenants: Tenant) -> None:
    Tenant.objects.filter(pk__in=[tenant.pk for tenant in tenants]).update(went_live_at=local(2026, 9, 1))


def busy_tuesdays(tenant: Tenant, chats: int) -> None:
    """Give the tenant ``chats`` chats at Tuesday 10:00-11:00 in each of the six weeks before NOW's week."""
    for week in range(1, 7):
        day = local(2026, 11, 3, 10) - dt.timedelta(weeks=week)
        for n in range(chats):
            make_chat(tenant, day + dt.timedelta(minutes=n * 60 // chats))


def test_an_agent_on_shift_for_two_tenants_covers_half_an_hour_of_each(tenant, other_tenant):
    # given both tenants live with one chat each Tuesday 10:00 (one agent each apart), and one agent trained
    # for both on shift Tuesday 10:00-11:00 next week
    go_live(tenant, other_tenant)
    busy_tuesdays(tenant, 1)
    busy_tuesdays(other_tenant, 1)
    shared = factories.make_agent(trained_for=[tenant, other_tenant], max_concurrent_chats=1)
    add_shift(shared, local(2026, 11, 10, 10), local(2026, 11, 10, 11))

    # when
    data = week_plan(monday=NEXT_MONDAY, now=NOW)

    # then the forecast is one chat that hour; each tenant has half the agent, short of its one
    tuesday_10 = 24 + 10
    assert data.forecasts[tenant.pk].arrivals[tuesday_10] == 1
    for each in (tenant, other_tenant):
        hour = data.plan.tenants[each.pk][tuesday_10]
        assert (hour.required.scheduled, hour.covered, hour.status) == (1, 0.5, Status.SHORT)
    # and the pool has him once
    pool = data.plan.pools[tuple(sorted((tenant.pk, other_tenant.pk)))][tuesday_10]
    assert pool.on_shift == 1


def test_operations_managers_see_the_week_plan_with_its_short_hours_and_others_do_not(
    client, tenant, ops_manager, agent
):
    # given a live tenant with 12 chats each Tuesday 10:00 and nobody on shift next week
    go_live(tenant)
    busy_tuesdays(tenant, 12)

    # when an operations manager opens the page
    client.force_login(ops_manager)
    page = client.get(reverse("admin:staffing-week"))

    # then Tuesday 10:00 is listed short, with the forecast's method
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kahvila Oy" in text
    assert "Tue 11/10/2026 10 a.m.: 0.0 of" in text
    assert "seasonal mean" in text
    # and an agent is sent to the login page
    client.force_login(agent.user)
    assert client.get(reverse("admin:staffing-week")).status_code == 302


@pytest.mark.parametrize("page", ["admin:index", "admin:workforce_shift_changelist"])
def test_the_admin_front_page_and_the_shifts_list_warn_of_next_weeks_short_hours(client, tenant, ops_manager, page):
    # given a live tenant busy each Tuesday 10:00 (2 agents needed) and one agent trained for it, on shift
    # next Tuesday 10:00-11:00 only: Tuesday 10:00 is short
    go_live(tenant)
    busy_tuesdays(tenant, 12)
    one = factories.make_agent(trained_for=[tenant])
    add_shift(one, local(2026, 11, 10, 10), local(2026, 11, 10, 11))
    client.force_login(ops_manager)

    # when the manager opens the page
    answer = client.get(reverse(page))

    # then it warns of the short hour, by tenant, with a link to the week plan of that week
    assert answer.status_code == 200
    (warning,) = [str(message) for message in answer.context["messages"]]
    assert "The week from 11/09/2026 has 1 short-staffed hour: Kahvila Oy 1." in warning
    assert f'href="{reverse("admin:staffing-week")}?week=2026-11-09"' in answer.content.decode()


def test_no_short_hours_warning_when_next_week_is_staffed(client, tenant, ops_manager):
    # given a live tenant busy each Tuesday 10:00 and two agents trained for it on shift then
    go_live(tenant)
    busy_tuesdays(tenant, 12)
    for _ in range(2):
        add_shift(factories.make_agent(trained_for=[tenant]), local(2026, 11, 10, 10), local(2026, 11, 10, 11))
    client.force_login(ops_manager)

    # when
    answer = client.get(reverse("admin:index"))

    # then
    assert answer.status_code == 200
    assert list(answer.context["messages"]) == []


def test_what_if_a_longer_target_needs_fewer_agents(client, tenant, ops_manager):
    go_live(tenant)
    busy_tuesdays(tenant, 12)
    client.force_login(ops_manager)

    strict = client.get(reverse("admin:staffing-week"), {"target_seconds": 10, "concurrency": 1})
    loose = client.get(reverse("admin:staffing-week"), {"target_seconds": 300, "concurrency": 1, "target_percent": 80})

    # 12 chats an hour at 300 s one at a time: 3 agents for 90 % in 10 s, 2 for 80 % in 5 minutes
    assert "0.0 of 3 agents" in strict.content.decode()
    assert "0.0 of 2 agents" in loose.content.decode()


def test_copying_last_week_repeats_its_shifts_at_the_same_local_times_without_overlaps(client, ops_manager):
    # given two agents' shifts in the week of 2 November; B already has a shift on 10 November
    a, b = factories.make_agent(), factories.make_agent()
    add_shift(a, local(2026, 11, 2, 8), local(2026, 11, 2, 16))
    add_shift(b, local(2026, 11, 3, 12), local(2026, 11, 3, 20))
    add_shift(b, local(2026, 11, 10, 14), local(2026, 11, 10, 22))

    # when the manager copies last week into the week of 9 November
    client.force_login(ops_manager)
    answer = client.post(reverse("admin:staffing-week"), {"copy": "1", "week": "2026-11-09"})

    # then A's shift is copied; B's would overlap and is left out
    assert answer.status_code == 302
    copied = Shift.objects.filter(starts_at__gte=local(2026, 11, 9, 0)).order_by("starts_at")
    assert [(s.agent_id, s.starts_at, s.ends_at) for s in copied] == [
        (a.pk, local(2026, 11, 9, 8), local(2026, 11, 9, 16)),
        (b.pk, local(2026, 11, 10, 14), local(2026, 11, 10, 22)),
    ]
    # and copying again copies nothing
    assert copy_last_week(monday=NEXT_MONDAY) == 0


def test_the_daily_email_lists_next_weeks_short_hours_to_operations_managers(
    tenant, ops_manager, django_capture_on_commit_callbacks
):
    # given a live tenant busy each Tuesday 10:00 and nobody on shift
    go_live(tenant)
    busy_tuesdays(tenant, 12)

    # when
    with django_capture_on_commit_callbacks():
        count = email_short_hours(now=NOW)

    # then one e-mail to the manager lists the short hour (no agent trained: a limit of 3, industry factors: 2 agents)
    assert count == 1
    email = OutgoingEmail.objects.get(kind=SHORT_HOURS_KIND)
    assert email.recipients == "manager@staff.example"
    body = message_from_bytes(bytes(email.message)).get_payload(decode=True).decode()
    assert "Kahvila Oy, Tue 11/10/2026 10 a.m.: 0.0 of 2 agents, 0 % within target" in body


def test_no_email_when_no_hour_is_short(tenant, ops_manager):
    go_live(tenant)

    assert email_short_hours(now=NOW) == 0
    assert not OutgoingEmail.objects.filter(kind=SHORT_HOURS_KIND).exists()


# The week of 9 November on the page, as each language writes a day and a clock time (by hand): the shift
# grid's column for Tuesday, the coverage table's caption for Tuesday, an 09:00-17:00 shift, the short hour.
WRITTEN = {
    "en": ("Tue 11/10/2026", "Tuesday 11/10/2026", "9 a.m.–5 p.m.", "Kahvila Oy, Tue 11/10/2026 10 a.m.: 0.0 of"),
    "fi": ("ti 10.11.2026", "tiistai 10.11.2026", "9.00–17.00", "Kahvila Oy, ti 10.11.2026 10.00:"),
    "pl": ("wt 10.11.2026", "wtorek 10.11.2026", "09:00–17:00", "Kahvila Oy, wt 10.11.2026 10:00:"),
}


@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_the_week_plan_writes_days_and_times_as_the_readers_language_does(client, tenant, ops_manager, language):
    # given a live tenant busy each Tuesday 10:00, and an agent on shift on Tuesday 10 November 09:00-17:00 Helsinki
    go_live(tenant)
    busy_tuesdays(tenant, 12)
    add_shift(factories.make_agent(), local(2026, 11, 10, 9), local(2026, 11, 10, 17))

    # when an operations manager reads the page in the language
    client.force_login(ops_manager)
    text = client.get(reverse("admin:staffing-week"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then the days carry the language's weekday names and date format, the shift its clock, the short hour both
    for written in WRITTEN[language]:
        assert written in text, f"{written!r} not on the {language} page"
    # and no day is written in one fixed format for every language
    assert "10.11.<" not in text
    assert "10.11. " not in text
