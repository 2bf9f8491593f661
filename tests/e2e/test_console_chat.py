"""End to end: an agent in Chromium answers a visitor's real WebSocket through a real daphne process."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from tests import factories
from workforce.services import plan_shift

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/console.png"  # noqa: S108 (a file for people to look at, not a secret)
ALERT_WITHIN_MS = 1000

# Installed before the console's own script: records the frames, beeps and notifications it makes.
RECORDER = """
window.__frames = [];
window.__sent = [];
window.__beeps = 0;
window.__notifications = [];
const NativeWebSocket = window.WebSocket;
const nativeSend = NativeWebSocket.prototype.send;
NativeWebSocket.prototype.send = function (data) {
  window.__sent.push(JSON.parse(data));
  return nativeSend.call(this, data);
};
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => window.__frames.push(JSON.parse(event.data)));
  }
};
if (window.AudioContext) {
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__beeps += 1;
    return createOscillator.apply(this, arguments);
  };
}
if (window.Notification) {
  const NativeNotification = window.Notification;
  window.Notification = class extends NativeNotification {
    constructor(title, options) {
      window.__notifications.push({ title, body: options && options.body });
      super(title, options);
    }
  };
}
window.__titleAt = null;
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver(() => {
    if (window.__titleAt === null && /^\\(\\d+\\) /.test(document.title)) window.__titleAt = Date.now();
  }).observe(document.querySelector("title"), { childList: true, characterData: true, subtree: true });
});
"""

# The visitor: the browser's own WebSocket from a page of an allowed origin, as the widget would use it.
VISITOR_CONNECT = """
async (url) => {
  window.received = [];
  const socket = new WebSocket(url);
  window.visitorSocket = socket;
  socket.addEventListener("message", (event) => window.received.push(JSON.parse(event.data)));
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  socket.send(JSON.stringify({ type: "hello", url: location.href, title: document.title }));
}
"""
VISITOR_SEND = """
(frame) => {
  window.sentAt = Date.now();
  window.visitorSocket.send(JSON.stringify(frame));
  return window.sentAt;
}
"""


def on_shift_now(agent) -> None:
    now = timezone.now()
    plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))


def serve_widget_to(tenant, server, *, target_seconds: int = 10) -> None:
    tenant.allowed_origins = server.url
    tenant.first_response_target_seconds = target_seconds
    tenant.save(update_fields=["allowed_origins", "first_response_target_seconds"])


def log_in_to_console(page, server, agent) -> None:
    page.context.grant_permissions(["notifications"], origin=server.url)
    page.add_init_script(RECORDER)
    page.goto(f"{server.url}/console/")
    page.wait_for_url(f"{server.url}/accounts/login/?next=/console/")
    page.fill("input[name=username]", agent.user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console/")
    page.wait_for_selector("body[data-connection=online]")


def go_online(page) -> None:
    page.select_option("#presence", "online")
    page.wait_for_function("() => window.__frames.some(f => f.type === 'state' && f.agent.presence === 'online')")


def open_visitor(browser, server, tenant):
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    visitor = context.new_page()
    visitor.goto(f"{server.url}/accounts/login/")
    visitor.evaluate(VISITOR_CONNECT, f"{server.ws_url}/ws/widget/{tenant.widget_key}/")
    visitor.wait_for_function("() => window.received.some(f => f.type === 'welcome')")
    return context, visitor


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")


def test_agent_is_alerted_within_a_second_answers_with_enter_and_closes_the_chat(
    live_server_daphne, browser, page, tenant, agent
):
    # given an agent trained for the tenant, on shift, signed in through the login page and online
    server = live_server_daphne
    serve_widget_to(tenant, server, target_seconds=3)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    go_online(page)
    assert page.locator("#notify-button").inner_text() == "Desktop alerts on"
    visitor_context, visitor = open_visitor(page.context.browser, server, tenant)

    # when the visitor writes
    sent_at = visitor.evaluate(
        VISITOR_SEND, {"type": "message", "body": "Hei! Onko teillä gluteenitonta?", "client_msg_id": "v-1"}
    )

    # then within a second of the message being stored, the chat is in "My chats" and the tab title counts it
    page.wait_for_function("() => window.__titleAt !== null")
    title_at = page.evaluate("window.__titleAt")
    assert page.title() == "(1) Console — chatops"
    # Timed from the stored message (same machine, same clock): the visitor's side of the trip is the widget's.
    stored_at = Message.objects.get(conversation__tenant=tenant, seq=1).created_at.timestamp() * 1000
    assert title_at - stored_at < ALERT_WITHIN_MS, (
        f"the title changed {title_at - stored_at:.0f} ms after the message was stored "
        f"({title_at - sent_at:.0f} ms after the visitor sent it)"
    )
    item = page.locator("#mine-list .chat-row").first
    assert tenant.name in item.inner_text()
    assert item.locator(".ci-badge").inner_text() == "1"
    assert "Hei! Onko teillä gluteenitonta?" in item.locator(".ci-preview").inner_text()
    assert page.evaluate("window.__beeps") > 0
    page.wait_for_function("() => window.__notifications.length > 0")
    assert tenant.name in page.evaluate("window.__notifications.at(-1).title")
    conversation = Conversation.objects.get(tenant=tenant)
    assert conversation.agent_id == agent.pk

    # and the first-response timer turns amber near the target and red past it
    page.wait_for_selector("#mine-list .ci-clock.level-near")
    page.wait_for_selector("#mine-list .ci-clock.level-late")

    # when the visitor types and the agent jumps to the chat with Alt+1
    page.keyboard.press("Alt+1")
    visitor.evaluate(VISITOR_SEND, {"type": "typing", "active": True})
    page.wait_for_selector("#typing.is-active")
    assert page.locator("#messages .msg-visitor .msg-body").all_inner_texts() == ["Hei! Onko teillä gluteenitonta?"]
    assert page.title() == "Console — chatops"

    # when the agent replies with Shift+Enter for a new line and Enter to send
    composer = page.locator("#composer-input")
    assert composer.evaluate("node => node === document.activeElement")
    composer.type("Hei! Kyllä on,")
    composer.press("Shift+Enter")
    composer.type("katso listalta.")
    composer.press("Enter")

    # then the visitor's socket receives the agent's message, once
    visitor.wait_for_function("() => window.received.some(f => f.type === 'message' && f.sender === 'agent')")
    replies = visitor.evaluate("window.received.filter(f => f.type === 'message' && f.sender === 'agent')")
    assert [(reply["body"], reply["agent_name"]) for reply in replies] == [("Hei! Kyllä on,\nkatso listalta.", "Anna")]
    assert composer.input_value() == ""
    composer.press("Escape")
    assert page.evaluate("document.activeElement.classList.contains('chat-item')")
    page.wait_for_selector("#messages .msg-agent:not(.is-pending)")
    assert page.locator("#messages .msg").count() == 2
    page.wait_for_selector("#chat-frt.state-done")
    assert page.locator("#typing").inner_text() == "Visitor is typing…"
    page.screenshot(path=SCREENSHOT)

    # when the agent closes the chat as resolved
    page.click("#close-button")
    page.select_option("#close-outcome", "resolved")
    page.fill("#close-summary", "Asked about gluten-free options.")
    page.click("#close-confirm")

    # then the chat is closed in the database, the visitor is told and the console moves on
    closed = wait_for(lambda: Conversation.objects.filter(pk=conversation.pk, status="closed").first())
    assert closed.outcome == Conversation.Outcome.RESOLVED
    assert closed.summary == "Asked about gluten-free options."
    assert closed.first_agent_reply_at is not None
    assert list(Message.objects.filter(conversation=closed).values_list("sender", flat=True)) == ["visitor", "agent"]
    visitor.wait_for_function("() => window.received.some(f => f.type === 'closed')")
    page.wait_for_selector("#pane-empty:not([hidden])")
    assert page.locator("#mine-list .chat-row").count() == 0
    visitor_context.close()


def test_after_a_dropped_connection_the_console_gets_only_missed_messages_and_sends_its_outbox_once(
    live_server_daphne, page, tenant, agent
):
    # given an agent answering an open chat
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    go_online(page)
    visitor_context, visitor = open_visitor(page.context.browser, server, tenant)
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": "First question", "client_msg_id": "v-1"})
    page.wait_for_selector("#mine-list .chat-row")
    page.locator("#mine-list .chat-item").first.click()
    page.wait_for_selector("#messages .msg-visitor")
    conversation = Conversation.objects.get(tenant=tenant)
    # (the message may show from a live frame before the chat's history has arrived; wait for the history)
    page.wait_for_function(
        "(id) => window.__frames.some(f => f.type === 'history' && f.conversation.conversation === id)",
        arg=conversation.pk,
    )

    # when the connection drops, the visitor writes and the agent replies while it is down
    page.evaluate("window.chatopsConsole.simulateDrop(2500)")
    page.wait_for_selector("#banner:not([hidden])")
    assert "Reconnecting" in page.locator("#banner").inner_text()
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": "Are you there?", "client_msg_id": "v-2"})
    wait_for(lambda: conversation.messages.count() == 2)
    page.locator("#composer-input").fill("Yes, one moment please.")
    page.locator("#composer-input").press("Enter")
    assert "Will send when the connection is back" in page.locator("#messages .msg.is-pending").inner_text()
    frames_before = page.evaluate("window.__frames.length")

    # then after the reconnect the chat is re-opened from the last seen number and the reply goes out once
    page.wait_for_selector("body[data-connection=online]", timeout=15_000)
    page.wait_for_selector("#banner", state="hidden")
    visitor.wait_for_function("() => window.received.some(f => f.type === 'message' && f.sender === 'agent')")
    page.wait_for_selector("#messages .msg-agent:not(.is-pending)")
    reopened = page.evaluate(
        """(id) => window.__sent.filter(f => f.type === 'open' && f.conversation === id).map(f => f.last_seq)""",
        conversation.pk,
    )
    assert reopened[-1] == 1
    histories = page.evaluate(
        "(from) => window.__frames.slice(from).filter(f => f.type === 'history').map(f => f.messages.map(m => m.seq))",
        frames_before,
    )
    assert [2] in histories
    assert page.locator("#messages .msg-body").all_inner_texts() == [
        "First question",
        "Are you there?",
        "Yes, one moment please.",
    ]
    assert page.evaluate("window.chatopsConsole.outboxSize()") == 0
    assert conversation.messages.filter(sender=Message.Sender.AGENT).count() == 1
    replies = visitor.evaluate("window.received.filter(f => f.type === 'message' && f.sender === 'agent').length")
    assert replies == 1
    visitor_context.close()


def test_a_chat_waiting_in_the_queue_is_labelled_and_offered_and_becomes_the_agents_when_they_go_online(
    live_server_daphne, page, tenant, other_tenant, agent
):
    # given an agent who is away, and a visitor of a tenant they are trained for
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    page.select_option("#presence", "away")
    page.wait_for_function("() => window.__frames.some(f => f.type === 'state' && f.agent.presence === 'away')")
    visitor_context, visitor = open_visitor(page.context.browser, server, tenant)
    serve_widget_to(other_tenant, server)
    stranger_context, stranger = open_visitor(page.context.browser, server, other_tenant)

    # when the visitor writes, and so does a visitor of a tenant the agent is not trained for
    stranger.evaluate(VISITOR_SEND, {"type": "message", "body": "Czy ktoś tu jest?", "client_msg_id": "s-1"})
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": "Is anyone there?", "client_msg_id": "v-1"})

    # then the chat waits in the queue, labelled with its tenant, with the message and a Take button
    row = page.locator("#queue-list .chat-row").first
    row.wait_for()
    assert tenant.name in row.inner_text()
    page.wait_for_function("() => document.title === '(1) Console — chatops'")
    assert "Is anyone there?" in row.locator(".ci-preview").inner_text()
    assert row.locator(".take-inline").is_visible()
    assert page.locator("#mine-list .chat-row").count() == 0
    assert page.locator("#queue-count").inner_text() == "1"
    assert other_tenant.name not in page.content()
    assert not page.evaluate("() => window.__frames.some(f => f.body === 'Czy ktoś tu jest?')")

    # when the agent, still away, moves to it with the keyboard and presses Enter on "Take this chat"
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate("document.activeElement.id") == "take-button"
    page.keyboard.press("Enter")

    # then the server refuses and the console says why, keeping the chat in the queue
    page.wait_for_selector(".toast-error")
    assert "not online and on shift" in page.locator(".toast-error").inner_text()
    assert page.locator("#queue-list .chat-row").count() == 1
    assert page.locator("#take-button").is_visible()

    # when the agent goes online
    go_online(page)

    # then routing gives them the chat and it moves to "My chats" with the reply box ready
    page.wait_for_selector("#mine-list .chat-row")
    assert page.locator("#queue-list .chat-row").count() == 0
    assert page.locator("#composer").is_visible()
    assert Conversation.objects.get(tenant=tenant).agent_id == agent.pk
    assert page.locator("#queue-list .chat-row").count() == 0
    visitor_context.close()
    stranger_context.close()


def test_when_the_session_has_ended_the_console_asks_to_sign_in_instead_of_reconnecting_forever(
    live_server_daphne, page, agent
):
    # given an agent in the console
    server = live_server_daphne
    log_in_to_console(page, server, agent)

    # when their session ends (cookies gone) and the connection drops
    page.context.clear_cookies()
    page.evaluate("window.chatopsConsole.simulateDrop(0)")

    # then the banner says so and offers the login page, which returns to the console
    page.wait_for_selector("#banner-signin:not([hidden])", timeout=15_000)
    assert page.locator("#banner-text").inner_text() == "Your session has ended. Sign in again to continue."
    assert page.locator("#banner-retry").is_hidden()
    page.click("#banner-signin")
    page.wait_for_url(f"{server.url}/accounts/login/?next=/console/")
