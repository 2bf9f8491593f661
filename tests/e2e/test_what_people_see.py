"""End to end, in Chromium: small things a visitor or an agent sees that must not mislead them.

The widget's header agrees with its body when nobody is free; after a chat ends its end is in view; a
queued card keeps the client's whole name beside its Take button; a message left outside service hours
shows no first-response timer running red.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conversations import offline, outcomes, services
from conversations.models import Conversation
from tests import factories
from tests.e2e.test_console_chat import go_online, log_in_to_console, on_shift_now, serve_widget_to
from tests.e2e.test_transfer import chat_from_a_visitor
from tests.e2e.test_widget_page import (
    agent_on_duty,
    eventually,
    in_thread,
    open_all_week,
    own_rows,
    put_snippet_on,
)

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "chatops-widget .h small"
LIST_AT_ITS_END = """() => {
  const list = document.querySelector('chatops-widget').shadowRoot.querySelector('.m');
  return list.scrollHeight - list.clientHeight - list.scrollTop <= 2;
}"""
# Whether the system line with this text lies inside the part of the message list on screen.
LINE_IN_VIEW = """(text) => {
  const list = document.querySelector('chatops-widget').shadowRoot.querySelector('.m');
  const line = [...list.querySelectorAll('.s')].find((node) => node.textContent.includes(text));
  const [box, seen] = [line.getBoundingClientRect(), list.getBoundingClientRect()];
  return box.top >= seen.top && box.bottom <= seen.bottom;
}"""
CUT_SHORT = "node => node.scrollWidth > node.clientWidth"


def write_in_widget(page, question: str) -> None:
    composer = page.locator("chatops-widget .k textarea")
    composer.fill(question)
    composer.press("Enter")
    own_rows(page).filter(has_text=question).locator("small", has_text="Sent").wait_for()


def test_the_widget_header_does_not_say_online_while_the_body_says_nobody_is_free(
    live_server_daphne, client_site, page
):
    # given a client open now with nobody on duty
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin, language="en")
    open_all_week(tenant)
    put_snippet_on(client_site, live_server_daphne, tenant)
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    page.locator(HEADER, has_text="We're online").wait_for()

    # when the visitor writes and waits
    write_in_widget(page, "Is anyone there?")

    # then the body says nobody is available, and the header no longer says the team is online
    page.locator("chatops-widget .q", has_text="Nobody is available to chat right now.").wait_for()
    header = page.locator(HEADER)
    assert header.inner_text() == "Nobody is free right now"
    assert header.evaluate("node => node.className") == ""


def test_after_a_chat_ends_its_end_and_the_escalation_promise_are_in_view(live_server_daphne, client_site, page):
    # given a long chat in the widget, enough to scroll
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin, language="en")
    open_all_week(tenant)
    anna = agent_on_duty(tenant, "Anna")
    put_snippet_on(client_site, live_server_daphne, tenant)
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    write_in_widget(page, "I was charged twice for my order.")
    conversation = Conversation.objects.get(tenant=tenant)
    for n in range(12):
        in_thread(lambda n=n: services.post_agent_message(conversation=conversation, agent=anna, body=f"Checking {n}"))
    page.locator("chatops-widget .r:not(.me) p", has_text="Checking 11").wait_for()

    # when the agent escalates it to the client with a promise and the chat ends
    in_thread(
        lambda: outcomes.close_with_outcome(
            conversation=conversation,
            agent=anna,
            outcome=Conversation.Outcome.ESCALATED,
            handoff={
                "summary": "Double charge on order 1234.",
                "visitor_name": "Pia",
                "visitor_email": "pia@example.com",
                "promise": "Our billing team will e-mail you",
                "promised_by": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            },
        )
    )

    # then the end of the chat and the promise are what the visitor sees, with the rating form below
    page.locator("chatops-widget .s", has_text="The chat has ended").wait_for()
    page.locator("chatops-widget .af").wait_for(state="visible")
    eventually(lambda: page.evaluate(LIST_AT_ITS_END), what="the message list scrolled to its end")
    assert page.evaluate(LINE_IN_VIEW, "The chat has ended")
    assert page.evaluate(LINE_IN_VIEW, "passing your request on to Kahvila Oy")


def test_a_queued_card_keeps_the_whole_client_name_beside_take(live_server_daphne, browser, page, tenant, agent):
    # given an agent online for a client with an ordinary name, at their limit of one chat
    tenant.name = "Kotipuoti Oy"
    tenant.save(update_fields=["name"])
    agent.max_concurrent_chats = 1
    agent.save(update_fields=["max_concurrent_chats"])
    serve_widget_to(tenant, live_server_daphne)
    on_shift_now(agent)
    log_in_to_console(page, live_server_daphne, agent)
    go_online(page)
    chat_from_a_visitor(page, browser, live_server_daphne, tenant, "First question")

    # when a second visitor writes and their chat waits in the queue
    second = browser.new_context()
    visitor = second.new_page()
    visitor.goto(f"{live_server_daphne.url}/accounts/login/")
    visitor.evaluate(
        """async (url) => {
            const socket = new WebSocket(url);
            await new Promise((resolve) => socket.addEventListener("open", resolve));
            socket.send(JSON.stringify({type: "hello"}));
            socket.send(JSON.stringify({type: "message", body: "Second question", client_msg_id: "v-2"}));
        }""",
        f"{live_server_daphne.ws_url}/ws/widget/{tenant.widget_key}/",
    )

    # then its card shows Take and the client's whole name
    card = page.locator("#queue-list .chat-row.is-queued").first
    card.locator(".take-inline").wait_for(state="visible")
    assert card.locator(".ci-tenant").inner_text() == "Kotipuoti Oy"
    assert not card.locator(".ci-tenant").evaluate(CUT_SHORT)
    second.close()


def test_a_message_left_outside_hours_shows_no_first_response_timer(live_server_daphne, page, agent, tenant):
    # given a question left in the widget's message form overnight, waiting for the next shift
    in_thread(
        lambda: offline.leave_offline_message(
            tenant=tenant, token=None, name="Pia", email="pia@example.com", question="Call me?", ip_address=None
        )
    )

    # when an agent (not on shift, so it stays in the queue) opens the console
    log_in_to_console(page, live_server_daphne, agent)
    card = page.locator("#queue-list .chat-row").first
    card.wait_for()
    page.wait_for_timeout(1_500)  # the console's clock ticks every second

    # then its card says it is a message, with no timer, and the chat's header shows no target running
    clock = card.locator(".ci-clock")
    assert clock.inner_text() == "message"
    assert "level-late" not in clock.evaluate("node => node.className")
    card.locator(".chat-item").click()
    page.locator("#chat-frt-note", has_text="left outside service hours").wait_for()
    assert "level-late" not in page.locator("#chat-frt").evaluate("node => node.className")
