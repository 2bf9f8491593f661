"""Presence is a live socket: an agent's console that pings, a visitor's widget that follows the chat."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from conversations import consumers
from conversations.models import Conversation
from tests.conversations.sockets import (
    agent_socket,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    frames_until,
    hello,
    ready_agent,
    receive_until,
    visitor_socket,
)
from workforce.models import Agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


CONSUMERS_FILE = str(Path(consumers.__file__).resolve())


def tasks_of_the_consumers() -> set[asyncio.Task]:
    """Return the running tasks whose coroutine is code of conversations/consumers.py."""
    return {
        task
        for task in asyncio.all_tasks()
        if not task.done()
        and getattr(task.get_coro(), "cr_code", None) is not None
        and str(Path(task.get_coro().cr_code.co_filename).resolve()) == CONSUMERS_FILE
    }


def last_seen(agent: Agent) -> dt.datetime | None:
    return Agent.objects.get(pk=agent.pk).last_seen_at


async def test_a_console_whose_run_ends_without_a_disconnect_leaves_no_task_behind(shop):
    # given a console connected (what it started runs beside it)
    agent = await database_sync_to_async(ready_agent)(shop)
    before = tasks_of_the_consumers()
    console = await agent_socket(agent)
    assert tasks_of_the_consumers() - before

    # when its run ends other than through a disconnect, as when daphne gives up on a slow close
    console.future.cancel()
    await asyncio.sleep(0.5)

    # then nothing it started is still running, so nothing keeps its agent looking alive
    assert tasks_of_the_consumers() - before == set()


@pytest.fixture
def quick_watch(settings):
    """Probe a silent console after 0.6 s and close it after 1.5 s, instead of 20 and 30."""
    settings.CHAT_CONSOLE_PROBE_AFTER = 0.6
    settings.CHAT_CONSOLE_CLOSE_AFTER = 1.5
    settings.CHAT_CONSOLE_WATCH_EVERY = 0.1


async def test_a_console_that_stops_answering_is_probed_then_closed(shop, quick_watch):
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)

    # when the console says nothing, first it is asked to answer, then its socket is closed
    assert (await receive_until(console, "probe", timeout=5)) == {"type": "probe", "mark": 1}
    closing = await console.receive_output(timeout=5)
    assert (closing["type"], closing["code"]) == ("websocket.close", consumers.CLOSE_SILENT)


async def test_a_console_busy_with_other_frames_but_not_pinging_is_closed_all_the_same(shop, quick_watch):
    # given a console that keeps asking for its state but never pings (its agent's presence rests on pings)
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)

    # when it goes on like that past the probe and the close
    frames = []
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        await console.send_json_to({"type": "hello"})
        output = await console.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        frames.append(output)

    # then it was asked to ping, and then closed
    assert any('"type": "probe"' in frame.get("text", "") for frame in frames)
    assert (output["type"], output["code"]) == ("websocket.close", consumers.CLOSE_SILENT)


async def test_a_console_that_pings_but_reads_nothing_is_probed_then_closed(shop, quick_watch):
    # given a console whose pings name no mark past the first pong's: it reads nothing the server sends
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    await console.send_json_to({"type": "ping", "mark": 0})
    assert (await receive_until(console, "pong"))["mark"] == 1

    # when it keeps pinging like that past the probe and the close
    frames = []
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        await console.send_json_to({"type": "ping", "mark": 0})
        output = await console.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        frames.append(json.loads(output["text"]))

    # then it was probed, and closed as a silent console is, although it pinged all along
    assert any(frame["type"] == "probe" for frame in frames)
    assert (output["type"], output["code"]) == ("websocket.close", consumers.CLOSE_SILENT)


async def test_a_console_that_names_the_marks_it_read_stays_open(shop, quick_watch):
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)

    # when the console pings often, each ping naming the last mark it read, for longer than a deaf one lasts
    mark = 0
    deadline = asyncio.get_running_loop().time() + 3
    while asyncio.get_running_loop().time() < deadline:
        await console.send_json_to({"type": "ping", "mark": mark})
        mark = (await receive_until(console, "pong"))["mark"]
        await asyncio.sleep(0.2)

    # then it is still open and answered
    await console.send_json_to({"type": "ping", "mark": mark})
    assert (await receive_until(console, "pong"))["type"] == "pong"
    await console.disconnect()


async def test_a_console_that_answers_the_probe_stays_open(shop, quick_watch):
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)

    # when the console answers each probe with a ping for longer than a silent one would last
    deadline = asyncio.get_running_loop().time() + 3
    while asyncio.get_running_loop().time() < deadline:
        frame = await console.receive_json_from(timeout=5)
        if frame["type"] == "probe":
            await console.send_json_to({"type": "ping"})

    # then it is still open and answered
    await console.send_json_to({"type": "ping"})
    assert (await receive_until(console, "pong"))["type"] == "pong"
    await console.disconnect()


async def test_a_ping_records_the_console_as_alive_at_most_every_few_seconds(shop, settings):
    # given a console whose agent was last seen 25 s ago
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    long_ago = timezone.now() - dt.timedelta(seconds=25)
    await database_sync_to_async(Agent.objects.filter(pk=agent.pk).update)(last_seen_at=long_ago)

    # when it pings twice, the second time right after the first
    settings.CHAT_CONSOLE_TOUCH_EVERY = 0.0
    await console.send_json_to({"type": "ping"})
    await receive_until(console, "pong")
    first = await database_sync_to_async(last_seen)(agent)
    settings.CHAT_CONSOLE_TOUCH_EVERY = 60.0
    await console.send_json_to({"type": "ping"})
    await receive_until(console, "pong")

    # then the first ping recorded it alive now, and the second wrote nothing
    assert first > long_ago + dt.timedelta(seconds=20)
    assert await database_sync_to_async(last_seen)(agent) == first
    await console.disconnect()


async def visitor_in_chat(tenant, token=""):
    widget = await visitor_socket(tenant)
    token = (await hello(widget, token=token))["token"]
    return widget, token


async def test_the_console_hears_the_visitor_leave_when_their_last_widget_closes(shop):
    # given a visitor with the chat open in two tabs, and the agent's console following it
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    first_tab, token = await visitor_in_chat(shop)
    await first_tab.send_json_to({"type": "message", "body": "Hi", "client_msg_id": "v1"})
    await receive_until(first_tab, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=shop)
    second_tab, _token = await visitor_in_chat(shop, token=token)
    await console.send_json_to({"type": "open", "conversation": conversation.pk, "last_seq": 0})
    assert (await receive_until(console, "history"))["conversation"]["visitor_present"] is True

    # when one tab closes, the visitor is still there
    await first_tab.disconnect()
    await asyncio.sleep(0.5)
    await second_tab.send_json_to({"type": "typing", "active": True})
    frames = await frames_until(console, lambda frame: frame["type"] == "typing")
    assert [frame for frame in frames if frame["type"] == "visitor"] == []

    # when the last one closes, the console hears at once that the visitor has left
    await second_tab.disconnect()
    left = await receive_until(console, "visitor")
    assert left == {"type": "visitor", "conversation": conversation.pk, "visitor_present": False}
    stored = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation.pk)
    assert stored.visitor_sockets == 0 and stored.visitor_left_at is not None

    # when the visitor comes back, the console hears that too
    back, _token = await visitor_in_chat(shop, token=token)
    assert (await receive_until(console, "visitor"))["visitor_present"] is True
    await back.disconnect()
    await console.disconnect()
