"""End to end across processes: the visitor's widget on one daphne process, the agent's console on another.

Both processes use the same test database and the same Redis channel layer, as several processes behind a
load balancer do; nothing but Redis carries a message from one process's socket to the other's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.utils import translation

from conversations import widget_views
from conversations.models import Conversation, Message
from tests.e2e.test_console_chat import go_online, log_in_to_console, on_shift_now
from tests.e2e.test_widget_page import eventually, open_all_week, put_snippet_on

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# "Within a couple of seconds", measured in the browsers from the sender's Enter to the other side's screen.
WITHIN_MS = 2500


@pytest.fixture
def console_page(browser) -> Iterator:
    """Open a second browser context (own cookies and storage) for the agent's console."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_visitor_on_one_process_and_agent_on_another_see_each_others_messages_through_redis(
    daphne_factory, client_site, page, console_page, tenant, agent
):
    # given two daphne processes on the same database and Redis
    widget_server = daphne_factory()
    console_server = daphne_factory()
    assert widget_server.process.pid != console_server.process.pid
    assert widget_server.port != console_server.port

    # and a tenant open now whose site (a third port) embeds the widget from the first process
    tenant.allowed_origins = client_site.origin
    tenant.save(update_fields=["allowed_origins"])
    open_all_week(tenant)
    put_snippet_on(client_site, widget_server, tenant)

    # and Anna on shift, signed in to the console on the second process and online
    on_shift_now(agent)
    sockets: dict[str, list[str]] = {"widget": [], "console": []}
    page.on("websocket", lambda socket: sockets["widget"].append(socket.url))
    console_page.on("websocket", lambda socket: sockets["console"].append(socket.url))
    log_in_to_console(console_page, console_server, agent)
    go_online(console_page)

    # when the visitor opens the widget on the client's page and writes
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    composer = page.locator("chatops-widget .k textarea")
    composer.fill("Hei! Is the terrace open today?")
    started = time.monotonic()
    composer.press("Enter")

    # then the agent's console on the other process shows the chat with the message within a couple of seconds
    row = console_page.locator("#mine-list .chat-row", has_text="Is the terrace open today?")
    row.wait_for(timeout=WITHIN_MS)
    took_ms = (time.monotonic() - started) * 1000
    assert took_ms < WITHIN_MS, f"the console showed the message {took_ms:.0f} ms after the visitor sent it"
    assert tenant.name in row.inner_text()

    # and the message was stored once, by the first process, in the chat routed to Anna
    stored = eventually(
        lambda: Message.objects.filter(conversation__tenant=tenant, sender=Message.Sender.VISITOR).first(),
        what="stored visitor message",
    )
    assert stored.body == "Hei! Is the terrace open today?"
    conversation = Conversation.objects.get(tenant=tenant)
    assert conversation.agent_id == agent.pk

    # and each browser talked only to its own process
    assert sockets["widget"] and all(url.startswith(widget_server.ws_url + "/") for url in sockets["widget"])
    assert sockets["console"] and all(url.startswith(console_server.ws_url + "/") for url in sockets["console"])

    # when Anna opens the chat and replies on the second process
    row.locator(".chat-item").click()
    console_page.locator("#messages .msg-visitor", has_text="Is the terrace open today?").wait_for()
    reply = console_page.locator("#composer-input")
    reply.fill("Hei! Yes, the terrace is open until 22.")
    started = time.monotonic()
    reply.press("Enter")

    # then the visitor's widget, served by the first process, shows the reply within a couple of seconds
    answer = page.locator("chatops-widget .r:not(.me) p", has_text="the terrace is open until 22")
    answer.wait_for(timeout=WITHIN_MS)
    took_ms = (time.monotonic() - started) * 1000
    assert took_ms < WITHIN_MS, f"the widget showed the reply {took_ms:.0f} ms after the agent sent it"
    page.locator("chatops-widget .h", has_text="Anna").wait_for()

    # and the reply was stored once as Anna's, after the visitor's message
    console_page.locator("#messages .msg-agent:not(.is-pending)").wait_for()
    messages = list(Message.objects.filter(conversation=conversation).order_by("seq"))
    assert [(m.seq, m.sender, m.body) for m in messages] == [
        (1, Message.Sender.VISITOR, "Hei! Is the terrace open today?"),
        (2, Message.Sender.AGENT, "Hei! Yes, the terrace is open until 22."),
    ]
    assert messages[1].agent_id == agent.pk

    # and the widget marks the visitor's question as seen, which also travels back through Redis
    with translation.override(tenant.language):
        seen = str(widget_views.UI_STRINGS["seen"])
    page.locator("chatops-widget .r.me", has_text="terrace open today").locator("small", has_text=seen).wait_for()
