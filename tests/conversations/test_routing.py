"""Routing: online, on shift, trained, below the limit; least loaded, then longest idle; safe at once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from conversations import routing, services
from conversations.models import Conversation, Visitor
from tests import factories
from workforce.models import Agent, Qualification
from workforce.services import plan_shift


def ready_agent(tenant, *, name, max_chats=3, now=None):
    """Return an agent trained for the tenant, online and on a shift around ``now``."""
    now = now or timezone.now()
    agent = factories.make_agent(trained_for=[tenant], display_name=name, max_concurrent_chats=max_chats)
    # online, with a console that pinged just now
    agent.presence, agent.last_seen_at = Agent.Presence.ONLINE, now
    agent.save()
    plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
    return agent


def new_chat(tenant, now=None):
    visitor = Visitor.objects.create(tenant=tenant)
    return services.start_conversation(tenant=tenant, visitor=visitor, now=now)


@pytest.mark.django_db
def side_by_side(*functions) -> None:
    """Run the functions at once, each on a thread (and connection) of its own, until all have returned."""
    threads = [threading.Thread(target=function) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_new_chat_goes_to_an_eligible_agent(tenant):
    anna = ready_agent(tenant, name="Anna")

    chat = new_chat(tenant)

    assert (chat.agent, chat.status) == (anna, Conversation.Status.ACTIVE)
    assert chat.assigned_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("flaw", ["away", "offline", "off_shift", "in_training", "trained_elsewhere", "full"])
def test_an_agent_who_is_not_eligible_gets_nothing_and_the_chat_waits(tenant, other_tenant, flaw):
    # given an agent with exactly one flaw
    agent = ready_agent(other_tenant if flaw == "trained_elsewhere" else tenant, name="Bea", max_chats=1)
    if flaw in ("away", "offline"):
        agent.presence = flaw
        agent.save()
    elif flaw == "off_shift":
        agent.shifts.all().delete()
    elif flaw == "in_training":
        Qualification.objects.filter(agent=agent).update(training_completed_on=None)
    elif flaw == "full":
        new_chat(tenant)  # takes Bea's only slot

    # when
    chat = new_chat(tenant)

    # then
    assert (chat.agent, chat.status) == (None, Conversation.Status.WAITING)
    assert routing.queue_position(conversation=chat) == 1


@pytest.mark.django_db
def test_the_least_loaded_agent_is_chosen_first(tenant):
    busy = ready_agent(tenant, name="Busy")
    for _ in range(2):
        chat = new_chat(tenant)
        assert chat.agent == busy
    calm = ready_agent(tenant, name="Calm")

    assert new_chat(tenant).agent == calm


@pytest.mark.django_db
def test_between_equally_loaded_agents_the_longest_idle_is_chosen(tenant):
    # given two agents with one chat each, Early's assigned long before Late's
    early, late = ready_agent(tenant, name="Early"), ready_agent(tenant, name="Late")
    now = timezone.now()
    for agent, minutes_ago in ((early, 50), (late, 5)):
        chat = Conversation.objects.create(
            tenant=tenant,
            visitor=Visitor.objects.create(tenant=tenant),
            agent=agent,
            status=Conversation.Status.ACTIVE,
            assigned_at=now - dt.timedelta(minutes=minutes_ago),
        )
        assert chat.agent == agent

    # then
    assert new_chat(tenant).agent == early


@pytest.mark.django_db
def test_waiting_chats_keep_their_order_in_the_queue(tenant):
    now = timezone.now()
    first = new_chat(tenant, now=now)
    second = new_chat(tenant, now=now + dt.timedelta(seconds=3))

    assert routing.queue_position(conversation=first) == 1
    assert routing.queue_position(conversation=second) == 2


@pytest.mark.services  # row locks: SQLite has none
@pytest.mark.django_db
def test_an_agent_whose_console_has_not_pinged_for_30_s_gets_no_chat(tenant):
    # given an agent online, on shift and trained, whose console last pinged 31 s ago (frozen, or gone)
    now = timezone.now()
    agent = ready_agent(tenant, name="Anna", now=now)
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=now - dt.timedelta(seconds=31))

    # then routing never hands them a chat
    assert list(routing.eligible_agents(tenant=tenant, now=now)) == []
    assert new_chat(tenant, now=now).status == Conversation.Status.WAITING

    # until the console pings again
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=now - dt.timedelta(seconds=29))
    assert list(routing.eligible_agents(tenant=tenant, now=now)) == [agent]


@pytest.mark.django_db(transaction=True)
def test_two_chats_arriving_at_once_never_push_an_agent_past_their_limit(tenant):
    # given one agent with a single free slot and two waiting chats
    solo = ready_agent(tenant, name="Solo", max_chats=1)
    Agent.objects.filter(pk=solo.pk).update(presence=Agent.Presence.OFFLINE)
    first_chat, second_chat = new_chat(tenant), new_chat(tenant)
    Agent.objects.filter(pk=solo.pk).update(presence=Agent.Presence.ONLINE)
    first_assigned, second_started = threading.Event(), threading.Event()
    results = {}

    def route_first():
        # holds its transaction open until the second routing is under way
        try:
            with transaction.atomic():
                results["first"] = routing.assign_waiting(conversation=first_chat)
                first_assigned.set()
                second_started.wait(5)
                time.sleep(0.5)
        finally:
            connection.close()

    def route_second():
        try:
            first_assigned.wait(5)
            second_started.set()
            results["second"] = routing.assign_waiting(conversation=second_chat)
        finally:
            connection.close()

    # when both are routed at the same moment from two connections
    side_by_side(route_first, route_second)

    # then only the first got the agent; the second waits
    assert (results["first"], results["second"]) == (solo, None)
    assert Conversation.objects.filter(agent=solo, status=Conversation.Status.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_chat_arriving_while_the_only_free_agent_is_being_given_another_still_goes_to_them(tenant):
    # given one agent with two free slots and two waiting chats
    solo = ready_agent(tenant, name="Solo", max_chats=2)
    Agent.objects.filter(pk=solo.pk).update(presence=Agent.Presence.OFFLINE)
    first_chat, second_chat = new_chat(tenant), new_chat(tenant)
    Agent.objects.filter(pk=solo.pk).update(presence=Agent.Presence.ONLINE)
    first_assigned = threading.Event()
    results = {}

    def route_first():
        # holds the agent's row a moment after giving them the first chat, as a busy database does
        try:
            with transaction.atomic():
                results["first"] = routing.assign_waiting(conversation=first_chat)
                first_assigned.set()
                time.sleep(0.3)
        finally:
            connection.close()

    def route_second():
        try:
            first_assigned.wait(5)
            results["second"] = routing.assign_waiting(conversation=second_chat)
        finally:
            connection.close()

    # when the second is routed while the first assignment still holds the agent's row
    side_by_side(route_first, route_second)

    # then the second waits for the row, not for the next sweep of the queue: both chats are the agent's
    assert (results["first"], results["second"]) == (solo, solo)
    assert Conversation.objects.filter(agent=solo, status=Conversation.Status.ACTIVE).count() == 2


@pytest.mark.django_db
def test_an_agent_transfers_a_chat_with_a_note_to_an_eligible_colleague(tenant, django_capture_on_commit_callbacks):
    # given Anna has a chat and Bea is on duty
    anna = ready_agent(tenant, name="Anna")
    chat = new_chat(tenant)
    bea = ready_agent(tenant, name="Bea")

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        record = routing.transfer(conversation=chat, from_agent=anna, to_agent=bea, note="Wants a refund")

    # then Bea has it, the note is kept, Anna, Bea and the visitor are told, and Anna's free slot is offered
    chat.refresh_from_db()
    assert chat.agent == bea and chat.status == Conversation.Status.ACTIVE
    assert (record.from_agent, record.to_agent, record.note) == (anna, bea, "Wants a refund")
    assert len(callbacks) == 4


@pytest.mark.django_db
def test_a_chat_cannot_be_transferred_to_someone_not_eligible_or_by_someone_else(tenant, other_tenant):
    anna = ready_agent(tenant, name="Anna")
    chat = new_chat(tenant)
    stranger = ready_agent(other_tenant, name="Stranger")
    bea = ready_agent(tenant, name="Bea")
    Agent.objects.filter(pk=bea.pk).update(presence=Agent.Presence.AWAY)

    for target in (stranger, bea, anna):
        with pytest.raises(ValidationError) as refusal:
            routing.transfer(conversation=chat, from_agent=anna, to_agent=target)
        assert refusal.value.code == "transfer_refused"
    with pytest.raises(ValidationError) as refusal:
        routing.transfer(conversation=chat, from_agent=bea, to_agent=anna)
    assert refusal.value.code == "not_yours"
    chat.refresh_from_db()
    assert chat.agent == anna and not chat.transfers.exists()
