"""Nothing lost silently: a client that misses an event finds out by sequence number or its next ping."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from conversations import services, threads
from conversations.models import Conversation, Message
from tests.conversations.sockets import (
    agent_socket,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    frames_until,
    hello,
    keep_every_database_thread_busy,
    ready_agent,
    receive_until,
    store_unpublished,
    visitor_socket,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


async def chat_with_messages(tenant, count: int):
    """Return a widget that has started a chat and written ``count`` messages, its token and the chat."""
    widget = await visitor_socket(tenant)
    token = (await hello(widget))["token"]
    for n in range(1, count + 1):
        await widget.send_json_to({"type": "message", "body": f"q{n}", "client_msg_id": f"v{n}"})
        await receive_until(widget, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=tenant)
    return widget, token, conversation


async def test_a_reconnecting_widget_follows_its_chat_before_it_reads_what_it_missed(shop, monkeypatch):
    # given a chat with two messages, and an agent whose reply is stored right after the widget has read
    # what it missed on reconnecting (the moment a reply fell between the read and the join)
    agent = await database_sync_to_async(ready_agent)(shop)
    widget, token, _conversation = await chat_with_messages(shop, 2)
    await widget.disconnect()
    read = services.messages_after

    def read_then_reply(*, conversation, seq):
        missed = read(conversation=conversation, seq=seq)
        services.post_agent_message(conversation=conversation, agent=agent, body="Still there?", client_msg_id="a1")
        return missed

    monkeypatch.setattr(services, "messages_after", read_then_reply)

    # when the widget reconnects having seen both
    widget = await visitor_socket(shop)
    await widget.send_json_to({"type": "hello", "token": token, "last_seq": 2, "url": ""})
    frames = await frames_until(widget, lambda frame: 3 in seqs_in(frame), timeout=5)

    # then the reply reaches it, live or with the welcome (anything else it gets it had already)
    delivered = [m for frame in frames for m in [frame, *frame.get("messages", [])] if m.get("seq") == 3]
    assert [(m["seq"], m["body"]) for m in delivered] == [(3, "Still there?")]
    assert all(seq <= 2 for frame in frames[:-1] for seq in seqs_in(frame))
    await widget.disconnect()


def seqs_in(frame: dict) -> list[int]:
    """Return the sequence numbers of the messages a frame carries (a message, or a welcome's list)."""
    if frame["type"] == "message":
        return [frame["seq"]]
    return [message["seq"] for message in frame.get("messages", [])]


async def test_a_widget_fetches_the_messages_after_a_sequence_number_with_resume(shop):
    # given a chat of three messages
    widget, _token, conversation = await chat_with_messages(shop, 3)

    # when the widget, which noticed a gap after 1, asks for what follows it
    await widget.send_json_to({"type": "resume", "last_seq": 1})

    # then it gets 2 and 3
    history = await receive_until(widget, "history")
    assert history["conversation"] == conversation.pk
    assert [(m["seq"], m["body"]) for m in history["messages"]] == [(2, "q2"), (3, "q3")]
    await widget.disconnect()


async def test_a_widget_ping_tells_the_last_sequence_so_a_lost_tail_is_noticed_and_the_queue_place(shop):
    # given a waiting chat (nobody on duty) whose agent line was stored but its event lost
    widget, _token, conversation = await chat_with_messages(shop, 1)
    seq = await database_sync_to_async(store_unpublished)(conversation, "Hello from the team")

    # when the widget pings
    await widget.send_json_to({"type": "ping"})

    # then the pong says the chat's last sequence and the visitor's place in the queue
    pong = await receive_until(widget, "pong")
    assert (pong["conversation"]["id"], pong["conversation"]["last_seq"]) == (conversation.pk, seq)
    assert (pong["conversation"]["status"], pong["conversation"]["queue_position"]) == ("waiting", 1)
    # and what the widget missed is one resume away
    await widget.send_json_to({"type": "resume", "last_seq": 1})
    history = await receive_until(widget, "history")
    assert [(m["seq"], m["body"]) for m in history["messages"]] == [(seq, "Hello from the team")]
    await widget.disconnect()


async def test_a_widget_without_a_chat_is_answered_without_the_database(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_json_to({"type": "ping"})

    assert await receive_until(widget, "pong") == {"type": "pong", "conversation": None}
    await widget.disconnect()


async def test_a_widget_whose_chat_ended_unseen_is_told_on_its_next_ping(shop):
    # given a chat closed while its "closed" event was lost
    widget, _token, conversation = await chat_with_messages(shop, 1)
    await database_sync_to_async(Conversation.objects.filter(pk=conversation.pk).update)(
        status=Conversation.Status.CLOSED, outcome=Conversation.Outcome.RESOLVED, closed_at=timezone.now()
    )

    # when the widget pings
    await widget.send_json_to({"type": "ping"})

    # then it hears the chat has closed, then that it follows none
    closed = await receive_until(widget, "closed")
    assert (closed["conversation"], closed["status"]) == (conversation.pk, "closed")
    assert (await receive_until(widget, "pong"))["conversation"] is None
    await widget.disconnect()


async def test_the_visitor_is_not_sent_their_own_message_back(shop):
    # given a chat with its agent's console open on it
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    widget, _token, conversation = await chat_with_messages(shop, 1)
    await console.send_json_to({"type": "open", "conversation": conversation.pk, "last_seq": 0})
    await receive_until(console, "history")

    # when the visitor writes and the agent answers once the message has reached the console
    await widget.send_json_to({"type": "message", "body": "Are you there?", "client_msg_id": "v2"})
    assert (await receive_until(widget, "ack"))["seq"] == 2
    assert (await receive_until(console, "message"))["seq"] == 2
    await console.send_json_to(
        {"type": "message", "conversation": conversation.pk, "body": "Yes!", "client_msg_id": "a1"}
    )

    # then the widget gets the answer, and never its own message before it
    frames = await frames_until(widget, lambda frame: frame["type"] == "message")
    assert [(f["seq"], f["sender"]) for f in frames if f["type"] == "message"] == [(3, "agent")]
    # nor does the console get its own answer back
    assert (await receive_until(console, "ack"))["seq"] == 3
    await console.send_json_to({"type": "ping"})
    after_ack = await frames_until(console, lambda frame: frame["type"] == "pong")
    assert [f for f in after_ack if f["type"] == "message"] == []
    await widget.disconnect()
    await console.disconnect()


async def test_a_console_ping_lists_each_chat_it_follows_with_its_last_sequence(shop):
    # given a chat of the agent's and one waiting in the queue
    agent = await database_sync_to_async(ready_agent)(shop, max_chats=1)
    mine, _token, chat = await chat_with_messages(shop, 2)
    other = await visitor_socket(shop)
    await hello(other)
    await other.send_json_to({"type": "message", "body": "Anyone?", "client_msg_id": "o1"})
    await receive_until(other, "ack")
    waiting = await database_sync_to_async(Conversation.objects.exclude(pk=chat.pk).get)(tenant=shop)
    console = await agent_socket(agent)

    # when the console pings
    await console.send_json_to({"type": "ping"})

    # then the pong has the last sequence of both and says which is whose
    pong = await receive_until(console, "pong")
    assert pong["conversations"] == {str(chat.pk): 2, str(waiting.pk): 1}
    assert (pong["chats"], pong["queue"]) == ([chat.pk], [waiting.pk])
    for socket in (mine, other, console):
        await socket.disconnect()


async def test_a_console_that_missed_an_assignment_follows_the_chat_after_its_next_ping(shop):
    # given a console open, and a waiting chat handed to its agent while the "assigned" event was lost
    agent = await database_sync_to_async(ready_agent)(shop)
    await database_sync_to_async(agent.__class__.objects.filter(pk=agent.pk).update)(presence="away")
    widget, _token, conversation = await chat_with_messages(shop, 1)
    console = await agent_socket(agent)
    await database_sync_to_async(Conversation.objects.filter(pk=conversation.pk).update)(
        agent=agent, status=Conversation.Status.ACTIVE, assigned_at=timezone.now()
    )

    # when the console pings
    await console.send_json_to({"type": "ping"})

    # then the pong names the chat as the agent's, and the visitor's next message reaches the console live
    assert (await receive_until(console, "pong"))["chats"] == [conversation.pk]
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "v2"})
    message = await receive_until(console, "message")
    assert (message["conversation"], message["seq"], message["body"]) == (conversation.pk, 2, "Hello?")
    await widget.disconnect()
    await console.disconnect()


async def test_a_saturated_process_answers_a_message_with_overloaded_and_stores_nothing(shop, settings):
    # given a widget in a chat, and a process whose every database thread is busy while more calls wait
    settings.CHAT_OVERLOAD_WAIT_MS = 200
    widget, _token, _conversation = await chat_with_messages(shop, 1)
    busy = keep_every_database_thread_busy(settings, 1.5)
    await asyncio.sleep(0.4)
    assert threads.database_wait() >= 0.2

    # when the visitor writes
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "v2"})

    # then the answer says so, with when to try again, and nothing is stored
    error = await receive_until(widget, "error")
    assert (error["code"], error["client_msg_id"], error["retry_after"]) == ("overloaded", "v2", 2)
    assert await database_sync_to_async(Message.objects.filter(client_msg_id="v2").exists)() is False

    # when the process has caught up and the widget sends it again
    await asyncio.gather(*busy)
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "v2"})

    # then it is stored
    assert (await receive_until(widget, "ack"))["seq"] == 2
    await widget.disconnect()
