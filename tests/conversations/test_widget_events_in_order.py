"""A widget's socket reads its frames and its chat's events from one queue: none lost, none reordered."""

from __future__ import annotations

import pytest
from django.conf import settings

from chatops.channel_layer import GroupPubSubChannelLayer
from conversations import events
from tests import factories
from tests.conversations.sockets import (
    ORIGIN,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    receive_until,
    visitor_socket,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

BURST = 200


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)


async def test_a_widget_gets_every_event_of_its_chat_in_order_while_it_pings(shop):
    # given a visitor in a chat
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hi", "client_msg_id": "c-1"})
    conversation = (await receive_until(widget, "conversation"))["conversation"]["id"]
    await receive_until(widget, "ack")
    there = GroupPubSubChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])

    # when another daphne process publishes a burst of the agent's messages while the widget pings
    for seq in range(2, BURST + 2):
        payload = {"conversation": conversation, "seq": seq, "sender": "agent", "body": f"m{seq}"}
        await there.group_send(events.conversation_group(conversation), {"type": "chat.message", "payload": payload})
        if seq % 40 == 0:
            await widget.send_json_to({"type": "ping"})

    # then the widget gets each message once and in order, and an answer to every ping
    frames = [await widget.receive_json_from(timeout=10) for _ in range(BURST + BURST // 40)]
    assert [frame["seq"] for frame in frames if frame["type"] == "message"] == list(range(2, BURST + 2))
    assert [frame["type"] for frame in frames].count("pong") == BURST // 40
    await widget.disconnect()
    await there.flush()
