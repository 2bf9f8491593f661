"""The channel layer the live chat runs on: a burst is delivered whole, whatever its size."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.services

# channels_redis' core layer held at most CHANNEL_CAPACITY (1,000) undelivered events per process and
# dropped every further one without a word; a burst of this size went past it.
BURST = 1_500


async def test_a_burst_to_a_group_reaches_every_member_of_the_process_in_order():
    # given two consumers of one process in the same group
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(2)]
    for channel in channels:
        await layer.group_add("burst", channel)

    # when more events are sent than the old layer held before its consumers read any
    for n in range(BURST):
        await layer.group_send("burst", {"type": "chat.message", "n": n})

    # then each consumer reads every one of them, in order
    for channel in channels:
        received = [(await asyncio.wait_for(layer.receive(channel), timeout=10))["n"] for _ in range(BURST)]
        assert received == list(range(BURST))
    await layer.flush()
