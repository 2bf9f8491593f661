"""Attacks on the live sockets (issue 12): hostile frames, too many visitors, taking chats, access revoked."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from accounts import revocation
from chatops.asgi import application
from conversations import services
from conversations.consumers import CLOSE_FORBIDDEN
from conversations.models import Conversation, Message, PageView, Visitor
from tenants import services as tenant_services
from tenants.models import Tenant
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
from workforce import services as agent_services
from workforce.models import Qualification

pytestmark = pytest.mark.django_db(transaction=True)

NESTED = "[" * 2000 + "]" * 2000


async def closed_with(communicator) -> int | None:
    """Return the close code the server sent next, dropping other frames; None if it sent none."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output.get("code")


async def test_deeply_nested_json_on_the_widget_socket_is_a_bad_frame_and_the_socket_stays_open(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_to(text_data=NESTED)

    assert (await widget.receive_json_from())["code"] == "bad_frame"
    await widget.send_json_to({"type": "ping"})
    assert (await widget.receive_json_from())["type"] == "pong"
    await widget.disconnect()


async def test_deeply_nested_json_on_the_console_socket_is_a_bad_frame_and_the_socket_stays_open(shop):
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)

    await console.send_to(text_data=NESTED)

    assert (await receive_until(console, "error"))["code"] == "bad_frame"
    await console.send_json_to({"type": "ping"})
    assert (await receive_until(console, "pong"))["type"] == "pong"
    await console.disconnect()


async def frames_heard(communicator, quiet=1.0) -> list[dict]:
    """Return every frame the socket gets until it has been quiet for ``quiet`` seconds."""
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_json_from())
    return frames


async def test_a_socket_makes_one_visitor_and_one_page_view_however_often_it_says_hello(shop):
    widget = await visitor_socket(shop)
    first = await hello(widget)

    for _ in range(5):
        again = await hello(widget)  # no token, as an attacker would send it
        assert again["token"] == first["token"]

    assert await database_sync_to_async(Visitor.objects.filter(tenant=shop).count)() == 1
    assert await database_sync_to_async(PageView.objects.filter(tenant=shop).count)() == 1
    await widget.disconnect()


def waiting_chat(tenant: Tenant) -> Conversation:
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    services.post_visitor_message(conversation=chat, body="Hello?", client_msg_id="v1")
    chat.refresh_from_db()
    assert chat.status == Conversation.Status.WAITING
    return chat


def offline_agent(tenant: Tenant):
    """Return an agent trained for the tenant but offline and without a shift."""
    return factories.make_agent(trained_for=[tenant], display_name="Olli")


async def test_an_offline_agent_off_shift_cannot_take_a_waiting_chat_by_writing_in_it(shop):
    # given a waiting chat and an agent who may not take it (take would be refused)
    chat = await database_sync_to_async(waiting_chat)(shop)
    olli = await database_sync_to_async(offline_agent)(shop)
    console = await agent_socket(olli)

    # when they write in it
    await console.send_json_to({"type": "message", "conversation": chat.pk, "body": "Mine!", "client_msg_id": "o1"})

    # then it is refused and the chat still waits, without their message
    refusal = await receive_until(console, "error")
    assert (refusal["code"], refusal["client_msg_id"]) == ("not_available", "o1")
    await database_sync_to_async(chat.refresh_from_db)()
    assert (chat.status, chat.agent_id) == (Conversation.Status.WAITING, None)
    assert not await database_sync_to_async(Message.objects.filter(client_msg_id="o1").exists)()
    await console.disconnect()


async def test_an_eligible_agent_writing_in_a_waiting_chat_takes_it_as_take_would(shop):
    chat = await database_sync_to_async(waiting_chat)(shop)
    anna = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(anna)

    await console.send_json_to({"type": "message", "conversation": chat.pk, "body": "Hi!", "client_msg_id": "a1"})

    assert (await receive_until(console, "ack"))["seq"] == 2
    await database_sync_to_async(chat.refresh_from_db)()
    assert (chat.status, chat.agent_id) == (Conversation.Status.ACTIVE, anna.pk)
    await console.disconnect()


@pytest.mark.parametrize("revoke", ["rotate_key", "end_tenant", "remove_origin"])
async def test_revoking_a_widget_closes_its_open_sockets_and_stores_nothing_more(shop, revoke):
    # given a visitor chatting
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Before", "client_msg_id": "c1"})
    await receive_until(widget, "ack")

    # when the operations manager rotates the key, ends the tenant or removes the site
    await database_sync_to_async(REVOCATIONS[revoke])(shop)

    # then the widget is told and closed, and what it sends afterwards is not stored
    refusal = await widget.receive_json_from(timeout=5)
    assert refusal["type"] == "error" and refusal["code"] in ("unknown_key", "not_serving", "origin_not_allowed")
    assert await closed_with(widget) == CLOSE_FORBIDDEN
    assert await database_sync_to_async(Message.objects.filter(tenant=shop).count)() == 1


def end_tenant(tenant: Tenant) -> None:
    tenant.status = Tenant.Status.ENDED
    tenant_services.save_tenant(tenant=tenant)


def remove_origin(tenant: Tenant) -> None:
    tenant.allowed_origins = "https://elsewhere.example"
    tenant_services.save_tenant(tenant=tenant)


REVOCATIONS = {
    "rotate_key": lambda tenant: tenant_services.rotate_widget_key(tenant=tenant),
    "end_tenant": end_tenant,
    "remove_origin": remove_origin,
}


async def test_a_new_widget_socket_with_the_rotated_key_is_refused_at_once(shop):
    old_key = shop.widget_key
    widget = await visitor_socket(shop)
    await hello(widget)

    await database_sync_to_async(tenant_services.rotate_widget_key)(tenant=shop)
    assert await closed_with(widget) == CLOSE_FORBIDDEN

    again = await visitor_socket(shop, key=old_key)
    assert (await again.receive_json_from())["code"] == "unknown_key"


def deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])
    revocation.logins_changed_on_commit(user_ids=[user.pk])


async def test_deactivating_an_agent_closes_their_console(shop):
    anna = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(anna)

    await database_sync_to_async(deactivate)(anna.user)

    assert await closed_with(console) == CLOSE_FORBIDDEN


async def test_withdrawing_a_training_stops_the_tenants_queue_reaching_the_console(shop):
    # given an agent trained for two tenants, console open
    gym = await database_sync_to_async(factories.make_tenant)(name="Gym", slug="gym", allowed_origins=ORIGIN)
    olli = await database_sync_to_async(factories.make_agent)(trained_for=[shop, gym], display_name="Olli")
    console = await agent_socket(olli)

    # when the training for the shop is withdrawn
    qualification = await database_sync_to_async(Qualification.objects.unscoped().get)(agent=olli, tenant=shop)
    await database_sync_to_async(agent_services.withdraw_training)(qualification=qualification)
    assert (await receive_until(console, "state"))["type"] == "state"

    # then a new waiting chat of the shop no longer reaches the console, one of the gym still does
    await database_sync_to_async(waiting_chat)(shop)
    await database_sync_to_async(waiting_chat)(gym)
    heard = await frames_heard(console)
    assert {frame.get("tenant") for frame in heard if frame["type"] == "queue"} == {gym.pk}
    await console.send_json_to({"type": "hello"})
    welcome = await receive_until(console, "welcome")
    assert {chat["tenant"] for chat in welcome["queue"]} == {gym.pk}
    await console.disconnect()


async def test_removing_a_client_users_access_closes_their_dashboard(shop):
    client_user = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    cookie = await database_sync_to_async(session_cookie)(client_user.user)
    dashboard = WebsocketCommunicator(
        application, "/ws/dashboard/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )
    assert (await dashboard.connect())[0]
    assert (await dashboard.receive_json_from(timeout=10))["type"] == "figures"

    await database_sync_to_async(tenant_services.remove_client_users)(client_users=[client_user])

    assert await closed_with(dashboard) == CLOSE_FORBIDDEN


async def test_deactivating_a_client_user_closes_their_dashboard(shop):
    client_user = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    cookie = await database_sync_to_async(session_cookie)(client_user.user)
    dashboard = WebsocketCommunicator(
        application, "/ws/dashboard/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )
    assert (await dashboard.connect())[0]
    await dashboard.receive_json_from(timeout=10)

    user = await database_sync_to_async(get_user_model().objects.get)(pk=client_user.user_id)
    await database_sync_to_async(deactivate)(user)

    assert await closed_with(dashboard) == CLOSE_FORBIDDEN
