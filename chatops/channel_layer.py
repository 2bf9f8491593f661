"""The Redis channel layer: pub/sub for groups, each consumer's own channel in its own process only.

channels_redis' pub/sub layer subscribes every consumer's channel in Redis (a SUBSCRIBE when the
connection opens, an UNSUBSCRIBE when it ends), each through the one lock that also guards publishing.
Two thousand widgets reconnecting after a restart then queue behind each other's subscriptions, and
the messages published meanwhile queue behind them. chatops never sends to a consumer's own channel
from elsewhere: every event goes to a group (a conversation, a tenant's queue, an agent). So here a
consumer's channel is a queue in its process and nothing more, and Redis sees one subscription per
group a process has members in. docs/performance.md says why this layer and not another.
"""

from __future__ import annotations

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _wrap_close


class _LoopLayer(RedisPubSubLoopLayer):
    """The layer of one event loop: consumers' channels are local queues, groups are Redis channels."""

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels.setdefault(channel, asyncio.Queue())

    async def send(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            # Not a channel of this process: only Redis could reach it (the base layer's way).
            await super().send(channel, message)
            return
        queue.put_nowait(self.channel_layer.serialize(message))

    async def receive(self, channel: str) -> dict:
        queue = self.channels.setdefault(channel, asyncio.Queue())
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
