"""Back after Redis: a daphne process lives through a Redis restart, and its live pages come back.

A redis-server of this test's own carries daphne's channel layer. When it restarts, the open live
sockets are not left deaf (they are closed, so the pages' scripts reconnect, or they hear events
again), and a page that reconnects gets its figures and then its group's events again.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from channels_redis.core import RedisChannelLayer

from conversations.timers import OPERATIONS_GROUP

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
BACK_WITHIN = 30


async def next_board_frame(socket, *, within: float) -> dict:
    """Return the next board frame the socket gets within the time (frames of other kinds are skipped)."""
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=max(deadline - time.monotonic(), 0.1)))
        if frame.get("type") == "board":
            return frame


async def open_board(server, session: str):
    return await websockets.connect(
        f"ws://127.0.0.1:{server.port}/ws/operations/board/?lang=en",
        additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{server.port}"},
    )


async def events_reach(socket, layer, *, within: float) -> dict:
    """Publish a board event until the socket answers with fresh figures; return them."""
    deadline = time.monotonic() + within
    while True:
        await layer.group_send(OPERATIONS_GROUP, {"type": "wait.alert", "payload": {}})
        try:
            return await next_board_frame(socket, within=3)
        except TimeoutError:
            assert time.monotonic() < deadline, "no board frame after the event"


async def reconnect_board(server, session: str, *, within: float):
    """Connect to the board until a connection gets its figures; return it and how many tries it took."""
    deadline, attempts = time.monotonic() + within, 0
    while True:
        attempts += 1
        socket = await open_board(server, session)
        try:
            await next_board_frame(socket, within=10)
            return socket, attempts
        except websockets.ConnectionClosed:
            assert time.monotonic() < deadline, server.output()
            await asyncio.sleep(1)


def test_daphne_lives_through_a_redis_restart_and_live_sockets_come_back(
    daphne_factory, redis_server, client, ops_manager
):
    # given a daphne process on our Redis, and the operations board open on it
    server = daphne_factory(REDIS_URL=redis_server.url)
    client.force_login(ops_manager)
    session = client.cookies["sessionid"].value
    layer = RedisChannelLayer(hosts=[redis_server.url])

    async def scenario() -> tuple[str, dict]:
        socket = await open_board(server, session)
        await next_board_frame(socket, within=10)

        # when Redis restarts
        redis_server.stop()
        await asyncio.sleep(1)
        redis_server.start()

        # then the open socket is not left deaf: it hears events again, or it is closed so its page reconnects
        try:
            await events_reach(socket, layer, within=BACK_WITHIN)
            old_socket = "hears events"
        except websockets.ConnectionClosed:
            old_socket = "closed"
        # and a page that reconnects (as the board's script does, every second or so) gets its figures again,
        # and then the events of its group
        fresh, attempts = await reconnect_board(server, session, within=BACK_WITHIN)
        frame = await events_reach(fresh, layer, within=BACK_WITHIN)
        await fresh.close()
        await layer.flush()

        return old_socket, frame, attempts

    old_socket, frame, attempts = asyncio.run(scenario())
    assert server.process.poll() is None, server.output()
    assert old_socket in ("hears events", "closed")
    assert frame["type"] == "board" and attempts >= 1
