"""End to end: an invitation on a page of the client's site (another port), accepted, answered, closed and rated.

chatops is a real daphne process; the client's site is a plain HTML page on its own port with only the
snippet; the agent works in the console in a second browser context; Chromium runs both.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from conversations import services
from conversations.models import Conversation, TranscriptRequest
from outbox.models import OutgoingEmail
from tenants.models import ProactiveRule
from tests import factories
from tests.e2e.test_console_chat import go_online, log_in_to_console, on_shift_now
from tests.e2e.test_widget_page import eventually, in_thread, open_all_week, put_snippet_on

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


SCREENSHOT = os.environ.get("PROACTIVE_SCREENSHOT", os.path.join(tempfile.gettempdir(), "widget-invitation.png"))
INVITATION = "Comparing plans? Ask us anything about prices."


@pytest.fixture
def console_page(browser) -> Iterator:
    """Open the agent's console in a browser context of its own."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def widget(page, selector: str):
    return page.locator(f"chatops-widget {selector}")


def test_an_invitation_accepted_on_the_clients_site_starts_a_proactive_chat_the_visitor_rates_after_it_closes(
    live_server_daphne, client_site, page, console_page
):
    # given a tenant open now, an invitation rule for its pricing pages after 2 s (only with an agent free),
    # and its agent online in the console
    server = live_server_daphne
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin, widget_colour="#0f766e")
    open_all_week(tenant)
    rule = ProactiveRule.objects.create(
        tenant=tenant,
        name="Pricing, 2 s",
        url_pattern="/pricing*",
        seconds_on_page=2,
        only_in_service_hours=True,
        only_when_agent_free=True,
        message=INVITATION,
    )
    agent = factories.make_agent(trained_for=[tenant], display_name="Anna", max_concurrent_chats=3)
    on_shift_now(agent)
    log_in_to_console(console_page, server, agent)
    go_online(console_page)
    put_snippet_on(client_site, server, tenant, "/pricing")
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    # when a visitor opens the pricing page and stays
    page.goto(client_site.origin + "/pricing")

    # then the invitation appears by the launcher, with the rule's text
    invitation = widget(page, ".iv")
    invitation.wait_for(state="visible")
    assert invitation.locator("p").inner_text() == INVITATION
    assert widget(page, ".p").is_hidden()
    assert not Conversation.objects.filter(tenant=tenant).exists()
    page.screenshot(path=SCREENSHOT)

    # when they accept it
    invitation.get_by_role("button", name="Chat with us").click()

    # then the chat opens with the invitation as the team's first line, and the agent has it
    widget(page, ".p").wait_for(state="visible")
    assert invitation.is_hidden()
    first = widget(page, ".r:not(.me)").filter(has_text=INVITATION)
    first.wait_for()
    assert "Kahvila Oy" in first.locator("small").inner_text()
    widget(page, ".h").filter(has_text="You're chatting with Anna").wait_for()
    conversation = eventually(lambda: Conversation.objects.filter(tenant=tenant).first(), what="conversation")
    assert conversation.origin == Conversation.Origin.PROACTIVE
    assert conversation.proactive_rule == rule
    assert conversation.agent == agent
    console_page.locator("#mine-list .chat-row", has_text="Kahvila Oy").wait_for()

    # when the visitor answers and the agent closes the chat
    composer = widget(page, ".k textarea")
    composer.fill("Is the yearly plan cheaper?")
    composer.press("Enter")
    widget(page, ".me small").filter(has_text="Sent").wait_for()
    in_thread(lambda: services.close_conversation(conversation=conversation))

    # then the visitor is asked to rate it, and can ask for the transcript
    widget(page, ".s").filter(has_text="The chat has ended").wait_for()
    after = widget(page, ".af")
    after.wait_for(state="visible")
    assert "How was the chat?" in after.inner_text()

    # when they give four stars with a comment
    after.get_by_role("button", name="4/5").click()
    after.locator("textarea").fill("Quick and friendly")
    page.screenshot(path=SCREENSHOT.replace(".png", "-rating.png"))
    after.get_by_role("button", name="Send").first.click()

    # then they are thanked, and the rating is stored
    after.locator("p").filter(has_text="Thank you for your feedback!").wait_for()
    rated = eventually(
        lambda: Conversation.objects.filter(pk=conversation.pk, rating_comment__gt="").first(), what="comment"
    )
    assert (rated.rating, rated.rating_comment) == (4, "Quick and friendly")

    # when they ask for the transcript
    after.get_by_label("E-mail me the transcript").fill("maija@example.fi")
    after.get_by_role("button", name="Send").click()

    # then they are told where it goes, and it is sent
    after.locator("p").filter(has_text="maija@example.fi").wait_for()
    sent = eventually(
        lambda: TranscriptRequest.objects.filter(
            conversation=conversation, outgoing__status=OutgoingEmail.Status.SENT
        ).first(),
        what="transcript sent",
    )
    assert sent.email == "maija@example.fi"
    assert page_errors == []
