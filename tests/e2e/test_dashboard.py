"""End to end: a client's dashboard in Chromium follows a visitor's new chat live, and draws its charts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conversations.models import LIVE_CHAT_CLOCK, Conversation
from conversations.services import record_clock_run
from tenants.models import Tenant
from tests import factories
from tests.reporting.histories import make_chat

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAITING_NOW = '[data-figure="now.waiting"] .figure-value'

# The visitor: the browser's own WebSocket from a page of an allowed origin, as the widget would use it.
VISITOR_STARTS_A_CHAT = """
async (url) => {
  const socket = new WebSocket(url);
  window.received = [];
  socket.addEventListener("message", (event) => window.received.push(JSON.parse(event.data)));
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  socket.send(JSON.stringify({ type: "hello", url: location.href, title: document.title }));
  socket.send(JSON.stringify({ type: "message", body: "Is the shop open on Sunday?", client_msg_id: "e2e-1" }));
  window.visitorSocket = socket;
}
"""


def test_a_clients_dashboard_shows_a_new_chat_waiting_without_a_reload(live_server_daphne, browser, page):
    # given a live tenant with one chat three days ago, and its contact signed in on the dashboard
    server = live_server_daphne
    shop = factories.make_tenant(name="Shop", language="en", allowed_origins=server.url, status=Tenant.Status.LIVE)
    make_chat(shop, timezone.now() - dt.timedelta(days=3), replied=4, assigned=2, closed=300, outcome="resolved")
    contact = factories.make_client_user(tenant=shop)
    page.goto(f"{server.url}/dashboard/")
    page.fill("input[name=username]", contact.user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard/")
    page.wait_for_selector("body[data-connection=live]")
    # the badge is about the page's updates, not about the client's chat being up
    assert page.inner_text("#connection-text") == "Live updates on"
    assert page.inner_text(WAITING_NOW).strip() == "0"
    page.evaluate("window.sameDocument = true")

    # when a visitor starts a chat that no agent can take
    visitor_context = browser.new_context(locale="en-US")
    visitor = visitor_context.new_page()
    visitor.goto(f"{server.url}/accounts/login/")
    visitor.evaluate(VISITOR_STARTS_A_CHAT, f"{server.ws_url}/ws/widget/{shop.widget_key}/")
    visitor.wait_for_function("() => window.received.some(f => f.type === 'ack')")

    # then the dashboard shows it waiting, in the same document
    page.wait_for_function(f"() => document.querySelector('{WAITING_NOW}').textContent.trim() === '1'")
    assert page.evaluate("window.sameDocument") is True
    assert Conversation.objects.filter(tenant=shop, status=Conversation.Status.WAITING).count() == 1
    # and the 30-day chart has a bar for every day: three days ago one chat, today one chat
    bars = page.locator("#chart-chats rect.bar")
    assert bars.count() == 30
    assert bars.nth(26).get_attribute("data-value") == "1"
    page.wait_for_function("() => document.querySelector('#chart-chats rect.is-today').dataset.value === '1'")
    assert page.locator("#chart-first-response circle.point").count() == 1
    visitor_context.close()


def test_the_board_counts_the_clocks_silence_up_and_turns_red_past_30_seconds(live_server_daphne, page, ops_manager):
    # given the live-chat clock last ran 26 s ago (no worker runs beside this daphne), and the board open
    server = live_server_daphne
    record_clock_run(name=LIVE_CHAT_CLOCK, now=timezone.now() - dt.timedelta(seconds=26))
    page.goto(f"{server.url}/operations/board/")
    page.fill("input[name=username]", ops_manager.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"{server.url}/operations/board/")
    clock = page.locator("[data-clock]")
    assert "is-late" not in (clock.get_attribute("class") or "")
    assert page.locator("[data-late-flag]").is_hidden()

    # when the seconds go by without a run, then the count goes on and the line turns red with its warning
    page.wait_for_function("() => document.querySelector('[data-clock]').classList.contains('is-late')", timeout=15_000)
    assert page.locator("[data-late-flag]").is_visible()
    seconds = int(page.inner_text("[data-clock] [data-ago]").split()[0])
    assert seconds > 30

    # when the clock runs again, then the next board frame shows it fresh (every 10 s at most)
    record_clock_run(name=LIVE_CHAT_CLOCK)
    page.wait_for_function(
        "() => !document.querySelector('[data-clock]').classList.contains('is-late')", timeout=20_000
    )
    assert page.locator("[data-late-flag]").is_hidden()
