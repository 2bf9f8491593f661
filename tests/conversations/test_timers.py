"""The live chat's clocks: grace period, re-offering unanswered chats, long-wait alerts."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command

from chatops.models import Agent
from chatops.services import plan_shift, set_presence, touch_agent
from conversations import services, timers
from conversations.models import Conversation, Visitor
from tests import factories

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
def test_a_wait_past_the_target_alerts_operations_once(tenant, django_capture_on_commit_callbacks):
    # given a chat waiting with nobody on duty, and someone listening on the operations group
    chat = chat_from_visitor(tenant)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(timers.OPERATIONS_GROUP, channel)

    # when the clock runs before and after the 10 s target
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=8)).waits_alerted == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=12)).waits_alerted == 1

    # then one alert names the tenant and the wait, and it is not repeated
    alert = async_to_sync(layer.receive)(channel)
    assert alert["type"] == "wait.alert"
    assert alert["payload"]["conversation"] == chat.pk
    assert alert["payload"]["tenant_name"] == tenant.name and alert["payload"]["waited_seconds"] == 12
    assert timers.sweep_live_chats(now=NOW + dt.timedelta(seconds=40)).waits_alerted == 0


@pytest.mark.django_db
def test_the_timers_command_sweeps_once(tenant, capsys):
    chat_from_visitor(tenant, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    call_command("live_timers", "--once")

    assert "alerted 1 long waits" in capsys.readouterr().out


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
