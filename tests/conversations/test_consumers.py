"""The widget and console consumers over the real channel layer: nothing lost, doubled or leaked."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from chatops.asgi import application
from conversations.models import Conversation, Message
from tests import factories
from tests.conversations.sockets import (
    ORIGIN,
    agent_socket,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    ready_agent,
    receive_until,
    session_cookie,
    visitor_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)


@pytest.fixture
def gym(db):
    return factories.make_tenant(name="Gym", slug="gym", allowed_origins="https://gym.example")


async def test_an_unknown_widget_key_is_refused_with_a_clear_error(shop):
    communicator = await visitor_socket(shop, key="wk_nope")

    frame = await communicator.receive_json_from()

    assert (frame["type"], frame["code"]) == ("error", "unknown_key")
    assert (await communicator.receive_output())["type"] == "websocket.close"


async def test_a_page_on_another_site_is_refused(shop):
    communicator = await visitor_socket(shop, origin="https://evil.example")

    frame = await communicator.receive_json_from()

    assert frame["code"] == "origin_not_allowed"
    assert (await communicator.receive_output())["type"] == "websocket.close"


async def test_a_visitor_must_say_hello_first_and_malformed_frames_get_coded_errors(shop):
    communicator = await visitor_socket(shop)

    await communicator.send_json_to({"type": "message", "body": "hi"})
    assert (await communicator.receive_json_from())["code"] == "hello_first"
    await communicator.send_to(text_data="not json")
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await hello(communicator)
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await communicator.send_json_to({"type": "ack", "seq": "three"})
    assert (await communicator.receive_json_from())["code"] == "bad_field"
    await communicator.disconnect()


async def test_a_visitor_message_is_stored_then_reaches_the_assigned_agent(shop):
    # given an agent on duty with the console open
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    widget = await visitor_socket(shop)
    welcome = await hello(widget)
    assert welcome["type"] == "welcome" and welcome["token"] and welcome["conversation"] is None

    # when the visitor writes
    await widget.send_json_to({"type": "message", "body": "Hei! <b>Toimitus?</b>", "client_msg_id": "m1"})

    # then the widget learns its conversation and gets the ack with the stored sequence
    started = await receive_until(widget, "conversation")
    assert started["conversation"]["agent_name"] == "Anna"
    ack = await receive_until(widget, "ack")
    assert (ack["client_msg_id"], ack["seq"]) == ("m1", 1)
    stored = await database_sync_to_async(Message.objects.unscoped().get)(client_msg_id="m1")
    assert stored.body == "Hei! <b>Toimitus?</b>"
    # and the agent is told of the assignment, and reads the message on opening the chat
    assigned = await receive_until(console, "assigned")
    assert assigned["conversation"] == stored.conversation_id
    await console.send_json_to({"type": "open", "conversation": stored.conversation_id, "last_seq": 0})
    history = await receive_until(console, "history")
    assert [(m["seq"], m["body"]) for m in history["messages"]] == [(1, "Hei! <b>Toimitus?</b>")]

    # when the agent answers
    await console.send_json_to(
        {"type": "message", "conversation": stored.conversation_id, "body": "Hei!", "client_msg_id": "a1"}
    )

    # then the visitor receives it with the agent's name
    reply = await receive_until(widget, "message")
    while reply["sender"] != "agent":
        reply = await receive_until(widget, "message")
    assert (reply["seq"], reply["agent_name"], reply["body"]) == (2, "Anna", "Hei!")

    # and the visitor's next message reaches the console live, through the chat's group
    await widget.send_json_to({"type": "message", "body": "Kiitos!", "client_msg_id": "m2"})
    live = await receive_until(console, "message")
    while live["sender"] != "visitor":
        live = await receive_until(console, "message")
    assert (live["seq"], live["body"]) == (3, "Kiitos!")
    await widget.disconnect()
    await console.disconnect()


async def test_a_reconnecting_visitor_gets_exactly_what_was_missed(shop):
    # given a conversation with two visitor messages seen by the widget
    agent = await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)
    token = (await hello(widget))["token"]
    for n in (1, 2):
        await widget.send_json_to({"type": "message", "body": f"q{n}", "client_msg_id": f"v{n}"})
        await receive_until(widget, "ack")
    await widget.disconnect()
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(visitor__tenant=shop)

    # when the agent answers twice while the visitor is away
    console = await agent_socket(agent)
    for n in (1, 2):
        await console.send_json_to(
            {"type": "message", "conversation": conversation.pk, "body": f"a{n}", "client_msg_id": f"a{n}"}
        )
        await receive_until(console, "ack")

    # then the reconnecting widget (same token, last seen seq 2) gets 3 and 4, nothing else
    widget = await visitor_socket(shop)
    welcome = await hello(widget, token=token, last_seq=2)
    assert welcome["conversation"]["id"] == conversation.pk
    assert [(m["seq"], m["body"]) for m in welcome["messages"]] == [(3, "a1"), (4, "a2")]
    await widget.disconnect()
    await console.disconnect()


async def test_a_resent_message_is_stored_once_and_acknowledged_with_the_same_sequence(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    acks = []
    for _ in range(2):
        await widget.send_json_to({"type": "message", "body": "Once", "client_msg_id": "same-id"})
        acks.append(await receive_until(widget, "ack"))

    assert acks[0]["seq"] == acks[1]["seq"] == 1
    assert await database_sync_to_async(Message.objects.filter(client_msg_id="same-id").count)() == 1
    await widget.disconnect()


async def test_limits_answer_with_clear_errors(shop, settings):
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 5
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_json_to({"type": "message", "body": "x" * 4001, "client_msg_id": "long"})
    assert (await receive_until(widget, "error"))["code"] == "too_long"

    for n in range(settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE):
        await widget.send_json_to({"type": "message", "body": f"m{n}", "client_msg_id": f"id{n}"})
        await receive_until(widget, "ack")
    await widget.send_json_to({"type": "message", "body": "one too many", "client_msg_id": "over"})
    error = await receive_until(widget, "error")
    assert (error["code"], error["ref"], error["client_msg_id"]) == ("rate_limited", "message", "over")
    assert (
        await database_sync_to_async(Message.objects.unscoped().count)()
        == settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE
    )
    await widget.disconnect()


async def test_a_token_from_another_tenant_or_a_forged_one_does_not_reach_its_conversation(shop, gym):
    # given a visitor with a conversation at the gym
    gym_widget = await visitor_socket(gym, origin="https://gym.example")
    gym_token = (await hello(gym_widget))["token"]
    await gym_widget.send_json_to({"type": "message", "body": "secret", "client_msg_id": "g1"})
    await receive_until(gym_widget, "ack")
    await gym_widget.disconnect()

    # when that token, or a tampered copy, is presented on the shop's widget
    for token in (gym_token, gym_token[:-2] + "xx"):
        shop_widget = await visitor_socket(shop)
        welcome = await hello(shop_widget, token=token)

        # then the shop sees a new visitor with no conversation and none of the gym's messages
        assert welcome["token"] != gym_token
        assert welcome["conversation"] is None and welcome["messages"] == []
        await shop_widget.disconnect()


async def test_an_agent_not_trained_for_a_tenant_cannot_open_its_chat(shop, gym):
    # given a chat at the gym and an agent trained only for the shop
    gym_widget = await visitor_socket(gym, origin="https://gym.example")
    await hello(gym_widget)
    await gym_widget.send_json_to({"type": "message", "body": "hello gym", "client_msg_id": "g1"})
    await receive_until(gym_widget, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=gym)
    shop_agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(shop_agent)

    # when the agent tries to open, answer or close it
    for frame in (
        {"type": "open", "conversation": conversation.pk},
        {"type": "message", "conversation": conversation.pk, "body": "hi", "client_msg_id": "x"},
        {"type": "close", "conversation": conversation.pk},
    ):
        await console.send_json_to(frame)

        # then the answer is the same as for a chat that does not exist
        error = await receive_until(console, "error")
        assert error["code"] == "not_found"
    assert await database_sync_to_async(Message.objects.filter(tenant=gym).count)() == 1
    await gym_widget.disconnect()
    await console.disconnect()


async def test_the_console_refuses_anyone_who_is_not_an_agent(shop):
    anonymous = WebsocketCommunicator(application, "/ws/console/", headers=[(b"origin", b"http://localhost:8000")])
    connected, _ = await anonymous.connect()
    assert not connected
    await anonymous.disconnect()  # end the refused consumer cleanly (its channel-layer read is still pending)

    client_user = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    cookie = await database_sync_to_async(session_cookie)(client_user.user)
    as_client = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )
    connected, _ = await as_client.connect()
    assert not connected
    await as_client.disconnect()


async def test_an_agent_hands_a_chat_to_a_colleague_who_is_alerted_with_the_note(shop):
    # given Anna has a chat and Bea is on duty with her console open
    anna = await database_sync_to_async(ready_agent)(shop, "Anna")
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Refund please", "client_msg_id": "r1"})
    await receive_until(widget, "ack")
    bea = await database_sync_to_async(ready_agent)(shop, "Bea")
    anna_console, bea_console = await agent_socket(anna), await agent_socket(bea)
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=shop)

    # when Anna asks who can take it and transfers it to Bea
    await anna_console.send_json_to({"type": "colleagues", "conversation": conversation.pk})
    colleagues = await receive_until(anna_console, "colleagues")
    assert [c["name"] for c in colleagues["agents"]] == ["Bea"]
    await anna_console.send_json_to(
        {"type": "transfer", "conversation": conversation.pk, "to_agent": bea.pk, "note": "Order 1234"}
    )

    # then Bea is alerted with the note, Anna loses it, and the visitor sees Bea's name
    assigned = await receive_until(bea_console, "assigned")
    assert (assigned["transfer_note"], assigned["transferred_by"]) == ("Order 1234", "Anna")
    assert (await receive_until(anna_console, "withdrawn"))["conversation"] == conversation.pk
    assert (await receive_until(widget, "assigned"))["agent_name"] == "Bea"
    for socket in (widget, anna_console, bea_console):
        await socket.disconnect()


async def test_operations_managers_in_the_admin_are_alerted_to_a_long_wait_and_agents_are_not_let_in(shop):
    from conversations import timers

    # given a manager with the admin open, and a chat nobody answers
    manager = await database_sync_to_async(factories.make_user)(role="operations manager")
    cookie = await database_sync_to_async(session_cookie)(manager)
    admin_socket = WebsocketCommunicator(
        application, "/ws/operations/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )
    connected, _ = await admin_socket.connect()
    assert connected
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "w1"})
    await receive_until(widget, "ack")

    # when the clock runs after the tenant's 10 s target
    later = timezone.now() + dt.timedelta(seconds=15)
    await database_sync_to_async(timers.sweep_live_chats)(now=later)

    # then the manager's admin hears of it, with the tenant and the wait
    alert = await receive_until(admin_socket, "wait_alert")
    assert alert["tenant_name"] == "Shop" and alert["waited_seconds"] >= 15
    await admin_socket.disconnect()
    await widget.disconnect()

    # and an agent cannot listen in
    agent = await database_sync_to_async(ready_agent)(shop)
    agent_cookie = await database_sync_to_async(session_cookie)(agent.user)
    as_agent = WebsocketCommunicator(
        application, "/ws/operations/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", agent_cookie)]
    )
    connected, _ = await as_agent.connect()
    assert not connected
    await as_agent.disconnect()


def test_every_admin_page_carries_the_wait_alert_listener(client, ops_manager):
    client.force_login(ops_manager)

    page = client.get("/admin/").content.decode()

    assert "/ws/operations/" in page and 'id="ops-alert-strings"' in page
