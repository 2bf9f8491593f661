"""Widget and console sockets for consumer tests: real consumers over the configured channel layer."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.db.models import F
from django.test import Client
from django.utils import timezone

from chatops.asgi import application
from conversations import threads
from conversations.models import Conversation, Message
from tests import factories
from workforce.models import Agent
from workforce.services import plan_shift

ORIGIN = "https://client1.example"


@pytest.fixture(autouse=True)
async def close_consumer_thread_connections():
    """Close the connections the consumers' database threads opened, so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def ready_agent(tenant, name="Anna", max_chats=3):
    """Return an agent trained for the tenant, on a shift now, online with a console that pinged just now."""
    agent = factories.make_agent(trained_for=[tenant], display_name=name, max_concurrent_chats=max_chats)
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=now)
    plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
    return agent


async def visitor_socket(tenant, origin=ORIGIN, key=None):
    communicator = WebsocketCommunicator(
        application, f"/ws/widget/{key or tenant.widget_key}/", headers=[(b"origin", origin.encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def hello(communicator, token="", last_seq=0):
    await communicator.send_json_to({"type": "hello", "token": token, "last_seq": last_seq, "url": ORIGIN + "/"})
    return await communicator.receive_json_from(timeout=5)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(agent):
    cookie = await database_sync_to_async(session_cookie)(agent.user)
    communicator = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello"})
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome"
    return communicator


async def receive_until(communicator, frame_type, timeout=5):
    """Return the next frame of the type, dropping the others."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


def store_unpublished(conversation: Conversation, body: str) -> int:
    """Store an agent's line as the services do, but let its event be lost (as a dropped publish would be)."""
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=F("last_seq") + 1)
    seq = Conversation.objects.get(pk=conversation.pk).last_seq
    Message.objects.create(
        tenant_id=conversation.tenant_id, conversation=conversation, seq=seq, sender=Message.Sender.AGENT, body=body
    )
    return seq


async def frames_until(communicator, done, timeout=5) -> list[dict]:
    """Return every frame up to and including the first one ``done(frame)`` accepts."""
    frames = []
    while not frames or not done(frames[-1]):
        frames.append(await communicator.receive_json_from(timeout=timeout))
    return frames


def keep_every_database_thread_busy(settings, seconds: float) -> list:
    """Keep every database thread of this process busy for ``seconds``, with two calls more waiting for one
    (so that ``threads.database_wait`` grows); return the calls, to be awaited at the end."""
    return [
        asyncio.ensure_future(threads.database_sync_to_async(time.sleep)(seconds))
        for _ in range(settings.CHAT_DATABASE_THREADS + 2)
    ]
