"""End-to-end fixtures: a client's site on loopback and Debian's Chromium through Playwright.

The daphne processes (`daphne_factory`, `live_server_daphne`) come from tests/processes.py, shared with
the fault suite. `client_site` serves a client's pages from an origin of their own. `browser` launches
/usr/bin/chromium headless and `page` opens a fresh context per test. Without Chromium these fixtures
skip the test, or fail it when REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.plugins import CHROMIUM_PATH, browser_required, missing_browser, skip_or_fail
from tests.processes import BASE_DIR, DaphneServer

__all__ = ["BASE_DIR", "ClientSite", "DaphneServer"]

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
