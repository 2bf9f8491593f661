"""Roles are groups made by a migration; only completed training makes an agent eligible."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from accounts import roles
from accounts.services import create_login
from conversations.models import Conversation
from tenants import onboarding
from tenants.models import OnboardingItem
from tests import factories
from workforce.models import Qualification
from workforce.services import complete_training, create_agent, save_qualification, start_training


@pytest.mark.django_db
def test_the_three_role_groups_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {"operations manager", "agent", "client user"}


@pytest.mark.django_db
def test_an_operations_manager_gets_staff_status_and_the_others_do_not():
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    agent_user = factories.make_user(role=roles.AGENT)

    assert manager.is_staff and roles.is_operations_manager(manager)
    assert not agent_user.is_staff and not roles.is_operations_manager(agent_user)
    assert roles.has_role(agent_user, roles.AGENT)


def test_only_completed_training_counts_and_scoping_follows_it(tenant, other_tenant):
    # given an agent trained for one tenant and still training for the other
    agent = factories.make_agent(trained_for=[tenant])
    Qualification.objects.create(agent=agent, tenant=other_tenant, training_started_on=dt.date(2026, 11, 20))
    visitor_here = tenant.visitor_set.create()
    visitor_there = other_tenant.visitor_set.create()
    mine = Conversation.objects.create(tenant=tenant, visitor=visitor_here)
    Conversation.objects.create(tenant=other_tenant, visitor=visitor_there)

    # then
    assert list(Qualification.objects.completed().filter(agent=agent).values_list("tenant", flat=True)) == [tenant.pk]
    assert list(Conversation.objects.visible_to(agent)) == [mine]

    # when training for the other tenant completes
    complete_training(agent=agent, tenant=other_tenant, on=dt.date(2026, 11, 22))

    # then
    assert Conversation.objects.visible_to(agent).count() == 2


def test_training_cannot_complete_before_it_started(agent, other_tenant):
    qualification = Qualification(
        agent=agent,
        tenant=other_tenant,
        training_started_on=dt.date(2026, 11, 20),
        training_completed_on=dt.date(2026, 11, 19),
    )

    with pytest.raises(ValidationError):
        save_qualification(qualification=qualification)


def test_creating_an_agent_creates_a_login_and_emails_an_invitation(db, mailoutbox, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        agent = create_agent(email="Maija@Staff.example", display_name="Maija", languages=["fi", "en"])

    # then
    assert agent.user.username == "maija@staff.example"
    assert not agent.user.has_usable_password()
    assert roles.has_role(agent.user, roles.AGENT)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["maija@staff.example"]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_an_agent_cannot_be_created_twice_with_one_email(db):
    create_agent(email="maija@staff.example", display_name="Maija")

    with pytest.raises(ValidationError):
        create_agent(email="MAIJA@staff.example", display_name="Maija 2")


def test_an_agent_speaks_only_languages_we_serve(db):
    with pytest.raises(ValidationError):
        create_agent(email="x@staff.example", display_name="X", languages=["klingon"])


def test_an_agent_with_a_known_password_and_username_can_log_in_and_gets_no_invitation(
    db, client, mailoutbox, django_capture_on_commit_callbacks
):
    # when an agent is created with a published password, already hashed, and a username of their own
    with django_capture_on_commit_callbacks(execute=True):
        agent = create_agent(
            email="oliver@staff.example",
            display_name="Oliver",
            username="agent6",
            password_hash=make_password("demo-agent"),
        )

    # then that login works at once and nobody was e-mailed a link
    assert (agent.user.username, agent.user.email) == ("agent6", "oliver@staff.example")
    assert client.login(username="agent6", password="demo-agent")
    assert mailoutbox == []


def test_a_username_that_is_taken_is_refused(db):
    create_login(email="a@staff.example", full_name="A", role=roles.AGENT, username="agent1")

    with pytest.raises(ValidationError) as refused:
        create_login(email="b@staff.example", full_name="B", role=roles.AGENT, username="agent1")

    assert "username" in refused.value.message_dict


SEEN_AT = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)


@pytest.mark.frozen_time(SEEN_AT)
def test_training_started_and_completed_in_the_past_completes_the_checklist_step_then(tenant, mailoutbox):
    # given a tenant with its checklist, and two agents
    onboarding.schedule_checklist(tenant)
    anna, bea = factories.make_agent(), factories.make_agent()
    started, completed = SEEN_AT - dt.timedelta(days=6), SEEN_AT - dt.timedelta(days=2)

    # when both started and then completed training on days past, recorded as of those days
    for agent in (anna, bea):
        start_training(agent=agent, tenant=tenant, on=started.date(), now=started)
    complete_training(agent=anna, tenant=tenant, on=completed.date(), now=completed)
    complete_training(agent=bea, tenant=tenant, on=completed.date(), now=completed + dt.timedelta(hours=1))

    # then the trainings have those days and the "two agents trained" step was done when the second finished
    assert set(
        Qualification.objects.filter(tenant=tenant).values_list("training_started_on", "training_completed_on")
    ) == {(started.date(), completed.date())}
    step = OnboardingItem.objects.for_tenant(tenant).get(key="agents_trained")
    assert step.done_at == completed + dt.timedelta(hours=1)
