"""Pings wait, messages do not: a ping's check waits until no message's call does (conversations/threads.py),
a widget records its presence only as often as the clock needs, events go out from the event loop, and the
rate limit costs one round trip to Redis."""

from __future__ import annotations

import asyncio
import time

import channels.generic.websocket as channels_websocket
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.utils import timezone
from redis.connection import Connection as RedisConnection

from conversations import consumers, events, limits, threads
from conversations.models import Conversation
from tests.conversations.sockets import (
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    keep_every_database_thread_busy,
    receive_until,
    visitor_socket,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

SLOW_CHECK_SECONDS = 0.6  # well within the pings' patience (threads.LATER_PATIENCE)


async def widget_in_a_chat(tenant, n: int):
    """Return a widget that has started a chat with one message, and that chat's id."""
    widget = await visitor_socket(tenant)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": f"Hello from {n}", "client_msg_id": f"w{n}"})
    ack = await receive_until(widget, "ack")
    conversation = await database_sync_to_async(
        Conversation.objects.unscoped().filter(messages__client_msg_id=f"w{n}").values_list("pk", flat=True).get
    )()
    assert ack["seq"] == 1
    return widget, conversation


async def test_a_herd_of_slow_pings_neither_holds_up_a_message_behind_it_nor_makes_the_process_overloaded(
    shop, settings, monkeypatch
):
    # given widgets in chats whose pings' checks take 0.6 s each, more of them than the process has
    # database threads, and one more widget in a chat
    settings.CHAT_OVERLOAD_WAIT_MS = 200
    pool = settings.CHAT_DATABASE_THREADS
    pingers = [await widget_in_a_chat(shop, n) for n in range(pool + 6)]
    writer, _conversation = await widget_in_a_chat(shop, 99)
    check = consumers.VisitorConsumer._catch_up_on_ping

    def slow_check(self):
        time.sleep(SLOW_CHECK_SECONDS)
        return check(self)

    monkeypatch.setattr(consumers.VisitorConsumer, "_catch_up_on_ping", slow_check)

    # when they all ping at once, and the last widget writes while the first checks run and the rest wait
    started = time.monotonic()
    for widget, _ in pingers:
        await widget.send_json_to({"type": "ping"})
    await asyncio.sleep(0.2)
    await writer.send_json_to({"type": "message", "body": "Anyone?", "client_msg_id": "w99-2"})

    # then the message is not answered "overloaded": it is stored as soon as a thread is free, before
    # the pings that were waiting (it waits for one check at most, not for all of them)
    answer = await writer.receive_json_from(timeout=10)
    assert (answer["type"], answer.get("seq")) == ("ack", 2)
    acked_after = time.monotonic() - started
    assert acked_after < 1.5 * SLOW_CHECK_SECONDS

    # and every ping is still answered, the last ones after the message
    pongs_after = []
    for widget, conversation in pingers:
        pong = await receive_until(widget, "pong", timeout=15)
        pongs_after.append(time.monotonic() - started)
        assert pong["conversation"]["id"] == conversation
        await widget.disconnect()
    assert max(pongs_after) > acked_after
    await writer.disconnect()


async def test_a_message_refused_as_overloaded_is_taken_when_it_comes_again_on_the_same_socket(shop, settings):
    # given a widget in a chat, and a process whose every database thread is busy while more calls wait
    settings.CHAT_OVERLOAD_WAIT_MS = 200
    widget, _conversation = await widget_in_a_chat(shop, 1)
    busy = keep_every_database_thread_busy(settings, 2.0)
    await asyncio.sleep(0.4)
    assert threads.database_wait() >= 0.2

    # when the visitor writes two messages, both are refused, and it sends the first again while the process
    # is still busy
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "again"})
    await widget.send_json_to({"type": "message", "body": "Hurry!", "client_msg_id": "another"})
    first, second = await receive_until(widget, "error"), await receive_until(widget, "error")
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "again"})

    # then both first tries were refused, and the second try is taken (once a thread is free)
    assert [(first["code"], first["client_msg_id"]), (second["code"], second["client_msg_id"])] == [
        ("overloaded", "again"),
        ("overloaded", "another"),
    ]
    ack = await receive_until(widget, "ack")
    assert (ack["client_msg_id"], ack["seq"]) == ("again", 2)
    await asyncio.gather(*busy)
    await widget.disconnect()


async def seen(conversation_id: int) -> Conversation:
    return await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)


async def set_presence(conversation_id: int, **values) -> None:
    await database_sync_to_async(Conversation.objects.unscoped().filter(pk=conversation_id).update)(**values)


async def test_a_widget_ping_records_the_visitor_at_most_every_touch_interval_and_at_once_when_counted_gone(
    shop, settings
):
    # given a widget in a chat, its presence last recorded long ago (a day: far past any interval)
    settings.CHAT_VISITOR_TOUCH_EVERY = 60
    widget, conversation = await widget_in_a_chat(shop, 1)
    long_ago = timezone.now() - timezone.timedelta(days=1)
    await set_presence(conversation, visitor_seen_at=long_ago)

    # when it pings within the interval since it arrived
    await widget.send_json_to({"type": "ping"})
    await receive_until(widget, "pong")

    # then nothing is written
    assert (await seen(conversation)).visitor_seen_at == long_ago

    # when the interval has passed (set to none) and it pings
    settings.CHAT_VISITOR_TOUCH_EVERY = 0
    await widget.send_json_to({"type": "ping"})
    await receive_until(widget, "pong")

    # then the ping records it
    assert (await seen(conversation)).visitor_seen_at > long_ago

    # when the clock has counted its socket gone and it pings within the interval again
    settings.CHAT_VISITOR_TOUCH_EVERY = 60
    await set_presence(conversation, visitor_sockets=0, visitor_left_at=long_ago, visitor_seen_at=long_ago)
    await widget.send_json_to({"type": "ping"})
    await receive_until(widget, "pong")

    # then the ping counts it back at once
    back = await seen(conversation)
    assert (back.visitor_sockets, back.visitor_left_at) == (1, None)
    assert back.visitor_seen_at > long_ago
    await widget.disconnect()


async def test_events_committed_on_a_worker_thread_are_sent_from_the_event_loop_in_order_even_when_the_work_fails(
    monkeypatch,
):
    # given a listener on a group, and a thread that may not send events itself
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("lane.test", channel)

    def no_sending_from_threads(*args, **kwargs):
        raise AssertionError("a worker thread sent an event itself")

    monkeypatch.setattr(events, "async_to_sync", no_sending_from_threads)

    def publish_twice_then_fail():
        events.publish_on_commit("lane.test", "chat.first", {"n": 1})
        events.publish_on_commit("lane.test", "chat.second", {"n": 2})
        raise ValueError("the work failed after committing")

    # when the work runs on each lane and fails after publishing
    for lane in (threads.database_sync_to_async, threads.background_sync_to_async):
        with pytest.raises(ValueError, match="failed after committing"):
            await lane(publish_twice_then_fail)()

        # then both events arrived, in order, and the failure still reached the caller
        first = await asyncio.wait_for(layer.receive(channel), 5)
        second = await asyncio.wait_for(layer.receive(channel), 5)
        assert [first["type"], second["type"]] == ["chat.first", "chat.second"]
    await layer.group_discard("lane.test", channel)


def test_the_message_rate_is_counted_in_one_round_trip_and_its_window_starts_with_the_first_message(
    settings, monkeypatch
):
    # given Redis as the cache (REDIS_URL), and a count of what is written to Redis
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    writes = []
    send = RedisConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        writes.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(RedisConnection, "send_packed_command", counted)
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 3

    # when a visitor's first message is counted
    limits.check_message_rate(visitor_id=4242)

    # then that took one round trip, the count reads through Django's cache, and the window is a minute
    assert len(writes) == 1
    key = limits._message_counter(4242)
    assert cache.get(key) == 1
    redis = limits._redis(settings.CACHES["default"]["LOCATION"])
    assert 55 <= redis.ttl(cache.make_and_validate_key(key)) <= limits.MESSAGE_WINDOW_SECONDS

    # when two more are counted and a fourth comes within the minute
    limits.check_message_rate(visitor_id=4242)
    limits.check_message_rate(visitor_id=4242)

    # then the fourth is refused and not counted; taking one back makes room again
    with pytest.raises(limits.ValidationError):
        limits.check_message_rate(visitor_id=4242)
    assert cache.get(key) == 3
    limits.uncount_message(visitor_id=4242)
    limits.check_message_rate(visitor_id=4242)
    assert cache.get(key) == 3
    cache.delete(key)


def test_a_window_that_lost_its_expiry_gets_one_again(settings):
    # given a counter left without an expiry (as an INCR whose EXPIRE never ran would leave it)
    key = limits._message_counter(4343)
    full_key = cache.make_and_validate_key(key)
    client = limits._redis(settings.CACHES["default"]["LOCATION"])
    client.set(full_key, 1)
    assert client.ttl(full_key) == -1

    # when the next message is counted
    limits.check_message_rate(visitor_id=4343)

    # then the window ends within the minute
    assert 0 < client.ttl(full_key) <= limits.MESSAGE_WINDOW_SECONDS
    client.delete(full_key)


async def test_a_closing_widget_does_not_queue_on_channels_single_shared_thread(shop, monkeypatch):
    # given a widget in a chat, and a count of Channels' hops to its one shared thread on disconnecting
    hops = []

    async def counted_hop():
        hops.append(1)

    monkeypatch.setattr(channels_websocket, "aclose_old_connections", counted_hop)
    widget, conversation = await widget_in_a_chat(shop, 1)

    # when the tab closes
    await widget.disconnect()

    # then it made no such hop, and the visitor counts as gone from the chat
    assert hops == []
    left = await seen(conversation)
    assert (left.visitor_sockets, left.visitor_left_at is not None) == (0, True)


async def test_a_flood_of_first_lane_calls_delays_a_pings_check_by_about_a_second_not_for_good(settings):
    # given every database thread busy with first-lane calls, and four seconds more of them queued
    rounds = 20
    flood = [
        asyncio.ensure_future(threads.database_sync_to_async(time.sleep)(0.2))
        for _ in range(settings.CHAT_DATABASE_THREADS * rounds)
    ]
    await asyncio.sleep(0.1)

    # when a ping's check comes
    started = time.monotonic()
    await threads.background_sync_to_async(lambda: None)()

    # then it ran once it had waited its patience, while most of the flood still waited
    waited = time.monotonic() - started
    assert threads.LATER_PATIENCE <= waited < threads.LATER_PATIENCE + 1.0
    assert sum(not call.done() for call in flood) > len(flood) / 2
    await asyncio.gather(*flood)
