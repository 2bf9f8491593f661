"""The staff sockets (console, operations, dashboard, live board) let in only pages of chatops' own origins.

"Own" is scheme, host and port exactly (OWN_ORIGINS), the same rule as the widget's: a page on an allowed
host at another port or scheme is someone else's (issue 12, point 8).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts import roles
from chatops.asgi import application
from tests import factories
from tests.conversations.sockets import close_consumer_thread_connections, session_cookie  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# A host in ALLOWED_HOSTS, so that only scheme and port tell the refused origins from ours.
OWN = "http://localhost:8000"
# Each route with the role that may open it.
ROUTES = {
    "/ws/console/": "agent",
    "/ws/operations/": "manager",
    "/ws/dashboard/": "client",
    "/ws/operations/board/": "manager",
}


@pytest.fixture
def own_origin(settings):
    settings.OWN_ORIGINS = [OWN]


def user_for(role: str, tenant):
    if role == "agent":
        return factories.make_agent(trained_for=[tenant], display_name="Anna").user
    if role == "client":
        return factories.make_client_user(tenant=tenant).user
    return factories.make_user(role=roles.OPERATIONS_MANAGER)


async def connect(route: str, tenant, origin: str | None) -> tuple[bool, WebsocketCommunicator]:
    user = await database_sync_to_async(user_for)(ROUTES[route], tenant)
    headers = [(b"cookie", await database_sync_to_async(session_cookie)(user))]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    socket = WebsocketCommunicator(application, route, headers=headers)
    connected, _ = await socket.connect(timeout=5)
    return connected, socket


NOT_OURS = [
    "https://localhost:8000",  # another scheme
    "http://localhost:9000",  # another port
    "http://localhost",
    "https://evil.example",
    "null",
    None,  # no Origin header at all
]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_staff_socket_from_a_page_that_is_not_chatops_own_is_refused(own_origin, tenant, route):
    # given signed-in users of the route, on pages of an allowed host but not of chatops' own origin
    let_in = []
    for origin in NOT_OURS:
        # when their page opens the socket
        connected, socket = await connect(route, tenant, origin)
        if connected:
            let_in.append(origin)
        await socket.disconnect()

    # then each is refused before the consumer runs
    assert let_in == []


@pytest.mark.parametrize("route", ROUTES)
async def test_a_staff_socket_from_chatops_own_origin_connects(own_origin, tenant, route):
    connected, socket = await connect(route, tenant, OWN)

    assert connected is True
    await socket.disconnect()


async def test_a_wildcard_in_allowed_hosts_does_not_open_the_console_to_every_site(own_origin, settings, tenant):
    settings.ALLOWED_HOSTS = ["*"]

    connected, socket = await connect("/ws/console/", tenant, "https://evil.example")

    assert connected is False
    await socket.disconnect()
