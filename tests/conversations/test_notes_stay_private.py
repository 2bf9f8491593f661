"""Private notes and tags are for the team: they never reach the visitor's widget, live or on reconnect."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from conversations.models import Conversation, Message
from tests import factories
from tests.conversations.test_consumers import (  # noqa: F401 (the fixture closes the consumers' connections)
    ORIGIN,
    close_consumer_thread_connections,
    hello,
    ready_agent,
    receive_until,
    visitor_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Visitor sounds angry; offer the 10 % voucher only if asked twice"


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)


def post_as(agent, url: str, data: dict) -> int:
    client = Client()
    client.force_login(agent.user)
    return client.post(url, json.dumps(data), content_type="application/json").status_code


def post_reply(conversation: Conversation, agent, body: str) -> None:
    from conversations import services

    services.post_agent_message(conversation=conversation, agent=agent, body=body, client_msg_id="a-after-note")


async def test_a_note_and_tags_never_reach_the_visitors_widget_but_the_next_reply_does(shop):
    # given a visitor chatting with an agent
    agent = await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)
    token = (await hello(widget))["token"]
    await widget.send_json_to({"type": "message", "body": "Where is my order?", "client_msg_id": "v1"})
    await receive_until(widget, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=shop)

    # when the agent writes a private note and tags the chat, then replies
    note_url = reverse("console_api_chat_notes", args=[conversation.pk])
    tags_url = reverse("console_api_chat_tags", args=[conversation.pk])
    assert await database_sync_to_async(post_as)(agent, note_url, {"body": SECRET}) == 201
    assert await database_sync_to_async(post_as)(agent, tags_url, {"tags": ["angry-customer"]}) == 200
    await database_sync_to_async(post_reply)(conversation, agent, "Let me check that for you.")

    # then the widget's next message frame is the reply: nothing about the note or tags came before it
    frames = []
    while not (frames and frames[-1]["type"] == "message" and frames[-1]["sender"] == "agent"):
        frames.append(await widget.receive_json_from(timeout=5))
    assert frames[-1]["body"] == "Let me check that for you."
    received = json.dumps(frames)
    assert SECRET not in received and "angry-customer" not in received
    await widget.disconnect()

    # and a reconnecting widget gets the whole conversation without the note
    widget = await visitor_socket(shop)
    welcome = await hello(widget, token=token, last_seq=0)
    assert [(m["sender"], m["body"]) for m in welcome["messages"]] == [
        ("visitor", "Where is my order?"),
        ("agent", "Let me check that for you."),
    ]
    assert SECRET not in json.dumps(welcome)
    assert not await database_sync_to_async(Message.objects.filter(body__contains="voucher").exists)()
    await widget.disconnect()
