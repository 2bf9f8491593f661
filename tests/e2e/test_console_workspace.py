"""End to end: beside the chat in Chromium — the client's card, knowledge base, canned responses, notes, closing."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message, Note
from tenants.models import CannedResponse, ChangeNotice, KnowledgeArticle, Tenant
from tests.e2e.test_console_chat import (
    VISITOR_SEND,
    go_online,
    log_in_to_console,
    on_shift_now,
    open_visitor,
    serve_widget_to,
    wait_for,
)
from workforce.models import ChangeNoticeAcknowledgement

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/console-workspace.png"  # noqa: S108 (a file for people to look at, not a secret)
ARTICLE_TEXT = "Täytekakut tilataan vähintään kolme päivää etukäteen. Hinnat alkaen 45 euroa."
CANNED_TEXT = "Kiitos tilauksesta! Vahvistamme sen sähköpostilla tunnin sisällä."


def cafe_knowledge(tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(
        tone=Tenant.Tone.CASUAL,
        style_notes="Sinuttele asiakasta.",
        goals=["leads"],
        escalation_rules="Isot tilaukset myyntiin; lupaa soitto seuraavana arkipäivänä.",
    )
    KnowledgeArticle.objects.create(
        tenant=tenant, title="Kakkutilaukset", keywords="kakku, täytekakku, tilaus", body=ARTICLE_TEXT
    )
    KnowledgeArticle.objects.create(
        tenant=tenant, title="Aukioloajat", keywords="auki, avoinna", body="Avoinna arkisin 7–18."
    )
    CannedResponse.objects.create(tenant=tenant, shortcut="kiitos", text=CANNED_TEXT)
    CannedResponse.objects.create(tenant=tenant, shortcut="hei", text="Hei! Miten voin auttaa?")


def test_agent_searches_the_knowledge_base_inserts_a_hit_uses_a_shortcut_writes_a_note_and_closes_with_a_lead(
    live_server_daphne, browser, page, tenant, agent
):
    # given a café with a knowledge base and canned responses, and an agent on duty with a visitor's chat
    server = live_server_daphne
    serve_widget_to(tenant, server)
    cafe_knowledge(tenant)
    on_shift_now(agent)
    log_in_to_console(page, server, agent)
    go_online(page)
    visitor_context, visitor = open_visitor(browser, server, tenant)
    visitor.evaluate(
        VISITOR_SEND, {"type": "message", "body": "Voinko tilata täytekakun synttäreille?", "client_msg_id": "v-1"}
    )
    page.wait_for_selector("#mine-list .chat-row")
    conversation = Conversation.objects.get(tenant=tenant)

    # when the agent opens the chat
    page.keyboard.press("Alt+1")

    # then the client's card is beside it: tone, style, goals and escalation rules
    card = page.locator("#ws-client")
    card.locator(".badge-tone").wait_for()
    assert card.locator(".badge-tone").inner_text() == "Casual tone"
    assert "Sinuttele asiakasta." in card.inner_text()
    assert "Sales leads" in card.inner_text()
    assert "lupaa soitto seuraavana arkipäivänä" in card.inner_text()
    assert page.locator("#ws-visitor .badge").first.inner_text() == "New visitor"

    # when she searches the knowledge base with the keyboard and inserts the first hit
    page.keyboard.press("Alt+K")
    assert page.evaluate("document.activeElement.id") == "kb-query"
    page.keyboard.type("täytekakun tilaus")
    page.keyboard.press("Enter")
    first_hit = page.locator("#kb-results .kb-hit").first
    first_hit.wait_for()
    assert first_hit.locator(".kb-title").inner_text() == "Kakkutilaukset"
    assert first_hit.locator(".kb-snippet mark").count() > 0
    first_hit.locator(".kb-insert").click()

    # then the article's text is in the reply box, which has the focus
    composer = page.locator("#composer-input")
    assert composer.input_value() == ARTICLE_TEXT
    assert page.evaluate("document.activeElement.id") == "composer-input"

    # when she adds a canned response by its shortcut, choosing it with the arrow keys and Enter
    composer.press("End")
    composer.press("Shift+Enter")
    composer.type("/")
    page.locator("#canned .canned-option").nth(1).wait_for()
    assert page.locator("#canned .canned-shortcut").all_inner_texts() == ["/hei", "/kiitos"]
    composer.type("ki")
    page.wait_for_function("() => document.querySelectorAll('#canned .canned-option').length === 1")
    assert page.locator("#canned .canned-option").get_attribute("aria-selected") == "true"
    composer.press("Enter")

    # then the shortcut is replaced by the text, nothing was sent yet, and Enter now sends the whole reply
    assert composer.input_value() == ARTICLE_TEXT + "\n" + CANNED_TEXT
    assert page.locator("#canned").is_hidden()
    assert not Message.objects.filter(conversation=conversation, sender=Message.Sender.AGENT).exists()
    composer.press("Enter")
    visitor.wait_for_function("() => window.received.some(f => f.type === 'message' && f.sender === 'agent')")
    reply = visitor.evaluate("window.received.find(f => f.type === 'message' && f.sender === 'agent')")
    assert reply["body"] == ARTICLE_TEXT + "\n" + CANNED_TEXT

    # when she writes a private note with the keyboard
    page.keyboard.press("Alt+N")
    page.keyboard.type("Haluaa 20 hengen kakun, <b>lauantaiksi</b>")
    page.keyboard.press("Control+Enter")

    # then it is listed as hers, stored for the chat, and never sent to the visitor
    note = page.locator("#notes-list .note")
    note.wait_for()
    assert note.locator(".note-body").inner_text() == "Haluaa 20 hengen kakun, <b>lauantaiksi</b>"
    assert note.locator(".note-author").inner_text() == "Anna"
    stored = wait_for(lambda: Note.objects.filter(conversation=conversation).first())
    assert (stored.agent_id, stored.body) == (agent.pk, "Haluaa 20 hengen kakun, <b>lauantaiksi</b>")
    assert "lauantaiksi" not in str(visitor.evaluate("window.received"))

    # when she closes the chat as a lead, with a phone number the server cannot accept
    page.click("#close-button")
    assert page.locator("#close-outcome").input_value() == ""
    page.select_option("#close-outcome", "lead")
    page.fill("#close-lead-name", "Maija Meikäläinen")
    page.fill("#close-lead-email", "maija@example.com")
    page.fill("#close-lead-phone", "call me")
    page.fill("#close-lead-wants", "Täytekakku 20 hengelle lauantaiksi")
    page.screenshot(path=SCREENSHOT)
    page.click("#close-confirm")

    # then the server's refusal is shown beside the phone field and the dialog stays open
    phone_error = page.locator("#close-lead-phone-error")
    phone_error.wait_for()
    assert phone_error.inner_text() == "Enter a phone number of digits, like +358 40 123 4567."
    assert page.locator("#close-lead-phone").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "close-lead-phone"
    assert page.locator("#close-dialog").is_visible()
    assert Conversation.objects.get(pk=conversation.pk).status != Conversation.Status.CLOSED

    # when she corrects the number and closes again
    page.fill("#close-lead-phone", "+358 40 123 4567")
    page.click("#close-confirm")

    # then the chat is closed as a lead with the contact the client follows up, and the console moves on
    closed = wait_for(lambda: Conversation.objects.filter(pk=conversation.pk, status="closed").first())
    assert closed.outcome == Conversation.Outcome.LEAD
    lead = closed.lead
    assert (lead.name, lead.email, lead.phone, lead.wants) == (
        "Maija Meikäläinen",
        "maija@example.com",
        "+358 40 123 4567",
        "Täytekakku 20 hengelle lauantaiksi",
    )
    page.wait_for_selector("#close-dialog", state="hidden")
    page.locator(".toast", has_text="Chat closed.").wait_for()
    page.wait_for_selector("#pane-empty:not([hidden])")
    visitor.wait_for_function("() => window.received.some(f => f.type === 'closed')")
    sent = page.evaluate("window.__sent.filter(f => f.type === 'close').at(-1)")
    assert sent["lead"]["wants"] == "Täytekakku 20 hengelle lauantaiksi" and "handoff" not in sent
    visitor_context.close()


def test_unread_change_notices_nag_across_a_reload_until_acknowledged_and_closing_needs_an_outcome(
    live_server_daphne, browser, page, tenant, agent
):
    # given a change notice at the agent's client, and a chat of hers
    server = live_server_daphne
    serve_widget_to(tenant, server)
    on_shift_now(agent)
    notice = ChangeNotice.objects.create(tenant=tenant, title="Uusi hinnasto", body="Hinnat nousevat 1.12.")

    # when she signs in
    log_in_to_console(page, server, agent)

    # then the console nags about the notice, and again after a reload
    nag = page.locator("#notice-nag")
    nag.wait_for()
    assert "Uusi hinnasto" in nag.inner_text()
    page.reload()
    page.wait_for_selector("body[data-connection=online]")
    assert nag.is_visible()

    # when she opens the notices and confirms she has read it
    page.click("#notice-nag-open")
    dialog = page.locator("#notices-dialog")
    dialog.locator(".notice-item", has_text="Uusi hinnasto").wait_for()
    assert page.evaluate("document.activeElement.classList.contains('notice-ack')")
    page.keyboard.press("Enter")

    # then the acknowledgement is stored and the nag is gone, also after a reload
    wait_for(lambda: ChangeNoticeAcknowledgement.objects.filter(notice=notice, agent=agent).exists())
    dialog.locator("#notices-status", has_text="All change notices read").wait_for()
    page.keyboard.press("Escape")
    nag.wait_for(state="hidden")
    page.reload()
    page.wait_for_selector("body[data-connection=online]")
    assert nag.is_hidden()

    # when a visitor writes and she tries to close the chat without choosing an outcome
    go_online(page)
    visitor_context, visitor = open_visitor(browser, server, tenant)
    visitor.evaluate(VISITOR_SEND, {"type": "message", "body": "Hei?", "client_msg_id": "v-1"})
    page.wait_for_selector("#mine-list .chat-row")
    page.keyboard.press("Alt+1")
    page.click("#close-button")
    assert page.locator("#close-outcome").input_value() == ""
    page.click("#close-confirm")

    # then the dialog stays open, says why beside the outcome, and nothing was sent
    error = page.locator("#close-outcome-error")
    error.wait_for()
    assert error.inner_text() == "Choose an outcome."
    assert page.evaluate("document.activeElement.id") == "close-outcome"
    assert page.locator("#close-dialog").is_visible()
    assert not page.evaluate("window.__sent.some(f => f.type === 'close')")

    # when she picks "Lead" the lead's fields appear, and without contact details the dialog says so
    page.select_option("#close-outcome", "lead")
    assert page.locator("#close-lead").is_visible() and page.locator("#close-handoff").is_hidden()
    page.fill("#close-lead-wants", "Kakku 20 hengelle")
    page.click("#close-confirm")
    page.locator("#close-lead-email-error", has_text="Give an e-mail address or a phone number.").wait_for()
    assert page.evaluate("document.activeElement.id") == "close-lead-email"
    assert not page.evaluate("window.__sent.some(f => f.type === 'close')")
    assert Conversation.objects.get(tenant=tenant).status != Conversation.Status.CLOSED
    visitor_context.close()
