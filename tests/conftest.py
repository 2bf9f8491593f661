"""Shared fixtures: tenants, the three roles, and a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from chatops import roles
from tests import factories

pytest_plugins = ["tests.plugins"]


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def tenant(db):
    return factories.make_tenant(name="Kahvila Oy", slug="kahvila", language="fi")


@pytest.fixture
def other_tenant(db):
    return factories.make_tenant(name="Siłownia Sp. z o.o.", slug="silownia", language="pl", time_zone="Europe/Warsaw")


@pytest.fixture
def ops_manager(db):
    return factories.make_user(role=roles.OPERATIONS_MANAGER, email="manager@staff.example")


@pytest.fixture
def agent(tenant):
    return factories.make_agent(trained_for=[tenant], display_name="Anna")


@pytest.fixture
def client_user(tenant):
    return factories.make_client_user(tenant=tenant)


@pytest.fixture(autouse=True)
def celery_runs_inline(settings):
    """Run Celery tasks inline in tests; the worker test turns this off to use the real broker."""
    from chatops.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Give each test its own channel layer: a Redis layer keeps locks bound to the event loop that used it."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Start each test with an empty cache and process memos: they are keyed by ids a new test database
    hands out again."""
    from django.core.cache import cache

    from conversations.memo import forget_everything

    cache.clear()
    forget_everything()
    yield
    cache.clear()
    forget_everything()


class GroupListener:
    """Listen to channel-layer groups from an event loop of its own, as a consumer in another process would.

    The Redis pub/sub layer keeps its subscriptions per event loop, so a sync test cannot subscribe in one
    ``async_to_sync`` call and read in the next: this loop lives for the whole test.
    """

    def __init__(self) -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _run(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def listen(self, group: str) -> Callable[[], dict]:
        """Subscribe a fresh channel to the group; return a function that reads the next event (5 s at most)."""
        channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(group, channel))
        return lambda: self._run(asyncio.wait_for(self.layer.receive(channel), timeout=5))

    def close(self) -> None:
        if hasattr(self.layer, "flush"):
            self._run(self.layer.flush())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def group_listener() -> Iterator[GroupListener]:
    """Return a listener to channel-layer groups that lives for the test (see GroupListener)."""
    listener = GroupListener()
    try:
        yield listener
    finally:
        listener.close()


class _CollectingHandler:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """Run a real SMTP server on loopback and point Django's SMTP backend at it.

    Yields the list of received messages: dicts with from, to and the parsed e-mail.
    """
    from aiosmtpd.controller import Controller

    handler = _CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler.messages
    finally:
        controller.stop()
