"""End-to-end fixtures: real daphne processes on loopback and Debian's Chromium through Playwright.

`daphne_factory` starts as many daphne processes as a test needs (two for the cross-process
test), each on its own free port, all on the pytest-django test database and the same Redis;
`live_server_daphne` is one of them. `client_site` serves a client's pages from an origin of their
own. `browser` launches /usr/bin/chromium headless and `page` opens a fresh context per test.
Without PostgreSQL and Redis (or without Chromium) these fixtures skip the test, or fail it when
REQUIRE_SERVICES=1 (REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from accounts import roles
from tests.plugins import (
    CHROMIUM_PATH,
    browser_required,
    missing_browser,
    missing_services,
    services_required,
    skip_or_fail,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
STARTUP_TIMEOUT = 20.0
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # This machine's network is closed: without these Chromium keeps trying to reach Google's hosts.
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DaphneServer:
    """One running daphne process serving chatops.asgi:application."""

    process: subprocess.Popen
    port: int
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Return what daphne has written to stdout and stderr so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def database_url_of_test_db() -> str:
    """Return a DATABASE_URL for the test database pytest-django has set up in this process."""
    from django.db import connection

    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A socket directory as host is percent-encoded, which django-environ understands.
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _wait_until_answering(server: DaphneServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"daphne exited with code {server.process.returncode}:\n{server.output()}", pytrace=False)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return  # any HTTP answer, even 404, means Django is serving
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            connection.close()
    server.stop()
    pytest.fail(f"daphne did not answer HTTP within {STARTUP_TIMEOUT:.0f} s:\n{server.output()}", pytrace=False)


@pytest.fixture
def daphne_factory(transactional_db, settings) -> Iterator[Callable[..., DaphneServer]]:
    """Return a function that starts a daphne process and returns it once it answers HTTP.

    Keyword arguments become extra environment variables of the process; `port` asks for a
    given port, e.g. `daphne_factory(port=server.port)` after `server.stop()` brings a server
    back on the same address for a reconnect test. Every process is stopped when the test
    ends, passed or failed.

    transactional_db: the process reads the database through its own connections, so what
    the test writes must be committed.
    """
    reason = missing_services()
    if reason:
        skip_or_fail(f"daphne end-to-end tests {reason}", required=services_required(), switch="REQUIRE_SERVICES")

    # The flush after an earlier transactional test empties every table, including the role
    # groups a data migration made; the roles must exist for the users this test creates.
    from django.contrib.auth.models import Group

    for role in roles.ROLES:
        Group.objects.get_or_create(name=role)

    servers: list[DaphneServer] = []
    logs = tempfile.TemporaryDirectory(prefix="chatops-daphne-")

    def start(*, port: int = 0, **extra_env: str) -> DaphneServer:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "chatops.settings",
            "DATABASE_URL": database_url_of_test_db(),
            "REDIS_URL": settings.REDIS_URL,
            # DEBUG serves the admin's static files from the apps, with no collectstatic.
            "DEBUG": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # No Celery worker runs beside these processes, so tasks they queue run inline.
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        # Bind here and hand the listening socket over, so no other process can take the port in between.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A port given back after a stop may still have connections in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        port = listener.getsockname()[1]
        log = Path(logs.name) / f"daphne-{len(servers) + 1}-port-{port}.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), "chatops.asgi:application"],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
            )
        listener.close()
        server = DaphneServer(process=process, port=port, log=log, env=env)
        servers.append(server)
        _wait_until_answering(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
        logs.cleanup()


@pytest.fixture
def live_server_daphne(daphne_factory) -> DaphneServer:
    """Start one real daphne process on the test database; `.url` is its address."""
    return daphne_factory()


@dataclass
class ClientSite:
    origin: str
    pages: dict[str, str]


@pytest.fixture
def client_site() -> Iterator[ClientSite]:
    """Serve the client's pages from another port on loopback: a different origin from chatops."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ClientSite(origin=f"http://127.0.0.1:{server.server_port}", pages=pages)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator:
    """Launch Debian's Chromium headless through Playwright's sync API for one test."""
    reason = missing_browser()
    if reason:
        skip_or_fail(reason, required=browser_required(), switch="REQUIRE_BROWSER")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread for as long as it is
    # started, so Django's ORM in the test (factories, assertions) would raise
    # SynchronousOnlyOperation although nothing runs concurrently. The flag lives exactly as
    # long as that loop, and only in end-to-end tests; the function scope makes sure the loop
    # is gone before other tests (including async ones) run.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        # While that loop runs, Django keeps the test's database connections apart from
        # pytest-django's (they count as async ones); close them while they are still reachable,
        # or the test database cannot be dropped at the end of the session.
        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request) -> Iterator:
    """Open a page in a new browser context (own cookies and storage) for this test.

    An error the page's scripts throw and do not catch fails the test, even when what it checks still
    happened: the console's and the widget's scripts must not break on any path a test takes.
    With E2E_SCREENSHOTS=<folder> set, the page's last state is saved there as <test name>.png.
    """
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error.stack or error}"))
    try:
        yield page
        assert not script_errors, "the page's scripts threw:\n" + "\n".join(script_errors)
    finally:
        folder = os.environ.get("E2E_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # A page that crashed has nothing to show; the test's own failure says more.
            with contextlib.suppress(PlaywrightError):
                page.screenshot(path=str(Path(folder) / f"{request.node.name}.png"), full_page=True)
        context.close()
