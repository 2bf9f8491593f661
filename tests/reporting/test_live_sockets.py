"""The dashboards' WebSockets over the real Redis channel layer: who may listen, and what they hear."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts import roles
from chatops.asgi import application
from conversations import services
from conversations.models import Conversation, Visitor
from reporting import consumers
from tenants.models import ClientUser, Tenant
from tests import factories
from workforce.models import Agent
from workforce.services import plan_shift

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ORIGIN = b"http://localhost:8000"
# Long enough for a debounced refresh (2 s) to arrive; the periodic one (30 s) never comes this soon.
FRAME_TIMEOUT = 6


@pytest.fixture(autouse=True)
async def close_consumer_thread_connections():
    """Close the connection the consumers' database thread opened, so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
async def stop_consumers_left_running():
    """Stop the consumers a test leaves running (a refused socket's) while the event loop still runs.

    A consumer's pending Redis read may swallow the first cancellation (redis-py 8 on Python 3.11);
    left to the loop's shutdown it then holds the test up until the read times out, so cancel twice.
    """
    yield
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for _attempt in range(2):
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=0.5)


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", language="en", status=Tenant.Status.LIVE)


@pytest.fixture
def gym(db):
    return factories.make_tenant(name="Gym", slug="gym", language="en", status=Tenant.Status.LIVE)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(user, path: str) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"origin", ORIGIN)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


def start_chat(tenant: Tenant) -> Conversation:
    visitor = Visitor.objects.create(tenant=tenant)
    conversation = services.start_conversation(tenant=tenant, visitor=visitor)
    services.post_visitor_message(conversation=conversation, body="Hello?", client_msg_id="first")
    return conversation


async def next_frame(communicator: WebsocketCommunicator, frame_type: str) -> dict:
    frame = await communicator.receive_json_from(timeout=FRAME_TIMEOUT)
    assert frame["type"] == frame_type
    return frame


# --- The client dashboard -------------------------------------------------------------------------


async def test_a_client_user_hears_of_a_new_chat_of_their_tenant_and_never_of_another(shop, gym):
    # given a client user of the shop on the dashboard socket, with the figures as they were at connect
    contact = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    socket, connected, _code = await open_socket(contact.user, "/ws/dashboard/")
    assert connected
    first = await next_frame(socket, "figures")
    assert (first["tenant"], first["waiting"], first["today"]["chats"]) == ("shop", 0, 0)

    # when a visitor of the gym starts a chat, nothing is sent (and the socket idles past the channel
    # layer's 5 s blocking read, which must not end it)
    await database_sync_to_async(start_chat)(gym)
    assert await socket.receive_nothing(timeout=FRAME_TIMEOUT)

    # when a visitor of the shop starts one, the new figures come without asking
    await database_sync_to_async(start_chat)(shop)
    update = await next_frame(socket, "figures")
    await socket.disconnect()

    # then
    assert (update["tenant"], update["waiting"], update["today"]["chats"]) == ("shop", 1, 1)
    assert update["oldest_waiting_since"] is not None
    assert 'data-figure="now.waiting"' in update["html"]
    assert "Gym" not in update["html"]


async def test_a_client_user_asking_for_another_tenant_still_gets_their_own(shop, gym):
    # given the gym has a chat waiting
    contact = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    await database_sync_to_async(start_chat)(gym)

    # when the shop's contact asks for the gym's figures
    socket, connected, _code = await open_socket(contact.user, "/ws/dashboard/?tenant=gym")
    frame = await next_frame(socket, "figures")
    await socket.disconnect()

    # then
    assert connected
    assert (frame["tenant"], frame["waiting"]) == ("shop", 0)


async def test_an_operations_manager_follows_any_tenant_by_its_short_name(shop, gym):
    # given
    manager = await database_sync_to_async(factories.make_user)(role=roles.OPERATIONS_MANAGER)
    await database_sync_to_async(start_chat)(gym)

    # when
    socket, connected, _code = await open_socket(manager, "/ws/dashboard/?tenant=gym")
    frame = await next_frame(socket, "figures")
    await socket.disconnect()

    # then
    assert connected
    assert (frame["tenant"], frame["waiting"]) == ("gym", 1)


@pytest.mark.parametrize("who", ["anonymous", "agent", "user without a role", "manager without a tenant"])
async def test_nobody_else_may_open_the_dashboard_socket(shop, who):
    # given
    user = None
    if who == "agent":
        user = (await database_sync_to_async(factories.make_agent)(trained_for=[shop])).user
    elif who == "user without a role":
        user = await database_sync_to_async(factories.make_user)()
    elif who == "manager without a tenant":
        user = await database_sync_to_async(factories.make_user)(role=roles.OPERATIONS_MANAGER)

    path = "/ws/dashboard/" if who == "manager without a tenant" else "/ws/dashboard/?tenant=shop"

    # when
    _socket, connected, code = await open_socket(user, path)

    # then
    assert not connected
    assert code == consumers.CLOSE_FORBIDDEN


async def test_a_login_removed_from_its_tenant_stops_hearing_its_figures(shop):
    # given a connected client user
    contact = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    socket, connected, _code = await open_socket(contact.user, "/ws/dashboard/")
    assert connected
    await next_frame(socket, "figures")

    # when the login is taken off the tenant and the tenant's chats change
    await database_sync_to_async(ClientUser.objects.filter(pk=contact.pk).delete)()
    await database_sync_to_async(start_chat)(shop)

    # then the socket is closed instead of sending the new figures
    closing = await socket.receive_output(timeout=FRAME_TIMEOUT)
    assert closing == {"type": "websocket.close", "code": consumers.CLOSE_FORBIDDEN}


async def test_the_dashboard_socket_only_sends(shop):
    # given
    contact = await database_sync_to_async(factories.make_client_user)(tenant=shop)
    socket, _connected, _code = await open_socket(contact.user, "/ws/dashboard/")
    await next_frame(socket, "figures")

    # when
    await socket.send_json_to({"type": "hello"})
    answer = await socket.receive_json_from(timeout=FRAME_TIMEOUT)
    await socket.disconnect()

    # then
    assert answer["type"] == "error"
    assert answer["code"] == "read_only"


# --- The operations board -------------------------------------------------------------------------


async def test_an_operations_manager_hears_every_live_tenants_queue(shop, gym):
    # given a manager on the board, and an agent working for the gym
    manager = await database_sync_to_async(factories.make_user)(role=roles.OPERATIONS_MANAGER)

    def working_agent() -> None:
        agent = factories.make_agent(trained_for=[gym])
        Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE)
        now = timezone.now()
        plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))

    await database_sync_to_async(working_agent)()
    socket, connected, _code = await open_socket(manager, "/ws/operations/board/?lang=en")
    assert connected
    first = await next_frame(socket, "board")
    assert {tenant["slug"]: tenant["waiting"] for tenant in first["tenants"]} == {"shop": 0, "gym": 0}

    # when a shop visitor starts a chat that nobody can take
    await database_sync_to_async(start_chat)(shop)
    update = await next_frame(socket, "board")
    await socket.disconnect()

    # then the shop comes first with its waiting chat; the gym's agent is online
    rows = update["tenants"]
    assert [row["slug"] for row in rows] == ["shop", "gym"]
    assert rows[0]["waiting"] == 1
    assert rows[1]["agents_online"] == 1
    assert 'data-tenant="shop"' in update["html"]


@pytest.mark.parametrize("role", [roles.AGENT, roles.CLIENT_USER, None])
async def test_only_operations_managers_may_open_the_board_socket(shop, role):
    # given
    user = await database_sync_to_async(factories.make_user)(role=role)

    # when
    _socket, connected, code = await open_socket(user, "/ws/operations/board/")

    # then
    assert not connected
    assert code == consumers.CLOSE_FORBIDDEN


# --- Sharing one computation ----------------------------------------------------------------------


async def test_sockets_of_one_process_share_a_computation_made_after_the_change():
    # given a store of frames and a computation that counts its calls
    store = consumers._Latest()
    calls = 0

    async def compute() -> dict:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return {"call": calls}

    # when two sockets ask at once for figures fresher than the same change
    changed_at = time.monotonic()
    first, second = await asyncio.gather(
        store.get("shop", compute, fresh_since=changed_at - 1), store.get("shop", compute, fresh_since=changed_at - 1)
    )
    # and one asks for figures fresher than a later change
    later = await store.get("shop", compute, fresh_since=float("inf"))

    # then the first two share one computation and the later change gets its own
    assert first == second == {"call": 1}
    assert later == {"call": 2}
