"""One queue, one task per WebSocket connection: its frames and its channel's events in arrival order.

Channels runs a consumer as a loop over two reading tasks, one on the server's queue of frames and one
on the channel layer's queue of the consumer's channel. chatops' Redis layer (chatops/channel_layer.py)
can instead hand a channel's events to a queue it is given (``new_channel_into``); given the server's
own queue of frames, a consumer reads both in its one task. An idle widget then has no queue and no
task of its own beside the server's (docs/performance.md, "Where an idle widget's memory goes").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer


def frame_queue(receive: Callable) -> asyncio.Queue | None:
    """Return the asyncio.Queue whose ``get`` the server's ``receive`` is, or None.

    daphne hands each connection's frames to the application through such a queue, and so does
    asgiref's communicator in tests; another server's receive is something else.
    """
    queue = getattr(receive, "__self__", None)
    return queue if isinstance(queue, asyncio.Queue) and receive == queue.get else None


class OneQueueConsumer(AsyncWebsocketConsumer):
    """A WebSocket consumer that reads its frames and its channel's events from one queue, in one task.

    With a server that hands frames from an asyncio.Queue and a layer that can put a channel's events
    into it (this module's), events join the frames in the server's queue, in the order they came;
    otherwise the consumer runs as Channels runs it. Either way it ends on StopConsumer (a disconnect)
    and its channel is forgotten when it ends.
    """

    # Whether ``arrived`` sees each frame as the server hands it over, before the frames ahead of it are handled.
    sees_arrivals = False

    def arrived(self, message: dict) -> None:
        """See a frame the moment it arrives (only with ``sees_arrivals``); it is dispatched in its turn later."""

    def watch_arrivals(self, queue: asyncio.Queue) -> None:
        # The server puts each frame with the queue's put_nowait, looked up at every frame; the layer was
        # given the method itself, so events go straight in.
        put = queue.put_nowait

        def arrive(message: dict) -> None:
            self.arrived(message)
            put(message)

        queue.put_nowait = arrive

    async def __call__(self, scope, receive, send) -> None:
        queue = frame_queue(receive)
        layer = get_channel_layer(self.channel_layer_alias)
        if queue is None or not hasattr(layer, "new_channel_into"):
            await super().__call__(scope, receive, send)
            return
        self.scope, self.channel_layer, self.base_send = scope, layer, send
        self.channel_name = await layer.new_channel_into(queue.put_nowait)
        if self.sees_arrivals:
            self.watch_arrivals(queue)
        try:
            while True:
                await self.dispatch(await queue.get())
        except StopConsumer:
            pass
        finally:
            layer.forget_channel(self.channel_name)
