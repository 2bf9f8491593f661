"""The live chat's clocks: grace period, re-offering unanswered chats, long-wait alerts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from conversations import services, timers
from conversations.models import Conversation, Visitor
from tests import factories
from workforce.models import Agent
from workforce.services import plan_shift, set_presence, touch_agent

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)


def on_duty(tenant, name):
    agent = factories.make_agent(trained_for=[tenant], display_name=name)
    set_presence(agent=agent, presence=Agent.Presence.ONLINE, now=NOW)
    plan_shift(agent=agent, starts_at=NOW - dt.timedelta(hours=2), ends_at=NOW + dt.timedelta(hours=6))
    return agent


def chat_from_visitor(tenant, at=NOW):
    conversation = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), now=at)
    services.post_visitor_message(conversation=conversation, body="Hello?", now=at)
    conversation.refresh_from_db()
    return conversation


@pytest.mark.django_db
def test_an_agent_whose_console_went_silent_past_the_grace_period_loses_their_chats_to_a_colleague(tenant):
    # given Anna has answered a chat, then her console stops beating; Bea is on duty
    anna = on_duty(tenant, "Anna")
    chat = chat_from_visitor(tenant)
    assert chat.agent == anna
    services.post_agent_message(conversation=chat, agent=anna, body="Hi!", now=NOW + dt.timedelta(seconds=3))
    bea = on_duty(tenant, "Bea")
    touch_agent(agent=bea, now=NOW + dt.timedelta(seconds=50))

    # when the clock runs within the grace period, nothing happens
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=59)).agents_released == 0
    chat.refresh_from_db()
    assert chat.agent == anna

    # when it runs after the grace period
    result = timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=61))

    # then Anna is offline and her chat went to Bea
    assert result.agents_released == 1
    anna.refresh_from_db()
    chat.refresh_from_db()
    assert anna.presence == Agent.Presence.OFFLINE
    assert (chat.agent, chat.status) == (bea, Conversation.Status.ACTIVE)


@pytest.mark.django_db
def test_a_live_console_keeps_its_agent_and_chats(tenant):
    anna = on_duty(tenant, "Anna")
    chat = chat_from_visitor(tenant)
    services.post_agent_message(conversation=chat, agent=anna, body="Hi!", now=NOW + dt.timedelta(seconds=3))
    touch_agent(agent=anna, now=NOW + dt.timedelta(seconds=100))

    timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=120))

    chat.refresh_from_db()
    assert chat.agent == anna


@pytest.mark.django_db
def test_a_chat_not_answered_within_the_target_is_offered_to_another_agent_once(tenant):
    # given Anna got the chat but does not answer (target 10 s); Bea is busy-free
    anna = on_duty(tenant, "Anna")
    chat = chat_from_visitor(tenant)
    bea = on_duty(tenant, "Bea")
    for agent in (anna, bea):
        touch_agent(agent=agent, now=NOW + dt.timedelta(seconds=15))

    # when the clock runs at 9 s nothing moves; at 11 s it is re-offered
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=9)).chats_requeued == 0
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=11)).chats_requeued == 1

    # then Bea has it, and it is not moved again
    chat.refresh_from_db()
    assert chat.agent == bea and chat.requeued_at is not None
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=30)).chats_requeued == 0


@pytest.mark.django_db
def test_an_answered_chat_is_never_re_offered(tenant):
    anna = on_duty(tenant, "Anna")
    chat = chat_from_visitor(tenant)
    services.post_agent_message(conversation=chat, agent=anna, body="Hi!", now=NOW + dt.timedelta(seconds=5))
    touch_agent(agent=anna, now=NOW + dt.timedelta(seconds=50))

    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=55)).chats_requeued == 0


@pytest.mark.django_db
def test_a_wait_past_the_target_alerts_operations_once(tenant, django_capture_on_commit_callbacks, group_listener):
    # given a chat waiting with nobody on duty, and someone listening on the operations group
    chat = chat_from_visitor(tenant)
    receive = group_listener.listen(timers.OPERATIONS_GROUP)

    # when the clock runs before and after the 10 s target
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=8)).waits_alerted == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=12)).waits_alerted == 1

    # then one alert names the tenant and the wait, and it is not repeated
    alert = receive()
    assert alert["type"] == "wait.alert"
    assert alert["payload"]["conversation"] == chat.pk
    assert alert["payload"]["tenant_name"] == tenant.name and alert["payload"]["waited_seconds"] == 12
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=40)).waits_alerted == 0


@pytest.mark.django_db
def test_the_timers_command_sweeps_once(tenant, capsys):
    # given a chat waiting for long with its visitor on the page, and one whose visitor left long ago
    waiting = chat_from_visitor(tenant, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    services.visitor_arrived(conversation=waiting)
    chat_from_visitor(tenant, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    call_command("live_timers", "--once")

    out = capsys.readouterr().out
    assert "closed 1 chats the visitor left" in out and "alerted 1 long waits" in out


@pytest.mark.django_db
def test_a_waiting_chat_is_routed_by_the_clock_once_an_agent_is_free(tenant):
    # given a chat that waited because nobody was online
    chat = chat_from_visitor(tenant)
    assert chat.status == Conversation.Status.WAITING
    anna = on_duty(tenant, "Anna")
    touch_agent(agent=anna, now=NOW + dt.timedelta(seconds=5))

    # when the clock runs
    result = timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=6))

    # then Anna has it
    chat.refresh_from_db()
    assert result.chats_routed == 1
    assert (chat.agent, chat.status) == (anna, Conversation.Status.ACTIVE)


def visitor_gone_at(conversation, moment):
    """Let the chat's visitor connect a widget and close it at the moment."""
    services.visitor_arrived(conversation=conversation, now=moment)
    services.visitor_departed(conversation_id=conversation.pk, now=moment)


@pytest.mark.django_db
def test_a_chat_whose_visitor_left_ten_minutes_ago_ends_as_visitor_left_and_frees_the_agent(tenant):
    # given Anna at her limit with a chat whose visitor closed the page, and a second chat waiting
    anna = on_duty(tenant, "Anna")
    Agent.objects.filter(pk=anna.pk).update(max_concurrent_chats=1)
    left = chat_from_visitor(tenant)
    assert left.agent == anna
    visitor_gone_at(left, NOW)
    waiting = chat_from_visitor(tenant)
    assert waiting.status == Conversation.Status.WAITING
    services.visitor_arrived(conversation=waiting, now=NOW)

    def pings_until(moment):
        """Let Anna's console and the waiting visitor's widget ping at the moment."""
        touch_agent(agent=anna, now=moment)
        services.visitor_still_here(conversation=waiting, now=moment)
        return moment

    # when the clock runs just before the tenant's 10 minutes, nothing ends
    just_before = pings_until(NOW + dt.timedelta(minutes=9, seconds=59))
    assert timers.sweep_live_chats(now=just_before).chats_abandoned == 0

    # when it runs after them
    result = timers.sweep_live_chats(now=pings_until(NOW + dt.timedelta(minutes=10, seconds=1)))

    # then the chat ended as "visitor left" and Anna has the waiting one
    left.refresh_from_db()
    waiting.refresh_from_db()
    assert result.chats_abandoned == 1
    assert (left.status, left.outcome) == (Conversation.Status.CLOSED, Conversation.Outcome.VISITOR_LEFT)
    assert left.closed_at == NOW + dt.timedelta(minutes=10, seconds=1)
    assert (waiting.agent, waiting.status) == (anna, Conversation.Status.ACTIVE)


@pytest.mark.django_db
def test_the_tenant_sets_how_long_a_visitor_may_be_away(tenant):
    tenant.abandoned_after_minutes = 3
    tenant.save()
    chat = chat_from_visitor(tenant)
    visitor_gone_at(chat, NOW)

    assert timers.sweep_live_chats(now=NOW + dt.timedelta(minutes=2, seconds=59)).chats_abandoned == 0
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(minutes=3, seconds=1)).chats_abandoned == 1


@pytest.mark.django_db
def test_a_chat_with_its_visitor_on_the_page_and_a_message_left_outside_hours_stay_open(tenant):
    # given a chat whose visitor keeps a widget open, and a question left in the message form
    present = chat_from_visitor(tenant)
    services.visitor_arrived(conversation=present, now=NOW)
    left_message = services.start_conversation(
        tenant=tenant,
        visitor=Visitor.objects.create(tenant=tenant),
        origin=Conversation.Origin.OFFLINE_MESSAGE,
        now=NOW,
    )
    services.post_visitor_message(conversation=left_message, body="Call me tomorrow", now=NOW)

    # when the clock runs an hour later (the open widget kept pinging)
    services.visitor_still_here(conversation=present, now=NOW + dt.timedelta(minutes=59, seconds=50))
    result = timers.sweep_live_chats(now=NOW + dt.timedelta(hours=1))

    # then neither has ended
    assert result.chats_abandoned == 0
    assert Conversation.objects.filter(status=Conversation.Status.CLOSED).count() == 0


@pytest.mark.django_db
def test_a_widget_whose_daphne_process_died_stops_counting_once_its_pings_stop(
    tenant, group_listener, django_capture_on_commit_callbacks
):
    # given a chat whose visitor's widget last pinged at NOW, on a process that then died
    chat = chat_from_visitor(tenant)
    services.visitor_arrived(conversation=chat, now=NOW)
    receive = group_listener.listen(f"conversation.{chat.pk}")

    # when the clock runs within the silence a hidden tab may keep, the visitor is still there
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=149)).visitors_vanished == 0

    # when it runs after it
    with django_capture_on_commit_callbacks(execute=True):
        assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=151)).visitors_vanished == 1

    # then the visitor left when last seen, and the consoles following the chat are told
    chat.refresh_from_db()
    assert (chat.visitor_sockets, chat.visitor_left_at) == (0, NOW)
    event = receive()
    assert (event["type"], event["payload"]) == ("chat.visitor", {"conversation": chat.pk, "visitor_present": False})
    # and the chat ends ten minutes after that, not after the sweep that noticed it
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(minutes=10, seconds=1)).chats_abandoned == 1


@pytest.mark.django_db
def test_an_online_agent_no_console_has_ever_pinged_for_is_set_offline(tenant):
    ghost = factories.make_agent(trained_for=[tenant], display_name="Ghost")
    Agent.objects.filter(pk=ghost.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=None)

    assert timers.sweep_live_chats(now=NOW).agents_released == 1

    ghost.refresh_from_db()
    assert ghost.presence == Agent.Presence.OFFLINE


def left_outside_hours(tenant, at=NOW):
    """Return a question left in the message form: it waits for the next shift by design."""
    conversation = services.start_conversation(
        tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), origin=Conversation.Origin.OFFLINE_MESSAGE, now=at
    )
    services.post_visitor_message(conversation=conversation, body="Call me tomorrow", now=at)
    conversation.refresh_from_db()
    return conversation


@pytest.mark.django_db
def test_a_message_left_outside_hours_raises_no_long_wait_alert(tenant, django_capture_on_commit_callbacks):
    # given a question left in the message form and a live chat, both waiting with nobody on duty
    left = left_outside_hours(tenant)
    live = chat_from_visitor(tenant)

    # when the clock runs well past the 10 s target
    with django_capture_on_commit_callbacks(execute=True):
        result = timers.sweep_live_chats(now=NOW + dt.timedelta(minutes=5))

    # then only the live chat alerts the operations managers
    assert result.waits_alerted == 1
    left.refresh_from_db(), live.refresh_from_db()
    assert (left.supervisor_alerted_at, live.supervisor_alerted_at is not None) == (None, True)


@pytest.mark.django_db
def test_a_message_left_outside_hours_is_not_taken_from_the_agent_who_has_it(tenant):
    # given the next shift's agent was given a question left overnight and a colleague is on duty too
    anna = on_duty(tenant, "Anna")
    left = left_outside_hours(tenant)
    assert left.agent == anna
    on_duty(tenant, "Bea")

    # when the clock runs past the first-response target (the agent's console is alive)
    touch_agent(agent=anna, now=NOW + dt.timedelta(seconds=50))
    result = timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=55))

    # then it stays with Anna: the live target does not apply to it
    left.refresh_from_db()
    assert (result.chats_requeued, left.agent) == (0, anna)
