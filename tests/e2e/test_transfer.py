"""End to end: an agent hands a chat to a colleague from the console, with a note, through a real daphne process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conversations.models import Conversation, Message, Transfer
from tests import factories
from tests.e2e.test_console_chat import (
    VISITOR_SEND,
    go_online,
    log_in_to_console,
    on_shift_now,
    open_visitor,
    serve_widget_to,
    wait_for,
)
from tests.e2e.test_widget_page import agent_on_duty
from workforce.models import Agent

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/transfer.png"  # noqa: S108 (a file for people to look at, not a secret)
NOTE = "Order 1234 — wants a refund"


@pytest.fixture
def colleague_page(browser) -> Iterator:
    """Open a second browser context (own cookies and storage) for a colleague's console."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def chat_from_a_visitor(page, browser, server, tenant, body: str):
    """Let a visitor write, wait until the chat is in the signed-in agent's list, and return it with the visitor."""
    visitor_context, visitor = open_visitor(browser, server, tenant)
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": body, "client_msg_id": "v-1"})
    page.wait_for_selector("#mine-list .chat-row")
    return Conversation.objects.get(tenant=tenant), visitor_context, visitor


def test_agent_transfers_a_chat_with_a_note_and_the_colleague_sees_the_note_until_replying(
    live_server_daphne, browser, page, colleague_page, tenant, agent
):
    # given Anna and Bea, both trained for the tenant, on shift and signed in to the console
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    bea = factories.make_agent(trained_for=[tenant], display_name="Bea")
    on_shift_now(bea)
    log_in_to_console(page, server, agent)
    go_online(page)
    log_in_to_console(colleague_page, server, bea)

    # and a visitor's chat that went to Anna (Bea comes online only after it was routed)
    conversation, visitor_context, visitor = chat_from_a_visitor(
        page, browser, server, tenant, "I want my money back for order 1234"
    )
    assert conversation.agent_id == agent.pk
    go_online(colleague_page)
    assert colleague_page.locator("#mine-list .chat-row").count() == 0
    assert colleague_page.title() == "Console — chatops"
    beeps_before = colleague_page.evaluate("window.__beeps")

    # when Anna opens the chat and clicks "Transfer…"
    page.locator("#mine-list .chat-item").first.click()
    page.wait_for_selector("#messages .msg-visitor")
    assert page.locator("#transfer-button").inner_text() == "Transfer…"
    page.click("#transfer-button")

    # then a dialog lists Bea with her current load, and the focus is inside it
    dialog = page.locator("#transfer-dialog")
    colleague = dialog.locator(".colleague", has_text="Bea")
    colleague.wait_for()
    assert dialog.locator(".colleague").count() == 1
    assert colleague.locator(".colleague-load").inner_text() == "0 chats"
    assert page.evaluate("document.getElementById('transfer-dialog').contains(document.activeElement)")

    # when she picks Bea, writes a note and confirms
    colleague.click()
    dialog.locator("#transfer-note-input").fill(NOTE)
    page.screenshot(path=SCREENSHOT)
    dialog.locator("#transfer-confirm").click()

    # then the chat leaves Anna's list, she is told, and her console moves on
    page.wait_for_selector("#transfer-dialog", state="hidden")
    page.locator(".toast", has_text="Chat transferred to Bea.").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#mine-list .chat-row').length === 0")
    page.wait_for_selector("#pane-empty:not([hidden])")
    assert page.locator(".toast", has_text="not answered in time").count() == 0

    # and Bea's console alerts her: the chat is in her list, the title counts it, a sound and a notification
    row = colleague_page.locator("#mine-list .chat-row")
    row.wait_for()
    assert tenant.name in row.inner_text()
    assert row.locator(".ci-transfer").inner_text() == "Transferred"
    colleague_page.wait_for_function("() => document.title === '(1) Console — chatops'")
    assert colleague_page.evaluate("window.__beeps") > beeps_before
    colleague_page.wait_for_function("() => window.__notifications.length > 0")
    notification = colleague_page.evaluate("window.__notifications.at(-1)")
    assert tenant.name in notification["title"]
    assert notification["body"] == f"Transferred by Anna: {NOTE}"

    # and the database says the chat is Bea's, with the transfer and its note recorded
    conversation.refresh_from_db()
    assert conversation.agent_id == bea.pk
    assert conversation.status == Conversation.Status.ACTIVE
    transfer = Transfer.objects.get(conversation=conversation)
    assert (transfer.from_agent_id, transfer.to_agent_id, transfer.note) == (agent.pk, bea.pk, NOTE)

    # when Bea opens the chat
    row.locator(".chat-item").click()

    # then the note is shown at the top of it, above the conversation so far
    note = colleague_page.locator("#transfer-note")
    note.wait_for()
    assert colleague_page.locator("#transfer-note-by").inner_text() == "Transferred by Anna"
    assert colleague_page.locator("#transfer-note-text").inner_text() == NOTE
    # (the note is known at once; the conversation comes with the chat's history, a moment later)
    colleague_page.locator("#messages .msg-visitor .msg-body").first.wait_for()
    assert colleague_page.locator("#messages .msg-visitor .msg-body").all_inner_texts() == [
        "I want my money back for order 1234"
    ]
    assert colleague_page.title() == "Console — chatops"

    # when Bea replies
    composer = colleague_page.locator("#composer-input")
    composer.fill("Hi, I'm Bea from billing. Let me check order 1234.")
    composer.press("Enter")

    # then the visitor gets her reply, the note goes away, and the reply is stored as hers
    visitor.wait_for_function("() => window.received.some(f => f.type === 'message' && f.sender === 'agent')")
    reply = visitor.evaluate("window.received.find(f => f.type === 'message' && f.sender === 'agent')")
    assert reply["agent_name"] == "Bea"
    assert visitor.evaluate("window.received.some(f => f.type === 'assigned' && f.agent_name === 'Bea')")
    note.wait_for(state="hidden")
    assert row.locator(".ci-transfer").is_hidden()
    stored = wait_for(lambda: Message.objects.filter(conversation=conversation, sender=Message.Sender.AGENT).first())
    assert stored.agent_id == bea.pk
    visitor_context.close()


def test_the_transfer_dialog_says_when_the_colleague_is_no_longer_free_and_when_nobody_else_can_take_the_chat(
    live_server_daphne, browser, page, tenant, agent
):
    # given Anna with a visitor's chat, and then Bea on duty for the same tenant
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    go_online(page)
    conversation, visitor_context, _visitor = chat_from_a_visitor(page, browser, server, tenant, "Hello?")
    bea = agent_on_duty(tenant, "Bea")

    # when Anna goes to the chat and opens the transfer dialog with the keyboard
    page.keyboard.press("Alt+1")
    assert page.evaluate("document.activeElement.id") == "composer-input"
    page.locator("#transfer-button").focus()
    page.keyboard.press("Enter")

    # then the focus goes to the first colleague in the dialog
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'colleague'")
    assert page.locator("#transfer-dialog .colleague-name").all_inner_texts() == ["Bea"]

    # when she picks Bea with the space bar and writes a note, but Bea goes offline before she confirms
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "transfer-note-input"
    page.keyboard.type("Wants a refund")
    Agent.objects.filter(pk=bea.pk).update(presence=Agent.Presence.OFFLINE)
    page.locator("#transfer-confirm").click()

    # then the dialog says why, the refreshed list is empty and says so, and nothing moved
    error = page.locator("#transfer-error")
    error.wait_for()
    assert error.inner_text() == "Bea cannot take this chat right now. The list shows who can."
    page.locator("#transfer-status", has_text="Nobody else can take this chat right now.").wait_for()
    assert page.locator("#transfer-dialog .colleague").count() == 0
    assert page.locator("#transfer-confirm").is_disabled()
    assert page.evaluate("document.getElementById('transfer-dialog').contains(document.activeElement)")
    conversation.refresh_from_db()
    assert conversation.agent_id == agent.pk
    assert not Transfer.objects.exists()

    # when she presses Escape
    page.keyboard.press("Escape")

    # then the dialog closes and she is back in the reply box of the same chat, still hers
    page.wait_for_selector("#transfer-dialog", state="hidden")
    page.wait_for_function("() => document.activeElement.id === 'composer-input'")
    assert page.locator("#mine-list .chat-row").count() == 1
    assert page.locator("#transfer-button").is_visible()
    visitor_context.close()
