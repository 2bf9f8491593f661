"""Persist, then publish: numbered messages, idempotent resends, resume after a sequence number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from conversations import events, services
from conversations.models import Conversation, Message, Visitor

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)


@pytest.fixture
def conversation(tenant):
    visitor = Visitor.objects.create(tenant=tenant)
    return services.start_conversation(tenant=tenant, visitor=visitor, now=NOW)


def test_messages_are_numbered_one_after_another_and_timestamps_recorded(conversation, agent):
    # when
    first, _ = services.post_visitor_message(conversation=conversation, body="Hei!", now=NOW)
    reply, _ = services.post_agent_message(
        conversation=conversation, agent=agent, body="Hei, miten voin auttaa?", now=NOW + dt.timedelta(seconds=6)
    )
    again, _ = services.post_visitor_message(conversation=conversation, body="Toimitusaika?", now=NOW)

    # then
    assert [first.seq, reply.seq, again.seq] == [1, 2, 3]
    conversation.refresh_from_db()
    assert conversation.last_seq == 3
    assert conversation.first_visitor_message_at == NOW
    assert conversation.first_agent_reply_at == NOW + dt.timedelta(seconds=6)
    assert (conversation.agent, conversation.status) == (agent, Conversation.Status.ACTIVE)


@pytest.mark.parametrize("path", ["one statement", "under lock"])
def test_a_greeting_before_the_visitor_writes_is_not_the_first_response(conversation, agent, path):
    # given an agent who greets before the visitor has written (the chat becomes theirs)
    services.post_agent_message(conversation=conversation, agent=agent, body="Hei!", now=NOW)
    conversation.refresh_from_db()
    assert conversation.first_agent_reply_at is None

    # when the visitor writes 20 s later and the agent answers 60 s after that
    services.post_visitor_message(conversation=conversation, body="Toimitusaika?", now=NOW + dt.timedelta(seconds=20))
    answered_at = NOW + dt.timedelta(seconds=80)
    if path == "one statement":
        services.post_agent_reply(agent=agent, conversation_id=conversation.pk, body="Kaksi päivää.", now=answered_at)
    else:
        services.post_agent_message(conversation=conversation, agent=agent, body="Kaksi päivää.", now=answered_at)

    # then the first response is the answer after the visitor's first message: 60 s
    conversation.refresh_from_db()
    assert conversation.first_visitor_message_at == NOW + dt.timedelta(seconds=20)
    assert conversation.first_agent_reply_at == answered_at
    assert conversation.first_agent_reply_at - conversation.first_visitor_message_at == dt.timedelta(seconds=60)


def test_a_resent_message_with_the_same_client_id_is_stored_once(conversation):
    first, created_first = services.post_visitor_message(conversation=conversation, body="Hello", client_msg_id="c-1")
    second, created_second = services.post_visitor_message(conversation=conversation, body="Hello", client_msg_id="c-1")

    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_resuming_client_gets_exactly_the_messages_after_its_last_sequence(conversation):
    for n in range(5):
        services.post_visitor_message(conversation=conversation, body=f"line {n}")

    assert [m.seq for m in services.messages_after(conversation=conversation, seq=2)] == [3, 4, 5]
    assert services.messages_after(conversation=conversation, seq=5) == []


def test_the_message_is_published_only_after_it_is_committed(
    conversation, django_capture_on_commit_callbacks, group_listener
):
    # given
    receive = group_listener.listen(events.conversation_group(conversation.pk))

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message, _ = services.post_visitor_message(conversation=conversation, body="Is anyone there?")
    # then nothing is sent before commit, and the stored row is what is sent after it
    assert Message.objects.filter(pk=message.pk).exists()
    assert len(callbacks) == 2  # the conversation's watchers and the tenant's queue
    for callback in callbacks:
        callback()
    event = receive()
    assert event["type"] == "chat.message"
    assert event["payload"]["seq"] == 1 and event["payload"]["body"] == "Is anyone there?"


def test_a_visitor_message_in_an_assigned_chat_is_published_once_to_its_group(
    conversation, agent, django_capture_on_commit_callbacks, group_listener
):
    # given a chat its agent has taken (their consoles follow its group)
    services.post_agent_message(conversation=conversation, agent=agent, body="Hei!", now=NOW)
    receive = group_listener.listen(events.conversation_group(conversation.pk))

    # when the visitor writes
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message, _ = services.post_visitor_message(conversation=conversation, body="Hei", sender_channel="tab-1")

    # then one event goes out, to the chat's group, naming the socket it came from
    assert len(callbacks) == 1
    event = receive()
    assert (event["type"], event["payload"]["seq"], event["sender_channel"]) == ("chat.message", message.seq, "tab-1")


@pytest.mark.parametrize(("body", "code"), [("", "empty"), ("   ", "empty"), ("x" * 4001, "too_long")])
def test_empty_and_overlong_messages_are_refused_with_a_code(conversation, body, code):
    with pytest.raises(ValidationError) as refusal:
        services.post_visitor_message(conversation=conversation, body=body)

    assert refusal.value.code == code
    assert not Message.objects.exists()


def test_text_is_stored_exactly_as_written(conversation):
    written = "<script>alert('hi')</script> & ÄÖ ł"

    message, _ = services.post_visitor_message(conversation=conversation, body=written)

    assert Message.objects.get(pk=message.pk).body == written


def test_a_closed_conversation_takes_no_more_messages(conversation):
    services.close_conversation(conversation=conversation, outcome=Conversation.Outcome.RESOLVED)

    with pytest.raises(ValidationError) as refusal:
        services.post_visitor_message(conversation=conversation, body="one more thing")
    assert refusal.value.code == "closed"


def test_an_agent_cannot_write_in_a_chat_assigned_to_another(conversation, agent, tenant):
    from tests import factories

    services.post_agent_message(conversation=conversation, agent=agent, body="Hi")
    colleague = factories.make_agent(trained_for=[tenant])

    with pytest.raises(ValidationError) as refusal:
        services.post_agent_message(conversation=conversation, agent=colleague, body="Me too")
    assert refusal.value.code == "not_yours"
    assert conversation.messages.count() == 1


def test_a_visitor_has_one_open_conversation_at_a_time(tenant, conversation):
    again = services.start_conversation(tenant=tenant, visitor=conversation.visitor)
    assert again.pk == conversation.pk

    services.close_conversation(conversation=conversation)
    new = services.start_conversation(tenant=tenant, visitor=conversation.visitor)
    assert new.pk != conversation.pk


def test_new_conversations_from_one_address_are_limited_per_hour(tenant, settings):
    # given a limit of two new chats an hour per address
    settings.CHAT_CONVERSATIONS_PER_IP_PER_HOUR = 2
    for _ in range(2):
        services.start_conversation(
            tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), ip_address="203.0.113.5"
        )

    # when a third visitor from the same address starts a chat, then it is refused
    with pytest.raises(ValidationError) as refusal:
        services.start_conversation(
            tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), ip_address="203.0.113.5"
        )
    assert refusal.value.code == "rate_limited"

    # and another address, or the same one an hour later, is fine
    services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), ip_address="203.0.113.6")
    services.start_conversation(
        tenant=tenant,
        visitor=Visitor.objects.create(tenant=tenant),
        ip_address="203.0.113.5",
        now=NOW + dt.timedelta(hours=1, minutes=1),
    )
    assert Conversation.objects.filter(ip_address="203.0.113.5").count() == 3
