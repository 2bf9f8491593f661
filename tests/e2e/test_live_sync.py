"""End to end, in Chromium: what the live feed loses the clients fetch; the console sees a visitor leave."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conversations import services, timers
from conversations.models import Conversation
from tests import factories
from tests.conversations.sockets import store_unpublished
from tests.e2e.test_console_chat import go_online, log_in_to_console, on_shift_now, serve_widget_to
from tests.e2e.test_transfer import chat_from_a_visitor
from tests.e2e.test_widget_page import (
    agent_on_duty,
    eventually,
    in_thread,
    open_all_week,
    own_rows,
    put_snippet_on,
    restart_daphne_on,
)

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The widget pings every 20 s; a lost last message shows after the next one.
PING_AND_MARGIN_MS = 35_000
AGENT_LINES = (
    "() => [...document.querySelector('chatops-widget').shadowRoot.querySelectorAll('.m .r[data-seq]:not(.me) p')]"
    ".map(p => p.textContent)"
)


def widget_chat(page, client_site, server, question: str):
    """Open the client's page, write a question in the widget and return the tenant, agent and chat."""
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin)
    open_all_week(tenant)
    anna = agent_on_duty(tenant, "Anna")
    put_snippet_on(client_site, server, tenant)
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    composer = page.locator("chatops-widget .k textarea")
    composer.fill(question)
    composer.press("Enter")
    own_rows(page).filter(has_text=question).locator("small", has_text="Sent").wait_for()
    return tenant, anna, Conversation.objects.get(tenant=tenant)


def test_the_widget_fetches_a_message_the_live_feed_lost_and_a_lost_last_one_at_its_next_ping(
    live_server_daphne, client_site, page
):
    # given a chat under way in the widget
    _tenant, anna, conversation = widget_chat(page, client_site, live_server_daphne, "Are you open on Sunday?")

    # when an answer's event is lost and the next one arrives (a gap: 3 after 1)
    in_thread(lambda: store_unpublished(conversation, "Yes, from ten"))
    in_thread(lambda: services.post_agent_message(conversation=conversation, agent=anna, body="And until four."))

    # then the widget fetches the lost one, and shows both in their order
    page.locator("chatops-widget .r:not(.me) p", has_text="Yes, from ten").wait_for()
    assert page.evaluate(AGENT_LINES) == ["Yes, from ten", "And until four."]

    # when the last answer's event is lost too, with nothing after it
    in_thread(lambda: store_unpublished(conversation, "Welcome!"))

    # then the widget's next ping shows it, and it has every message up to the last
    page.locator("chatops-widget .r:not(.me) p", has_text="Welcome!").wait_for(timeout=PING_AND_MARGIN_MS)
    assert page.evaluate(AGENT_LINES) == ["Yes, from ten", "And until four.", "Welcome!"]
    assert page.evaluate("() => window.chatopsWidget.state.lastSeq") == 4


def test_the_widget_gets_a_reply_written_while_its_server_was_down(live_server_daphne, client_site, page):
    # given a chat under way, and then the server going away
    _tenant, anna, conversation = widget_chat(page, client_site, live_server_daphne, "Can I book a table?")
    port = live_server_daphne.port
    live_server_daphne.stop()
    page.locator("chatops-widget .z", has_text="Reconnecting…").wait_for()

    # when the agent answers meanwhile (from another process)
    in_thread(lambda: services.post_agent_message(conversation=conversation, agent=anna, body="Of course."))

    # then the widget, back on the same address, shows the answer once
    restarted = restart_daphne_on(port, env=live_server_daphne.env)
    try:
        page.locator("chatops-widget .r:not(.me) p", has_text="Of course.").wait_for(timeout=25_000)
        assert page.evaluate(AGENT_LINES) == ["Of course."]
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


VISITOR_AGAIN = """
async ({url, token}) => {
  const socket = new WebSocket(url);
  window.visitorSocket = socket;
  await new Promise((resolve) => socket.addEventListener("open", resolve));
  socket.send(JSON.stringify({ type: "hello", token, last_seq: 1 }));
}
"""


def test_the_console_shows_that_the_visitor_left_and_the_chat_ends_after_the_tenants_time(
    live_server_daphne, browser, page, tenant, agent
):
    # given an agent online with a visitor's chat open in the console
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    go_online(page)
    conversation, visitor_context, visitor = chat_from_a_visitor(page, browser, server, tenant, "Where's my parcel?")
    page.locator("#mine-list .chat-item").first.click()
    page.wait_for_selector("#messages .msg-visitor")
    notice = page.locator("#chat-notice")
    assert notice.is_hidden()
    token = visitor.evaluate("() => window.received.find(f => f.type === 'welcome').token")

    # when the visitor closes their only page with the chat
    visitor.evaluate("() => window.visitorSocket.close()")

    # then the console says so above the chat and in the list
    notice.filter(has_text="The visitor has left").wait_for()
    assert page.locator("#mine-list .ci-left").is_visible()

    # when they come back, it goes
    visitor.evaluate(VISITOR_AGAIN, {"url": f"{server.ws_url}/ws/widget/{tenant.widget_key}/", "token": token})
    notice.wait_for(state="hidden")
    assert page.locator("#mine-list .ci-left").is_hidden()

    # when they leave again and the tenant's 10 minutes pass
    visitor.evaluate("() => window.visitorSocket.close()")
    notice.filter(has_text="The visitor has left").wait_for()
    eventually(lambda: Conversation.objects.get(pk=conversation.pk).visitor_sockets == 0, what="visitor counted gone")
    later = timezone.now() + dt.timedelta(minutes=10, seconds=5)
    closed = in_thread(lambda: timers.close_abandoned_chats(now=later))

    # then the chat ends as "visitor left", and the console says why
    assert closed == 1
    notice.filter(has_text="the visitor left and did not come back").wait_for()
    conversation.refresh_from_db()
    assert conversation.outcome == Conversation.Outcome.VISITOR_LEFT
    visitor_context.close()
