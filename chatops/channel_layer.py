"""The Redis channel layer: pub/sub for groups, each consumer's own channel in its own process only.

channels_redis' pub/sub layer subscribes every consumer's channel in Redis (a SUBSCRIBE when the
connection opens, an UNSUBSCRIBE when it ends), each through the one lock that also guards publishing.
Two thousand widgets reconnecting after a restart then queue behind each other's subscriptions, and
the messages published meanwhile queue behind them. chatops never sends to a consumer's own channel
from elsewhere: every event goes to a group (a conversation, a tenant's queue, an agent). So here a
consumer's channel is a queue in its process and nothing more, and Redis sees one subscription per
group a process has members in. docs/performance.md says why this layer and not another.

A consumer may also give the layer the queue its WebSocket frames arrive in (``new_channel_into``):
its events then go into that queue, and one task reads frames and events in the order they came
(``conversations.inbox.OneQueueConsumer``). Channels runs a consumer as a loop waiting on two reading tasks, one on the
server's queue of frames and one on the layer's queue of the consumer's channel; that second queue,
the two tasks and the waiting cost an idle widget about 7 KiB, a fifth of its connection.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _wrap_close


class _Inbox:
    """A consumer's channel that puts each event, read back into a dict, where its frames arrive."""

    __slots__ = ("deserialize", "put")

    def __init__(self, put: Callable[[dict], None], deserialize: Callable[[bytes], dict]) -> None:
        self.put, self.deserialize = put, deserialize

    def put_nowait(self, data: bytes) -> None:
        # The base layer's reader hands every local member of a group the event this way.
        self.put(self.deserialize(data))


class _LoopLayer(RedisPubSubLoopLayer):
    """The layer of one event loop: consumers' channels are local queues, groups are Redis channels."""

    async def _subscribe_to_channel(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels[channel] = asyncio.Queue()

    async def new_channel_into(self, put: Callable[[dict], None], prefix: str = "specific.") -> str:
        """Return a new channel of this process whose events are handed to ``put`` (see the module)."""
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = _Inbox(put, self.channel_layer.deserialize)
        return channel

    def forget_channel(self, channel: str) -> None:
        """Stop delivering to a channel made by ``new_channel_into`` (its consumer has ended)."""
        self.channels.pop(channel, None)

    async def send(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            # Not a channel of this process: only Redis could reach it (the base layer's way).
            await super().send(channel, message)
            return
        queue.put_nowait(self.channel_layer.serialize(message))

    async def receive(self, channel: str) -> dict:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue()
        try:
            message = await queue.get()
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            # The consumer is ending (Channels cancels its read): forget its queue.
            self.channels.pop(channel, None)
            raise
        return self.channel_layer.deserialize(message)


class GroupPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis' pub/sub layer whose consumers' own channels never touch Redis (see the module)."""

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            # As the base class does: the loop's connections are closed with the loop.
            _wrap_close(self, loop)
        return layer

    async def new_channel_into(self, put: Callable[[dict], None]) -> str:
        """Return a new channel whose events are handed to ``put`` instead of waiting for ``receive``."""
        return await self._get_layer().new_channel_into(put)

    def forget_channel(self, channel: str) -> None:
        """Stop delivering to a channel made by ``new_channel_into``."""
        self._get_layer().forget_channel(channel)
