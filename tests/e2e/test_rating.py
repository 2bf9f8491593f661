"""End to end, in Chromium: a visitor's star click is a rating by itself; the comment may follow."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.models import Conversation
from tests import factories
from tests.e2e.test_what_people_see import write_in_widget
from tests.e2e.test_widget_page import agent_on_duty, eventually, in_thread, open_all_week, put_snippet_on

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def stored_rating(conversation: Conversation) -> tuple[int | None, str]:
    stored = Conversation.objects.get(pk=conversation.pk)
    return stored.rating, stored.rating_comment


def test_a_star_click_alone_saves_the_rating_and_the_comment_after_it_updates_the_same_rating(
    live_server_daphne, client_site, page
):
    # given a visitor whose chat the agent has just closed
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin, language="en")
    open_all_week(tenant)
    agent_on_duty(tenant, "Anna")
    put_snippet_on(client_site, live_server_daphne, tenant)
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    write_in_widget(page, "Do you have oat milk?")
    conversation = Conversation.objects.get(tenant=tenant)
    in_thread(lambda: services.close_conversation(conversation=conversation))
    after = page.locator("chatops-widget .af")
    after.wait_for(state="visible")

    # when the visitor clicks four stars and does nothing more
    after.get_by_role("button", name="4/5").click()

    # then the rating is stored without the Send button, they are thanked, and the comment box stays
    assert eventually(lambda: stored_rating(conversation) == (4, ""), what="the star click stored")
    after.locator("p").filter(has_text="Thank you for your feedback!").wait_for()
    assert after.locator("textarea").is_visible()
    assert after.locator(".st .on").count() == 4

    # when they change their mind to five stars and add a comment
    after.get_by_role("button", name="5/5").click()
    eventually(lambda: stored_rating(conversation) == (5, ""), what="the second star click stored")
    after.locator("textarea").fill("Friendly and quick")
    after.get_by_role("button", name="Send").first.click()

    # then the same rating has the comment, and the rating form is done
    assert eventually(lambda: stored_rating(conversation) == (5, "Friendly and quick"), what="the comment stored")
    after.locator("textarea").wait_for(state="hidden")
    assert Conversation.objects.filter(tenant=tenant).count() == 1

    # when the page is reloaded (the widget opens as it was), the form stays done and the thanks stays
    page.reload()
    after.locator("p").filter(has_text="Thank you for your feedback!").wait_for()
    assert not after.locator("textarea").first.is_visible()
