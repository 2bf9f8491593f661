"""The channel layer the live chat runs on: a burst is delivered whole, whatever its size."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio
from channels.layers import get_channel_layer
from django.conf import settings

from chatops.channel_layer import GroupPubSubChannelLayer

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


def another_process_layer() -> GroupPubSubChannelLayer:
    """Return a layer of its own on the same Redis, as another daphne process has."""
    return GroupPubSubChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


async def test_a_group_send_from_another_process_reaches_the_groups_members():
    # given a consumer of this process in a conversation's group, and another process
    here, there = get_channel_layer(), another_process_layer()
    channel = await here.new_channel()
    await here.group_add("conversation.7", channel)

    # when the other process sends to the group
    await there.group_send("conversation.7", {"type": "chat.message", "seq": 1})

    # then the consumer here gets it
    assert (await asyncio.wait_for(here.receive(channel), timeout=5))["seq"] == 1
    await here.flush()
    await there.flush()


async def test_a_connection_costs_redis_a_subscription_per_group_and_none_of_its_own():
    # given a thousand consumers of one process, all in one group
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(1000)]
    for channel in channels:
        await layer.group_add("tenant.1.queue", channel)

    # then Redis knows of one subscription of the process: the group's (among the layer's channels; other
    # pytest-xdist workers subscribe on the same server under prefixes of their own, tests/parallel.py)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    subscribed = {name.decode() for name in await client.pubsub_channels(f"{prefix}*")}
    await client.aclose()
    assert subscribed == {f"{prefix}__group__tenant.1.queue"}
    await layer.flush()
