"""Shared fixtures: tenants, the three roles, a real SMTP server on loopback, a Redis of a test's own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from accounts import roles
from tenants import scoping
from tests import factories
from tests.sqlite_rerun import SqliteReruns

# A test reads whatever rows it asserts on, of any tenant: the suite's own queries count as scoped.
# The code under test gets no such trust (tests/tenants/test_scoping.py).
scoping.trust_queries_from("tests")

pytest_plugins = ["tests.plugins", "tests.processes", "tests.parallel"]


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """Hash the tests' passwords with few rounds (tests/hashers.py); every hasher Django knows still checks."""
    from django.conf import global_settings
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["tests.hashers.QuickPBKDF2PasswordHasher", *global_settings.PASSWORD_HASHERS]
    ):
        yield


@pytest.fixture(scope="session")
def sqlite_rerun(request, tmp_path_factory) -> SqliteReruns:
    """Run the modules that ask for it again on SQLite, together, once for all workers (tests/sqlite_rerun.py)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("this is the SQLite run")
    modules = [str(item.path) for item in request.session.items if "sqlite_rerun" in item.fixturenames]
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # The run's temporary folder holds each worker's own; the workers share what is beside them.
        folder = tmp_path_factory.getbasetemp().parent / "sqlite_rerun"
        folder.mkdir(exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("sqlite_rerun")
    return SqliteReruns(modules, folder)


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
def default_language() -> Iterator[None]:
    """Leave no language active after a test: LocaleMiddleware activates a request's language for the
    whole thread, so one test's Accept-Language would otherwise decide the next test's texts."""
    from django.utils import translation

    yield
    translation.deactivate()


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


@contextlib.contextmanager
def mail_server_on_loopback(handler, settings=None) -> Iterator[int]:
    """Run an aiosmtpd handler on a free loopback port and yield the port; stop it afterwards.

    With pytest-django's ``settings``, Django's SMTP backend is pointed at it (plain SMTP, no login).
    """
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    if settings is not None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings):
    """Run a real SMTP server on loopback and point Django's SMTP backend at it.

    Yields the list of received messages: dicts with from, to and the parsed e-mail.
    """
    handler = _CollectingHandler()
    with mail_server_on_loopback(handler, settings):
        yield handler.messages


class RedisOfOurOwn:
    """A redis-server on a free port, persisting to a folder of its own; stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.process = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a clean shutdown: the append-only file is complete
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own, for tests that restart it; stopped at the end."""
    # Imported here: tests.plugins is loaded as a plugin (pytest_plugins below), after this module.
    from tests.plugins import services_required, skip_or_fail

    if not shutil.which("redis-server"):
        skip_or_fail("needs redis-server", required=services_required(), switch="REQUIRE_SERVICES")
    server = RedisOfOurOwn(tmp_path)
    server.start()
    yield server
    server.stop()
