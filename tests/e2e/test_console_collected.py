"""End to end: the console as production serves it — DEBUG off, the files collectstatic made, hashed names only."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conversations.test_console_static import CONSOLE_SOURCE, collect_static
from tests.e2e.test_console_chat import (
    VISITOR_SEND,
    go_online,
    log_in_to_console,
    on_shift_now,
    open_visitor,
    serve_widget_to,
)

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HASHED_MODULE = re.compile(r"/static/conversations/console/(?P<name>[\w-]+)\.[0-9a-f]{12}\.js$")


def test_the_console_runs_on_the_hashed_modules_collectstatic_made(daphne_factory, page, tenant, agent, tmp_path):
    # given the static files collected as for production and a daphne process serving them with DEBUG off
    collected = tmp_path / "static"
    result = collect_static(collected)
    assert result.returncode == 0, result.stdout + result.stderr
    server = daphne_factory(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(45),
        STATIC_ROOT=str(collected),
        SECURE_SSL_REDIRECT="0",
    )
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    requested, refused, errors = [], [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda response: refused.append(response.url) if response.status >= 400 else None)
    page.on("requestfailed", lambda request: refused.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    # when the agent signs in, goes online and a visitor writes
    log_in_to_console(page, server, agent)
    go_online(page)
    visitor_context, visitor = open_visitor(page.context.browser, server, tenant)
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": "Onko auki?", "client_msg_id": "v-1"})

    # then the chat reaches the console, which loaded every module once, each by its hashed name
    page.wait_for_selector("#mine-list .chat-row")
    assert "Onko auki?" in page.locator("#mine-list .ci-preview").inner_text()
    console_files = [url for url in requested if "/conversations/console/" in url]
    modules = [HASHED_MODULE.search(url) for url in console_files]
    assert all(modules), f"unhashed console files were fetched: {console_files}"
    assert sorted(found["name"] for found in modules) == sorted(path.stem for path in CONSOLE_SOURCE.glob("*.js"))
    assert refused == []
    assert errors == []
    visitor_context.close()
