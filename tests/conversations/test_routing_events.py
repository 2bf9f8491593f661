"""Waiting chats are routed by the events that free or qualify an agent, not by the clock alone.

The clock (every 5 s) routes waiting chats too; these events do it at once, after their commit: a
transfer frees the sender's slot, a higher limit of chats at once, training completed, a shift that
covers now. (An agent going online and closing a chat route from the console already.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations import routing
from conversations.models import Conversation
from tests import factories
from tests.conversations.test_routing import new_chat, ready_agent
from workforce import services as agent_services
from workforce.models import Agent, Qualification

pytestmark = pytest.mark.django_db


def waiting(chat: Conversation) -> bool:
    chat.refresh_from_db()
    return chat.status == Conversation.Status.WAITING


def test_a_transfer_gives_the_sender_the_oldest_waiting_chat_at_once(tenant, django_capture_on_commit_callbacks):
    # given Anna and Bea are full (one chat each) and a chat waits; Cleo came on duty (the clock has not run)
    anna = ready_agent(tenant, name="Anna", max_chats=1)
    kept = new_chat(tenant)
    ready_agent(tenant, name="Bea", max_chats=1)
    new_chat(tenant)
    queued = new_chat(tenant)
    cleo = ready_agent(tenant, name="Cleo", max_chats=1)
    assert kept.agent == anna and waiting(queued)

    # when Anna hands her chat to Cleo
    with django_capture_on_commit_callbacks(execute=True):
        routing.transfer(conversation=kept, from_agent=anna, to_agent=cleo)

    # then the waiting chat is Anna's now
    queued.refresh_from_db()
    assert (queued.agent, queued.status) == (anna, Conversation.Status.ACTIVE)


def test_a_higher_limit_of_chats_gives_the_agent_a_waiting_chat_at_once(tenant, django_capture_on_commit_callbacks):
    # given Anna is full and a chat waits
    anna = ready_agent(tenant, name="Anna", max_chats=1)
    new_chat(tenant)
    queued = new_chat(tenant)

    # when her profile is saved unchanged, then with a higher limit
    with django_capture_on_commit_callbacks(execute=True) as unchanged:
        agent_services.save_agent(agent=Agent.objects.get(pk=anna.pk))
    still_waiting = waiting(queued)
    anna.max_concurrent_chats = 2
    with django_capture_on_commit_callbacks(execute=True):
        agent_services.save_agent(agent=anna)

    # then only the raise gave her the chat
    assert unchanged == [] and still_waiting
    queued.refresh_from_db()
    assert queued.agent == anna


def test_raising_an_agents_limit_in_the_admin_routes_a_waiting_chat(
    client, ops_manager, tenant, django_capture_on_commit_callbacks
):
    # given Anna is full and a chat waits
    anna = ready_agent(tenant, name="Anna", max_chats=1)
    new_chat(tenant)
    queued = new_chat(tenant)
    client.force_login(ops_manager)
    training = Qualification.objects.get(agent=anna)

    # when an operations manager raises her limit on her page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:workforce_agent_change", args=[anna.pk]),
            {
                "display_name": "Anna",
                "max_concurrent_chats": "2",
                "qualifications-TOTAL_FORMS": "1",
                "qualifications-INITIAL_FORMS": "1",
                "qualifications-MIN_NUM_FORMS": "0",
                "qualifications-MAX_NUM_FORMS": "1000",
                "qualifications-0-id": training.pk,
                "qualifications-0-agent": anna.pk,
                "qualifications-0-tenant": tenant.pk,
                "qualifications-0-training_started_on": training.training_started_on.isoformat(),
                "qualifications-0-training_completed_on": training.training_completed_on.isoformat(),
            },
        )

    # then
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.agent == anna


def test_completing_training_gives_the_agent_the_tenants_waiting_chat_at_once(
    tenant, django_capture_on_commit_callbacks
):
    # given Anna is online and on shift but still in training for the tenant, and a chat waits
    anna = ready_agent(tenant, name="Anna")
    Qualification.objects.filter(agent=anna).update(training_completed_on=None)
    queued = new_chat(tenant)
    assert waiting(queued)

    # when her training is completed today
    with django_capture_on_commit_callbacks(execute=True):
        agent_services.complete_training(agent=anna, tenant=tenant)

    # then
    queued.refresh_from_db()
    assert queued.agent == anna


def test_a_shift_covering_now_routes_at_once_and_a_later_one_leaves_it_to_the_clock(
    tenant, django_capture_on_commit_callbacks
):
    # given Anna is online and trained but has no shift, and a chat waits
    now = timezone.now()
    anna = factories.make_agent(trained_for=[tenant], display_name="Anna")
    # online, with a console that pinged just now
    Agent.objects.filter(pk=anna.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=now)
    queued = new_chat(tenant)

    # when a shift is planned for later, then one that covers now
    with django_capture_on_commit_callbacks(execute=True) as later:
        agent_services.plan_shift(
            agent=anna, starts_at=now + dt.timedelta(hours=2), ends_at=now + dt.timedelta(hours=4)
        )
    still_waiting = waiting(queued)
    with django_capture_on_commit_callbacks(execute=True):
        agent_services.plan_shift(
            agent=anna, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1)
        )

    # then only the shift covering now gave her the chat
    assert later == [] and still_waiting
    queued.refresh_from_db()
    assert queued.agent == anna
