"""Hostile text in a real browser: what visitors wrote is shown, never run (issue 12)."""

from __future__ import annotations

import pytest

from accounts import roles
from conversations.models import Message
from tests import factories
from tests.conftest import free_port
from tests.e2e.test_widget_page import eventually, open_all_week
from tests.reporting.conftest import add_recipients, make_live
from tests.reporting.report_history import make_history
from tests.reporting.test_report_preview_escaping import PAYLOAD, poison

pytestmark = [pytest.mark.services, pytest.mark.browser]

# Anything the payload runs leaves a mark: an alert (a dialog) or an <img src=x> in the document.
INJECTED = "() => document.querySelectorAll('img[src=x], img[src$=\"/x\"]').length"


def log_in_to_admin(page, server, user) -> None:
    page.goto(f"{server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{server.url}/admin/")


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_the_report_preview_shows_a_visitors_markup_as_text(live_server_daphne, page, tenant, kind):
    # given a report whose comments, lead, handoff and tenant name carry a script
    add_recipients(tenant, "kahvila.example")
    shop = make_live(tenant)
    poison(shop, make_history(shop))
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in_to_admin(page, live_server_daphne, manager)

    # when the manager previews it
    page.goto(
        f"{live_server_daphne.url}/admin/reporting/reportdelivery/preview/?tenant={shop.pk}&kind={kind}&day=2026-11-18"
    )
    page.wait_for_selector("#report-text")
    page.wait_for_timeout(300)  # an image error handler runs once the image has failed to load

    # then the text is there as text, and nothing ran or was injected
    assert f"{PAYLOAD} comment" in page.inner_text("#report-text")
    assert page.evaluate(INJECTED) == 0
    assert dialogs == []


def test_the_admins_try_the_widget_page_shows_the_widget_and_a_test_chat_works(daphne_factory, page, tenant):
    # given chatops served at an address that is its own origin, and a tenant whose sites are elsewhere
    port = free_port()
    server = daphne_factory(port=port, OWN_ORIGINS=f"http://127.0.0.1:{port}")
    tenant.allowed_origins = "https://www.kahvila.example"
    tenant.save(update_fields=["allowed_origins"])
    open_all_week(tenant)
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    log_in_to_admin(page, server, manager)

    # when the manager presses "Try the widget" and writes in it
    page.goto(f"{server.url}/admin/tenants/tenant/{tenant.pk}/widget-preview/")
    # (once the widget has said hello: until then it cannot know whether to offer the chat or the form)
    page.wait_for_function("() => window.chatopsWidget && window.chatopsWidget.state.ready")
    page.locator("chatops-widget .l").click()
    composer = page.locator("chatops-widget .k textarea")
    composer.fill("Onboarding test chat")
    composer.press("Enter")

    # then the widget is there and the test chat is stored, without counting as installed at the client
    page.wait_for_function("() => window.chatopsWidget.state.lastSeq === 1 && window.chatopsWidget.state.outbox === 0")
    stored = eventually(lambda: Message.objects.filter(tenant=tenant).first(), what="stored message")
    assert stored.body == "Onboarding test chat"
    tenant.refresh_from_db()
    assert tenant.widget_first_seen_at is None


def test_a_page_with_an_unknown_widget_key_says_why_in_the_browsers_console(live_server_daphne, client_site, page):
    # given a client page whose snippet carries a key chatops does not know
    client_site.pages["/"] = (
        f'<!doctype html><title>Shop</title><script async src="{live_server_daphne.url}/widget.js" '
        'data-key="wk_nobody"></script>'
    )
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)

    # when the page opens
    page.goto(client_site.origin + "/")

    # then the browser's console names the refusal, and no widget is drawn
    page.wait_for_function("() => document.readyState === 'complete'")
    for _ in range(100):  # Playwright delivers console events while it is called, not during a sleep
        if any("unknown widget key" in text for text in warnings):
            break
        page.wait_for_timeout(100)
    assert any("unknown widget key" in text for text in warnings), warnings
    assert page.locator("chatops-widget").count() == 0
