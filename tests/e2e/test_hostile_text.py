"""Hostile text in a real browser: what visitors wrote is shown, never run (issue 12)."""

from __future__ import annotations

import pytest

from chatops import roles
from tests import factories
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
