"""Operations managers see, per change notice, which of the tenant's trained agents have read it and who has not."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from tenants.models import ChangeNotice
from tests import factories
from workforce.models import ChangeNoticeAcknowledgement, Qualification

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:tenants_changenotice_changelist")


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


@pytest.fixture
def team(tenant):
    """Anna, Bea and Cecilia trained for the tenant, and Dawid still in training."""
    names = ("Anna", "Bea", "Cecilia")
    agents = {name: factories.make_agent(trained_for=[tenant], display_name=name) for name in names}
    trainee = factories.make_agent(display_name="Dawid")
    Qualification.objects.create(agent=trainee, tenant=tenant, training_started_on=dt.date(2026, 11, 2))
    return agents


def row_of(html: str, title: str) -> str:
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(title)}(?:(?!</tr>).)*</tr>", html, re.DOTALL)
    assert match, f"no row for {title}"
    return match.group(0)


def test_the_notice_list_counts_readers_among_trained_agents_and_shows_how_many_are_waiting(
    manager_client, tenant, team
):
    # given a notice read by Anna, and one read by all three
    partly = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="From December.")
    fully = ChangeNotice.objects.create(tenant=tenant, title="Christmas hours", body="Closed on the 24th.")
    ChangeNoticeAcknowledgement.objects.create(notice=partly, agent=team["Anna"])
    for agent in team.values():
        ChangeNoticeAcknowledgement.objects.create(notice=fully, agent=agent)

    # when
    html = manager_client.get(LIST_URL).content.decode()

    # then
    assert "1 of 3 agents" in row_of(html, "New prices") and "2 waiting" in row_of(html, "New prices")
    assert "3 of 3 agents" in row_of(html, "Christmas hours")
    assert "waiting" not in row_of(html, "Christmas hours")


def test_the_list_can_show_only_the_notices_someone_has_still_to_read(manager_client, tenant, team):
    # given
    partly = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="From December.")
    fully = ChangeNotice.objects.create(tenant=tenant, title="Christmas hours", body="Closed on the 24th.")
    ChangeNoticeAcknowledgement.objects.create(notice=partly, agent=team["Anna"])
    for agent in team.values():
        ChangeNoticeAcknowledgement.objects.create(notice=fully, agent=agent)

    # when
    waiting = manager_client.get(LIST_URL, {"read": "waiting"})
    everyone = manager_client.get(LIST_URL, {"read": "all"})

    # then
    assert list(waiting.context["cl"].result_list) == [partly]
    assert list(everyone.context["cl"].result_list) == [fully]


def test_the_notice_page_names_who_has_read_it_and_who_has_not(manager_client, tenant, team):
    # given a notice Bea read, and an old acknowledgement by someone no longer trained for the tenant
    notice = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="From December.")
    ChangeNoticeAcknowledgement.objects.create(notice=notice, agent=team["Bea"])
    former = factories.make_agent(display_name="Former")
    ChangeNoticeAcknowledgement.objects.create(notice=notice, agent=former)

    # when
    html = manager_client.get(reverse("admin:tenants_changenotice_change", args=[notice.pk])).content.decode()
    listing = manager_client.get(LIST_URL).content.decode()

    # then the trained readers and non-readers are named; trainees and former agents are not counted
    read_part, _sep, pending_part = html.partition("Not yet acknowledged by:")
    assert "Acknowledged by:" in read_part and "<li>Bea – " in read_part
    assert "<li>Anna</li>" in pending_part and "<li>Cecilia</li>" in pending_part
    assert "Bea" not in pending_part
    assert "Dawid" not in html and "Former" not in html
    assert "1 of 3 agents" in row_of(listing, "New prices")


def test_an_agent_acknowledging_in_the_console_shows_up_in_the_admin(manager_client, client, tenant, team):
    # given
    notice = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="From December.")
    agent_client = client.__class__()
    agent_client.force_login(team["Cecilia"].user)

    # when Cecilia acknowledges it in the console
    agent_client.post(reverse("console_api_acknowledge_notice", args=[notice.pk]))

    # then
    html = manager_client.get(reverse("admin:tenants_changenotice_change", args=[notice.pk])).content.decode()
    read_part, _sep, pending_part = html.partition("Not yet acknowledged by:")
    assert "<li>Cecilia – " in read_part
    assert "Cecilia" not in pending_part
