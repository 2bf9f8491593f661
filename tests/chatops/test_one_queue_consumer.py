"""A consumer reads its WebSocket frames and its channel's events from one queue, in one task.

Channels runs a consumer as a loop over two reading tasks (frames, and the channel's events); with
chatops' channel layer the events join the frames in the server's queue instead (chatops/channel_layer.py,
conversations/inbox.py), which spares each idle widget a queue and two tasks. These tests hold it to
what Channels' way gave: every frame and every event, in order, nothing left running when it ends.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chatops.channel_layer import GroupPubSubChannelLayer
from conversations.inbox import OneQueueConsumer, frame_queue

pytestmark = pytest.mark.services

GROUP = "one-queue-test"
BURST = 300


class Recorder(OneQueueConsumer):
    """Answer each frame and each event with what it was, in the order it handled them."""

    async def connect(self) -> None:
        await self.accept()
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.send(text_data=json.dumps({"channel": self.channel_name}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=json.dumps({"frame": text_data}))

    async def note(self, event: dict) -> None:
        await self.send(text_data=json.dumps({"event": event["n"]}))

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)


async def connected_recorder() -> tuple[WebsocketCommunicator, str]:
    communicator = WebsocketCommunicator(Recorder.as_asgi(), "/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator, (await communicator.receive_json_from(timeout=5))["channel"]


def another_process_layer() -> GroupPubSubChannelLayer:
    return GroupPubSubChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


def running_tasks() -> set[asyncio.Task]:
    return {task for task in asyncio.all_tasks() if not task.done()}


async def test_frames_and_events_are_handled_in_the_order_they_arrived():
    # given a consumer on the chat's channel layer
    communicator, channel = await connected_recorder()
    layer = get_channel_layer()

    # when a frame, an event to its channel, and another frame arrive one after the other
    await communicator.send_to(text_data="first")
    await layer.send(channel, {"type": "note", "n": 2})
    await communicator.send_to(text_data="third")

    # then it handles them in that order
    answers = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    assert answers == [{"frame": "first"}, {"event": 2}, {"frame": "third"}]
    await communicator.disconnect()


async def test_a_burst_of_group_events_from_another_process_arrives_whole_and_in_order_between_frames():
    # given a consumer in a group, and another daphne process
    communicator, _channel = await connected_recorder()
    there = another_process_layer()

    # when the other process sends a burst to the group while the client sends frames
    for n in range(BURST):
        await there.group_send(GROUP, {"type": "note", "n": n})
        if n % 50 == 0:
            await communicator.send_to(text_data=f"frame {n}")

    # then every event arrives once, in order, and every frame is answered
    answers = [await communicator.receive_json_from(timeout=10) for _ in range(BURST + BURST // 50)]
    assert [answer["event"] for answer in answers if "event" in answer] == list(range(BURST))
    assert [answer["frame"] for answer in answers if "frame" in answer] == [f"frame {n}" for n in range(0, BURST, 50)]
    await communicator.disconnect()
    await there.flush()


async def test_a_connection_runs_in_one_task_and_leaves_neither_task_nor_channel_behind():
    # given the layer's own reader running already (a consumer of the process is in a group)
    first, _ = await connected_recorder()
    before = running_tasks()

    # when another consumer connects and handles an event
    communicator, channel = await connected_recorder()
    await get_channel_layer().send(channel, {"type": "note", "n": 1})
    assert await communicator.receive_json_from(timeout=5) == {"event": 1}

    # then it runs in one task, the one the server started for the connection
    assert len(running_tasks() - before) == 1
    # and once it has ended, neither a task nor its channel is left
    await communicator.disconnect()
    await asyncio.sleep(0.1)
    assert running_tasks() - before == set()
    assert channel not in get_channel_layer()._get_layer().channels
    await first.disconnect()


async def test_a_consumer_whose_run_is_cancelled_forgets_its_channel():
    # given a connected consumer
    communicator, channel = await connected_recorder()

    # when the server gives up on it (daphne cancels a connection slow to close)
    communicator.future.cancel()
    await asyncio.sleep(0.1)

    # then events for its channel go nowhere
    assert channel not in get_channel_layer()._get_layer().channels


async def test_with_another_servers_receive_the_consumer_runs_as_channels_runs_it():
    # given a server whose receive is not an asyncio.Queue's get
    inbox, outbox = asyncio.Queue(), asyncio.Queue()

    async def receive() -> dict:
        return await inbox.get()

    assert frame_queue(receive) is None
    scope = {"type": "websocket", "path": "/", "headers": [], "subprotocols": []}
    run = asyncio.ensure_future(Recorder.as_asgi()(scope, receive, outbox.put))

    # when it connects, sends a frame and gets an event
    inbox.put_nowait({"type": "websocket.connect"})
    assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "websocket.accept"
    channel = json.loads((await asyncio.wait_for(outbox.get(), 5))["text"])["channel"]
    inbox.put_nowait({"type": "websocket.receive", "text": "hello"})
    assert json.loads((await asyncio.wait_for(outbox.get(), 5))["text"]) == {"frame": "hello"}
    await get_channel_layer().send(channel, {"type": "note", "n": 5})

    # then it handles both, and ends on a disconnect
    assert json.loads((await asyncio.wait_for(outbox.get(), 5))["text"]) == {"event": 5}
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(run, 5)


def test_the_queue_behind_a_receive_is_found_only_when_receive_is_its_get():
    queue = asyncio.Queue()

    assert frame_queue(queue.get) is queue
    assert frame_queue(queue.put) is None
    assert frame_queue(lambda: None) is None
