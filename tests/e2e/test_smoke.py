"""Smoke test: a real daphne process serves the styled admin and an operations manager gets in."""

import pytest

from accounts import roles
from tests import factories

pytestmark = [pytest.mark.services, pytest.mark.browser]


def test_operations_manager_logs_in_to_the_styled_admin_served_by_daphne(live_server_daphne, page):
    # given
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)

    # when
    with page.expect_response(lambda response: response.url.endswith("/static/admin/css/base.css")) as stylesheet:
        page.goto(f"{live_server_daphne.url}/admin/login/")

    # then the login form is there and styled
    assert stylesheet.value.status == 200
    applied_rules = page.evaluate(
        """() => Array.from(document.styleSheets)
            .filter(sheet => sheet.href && sheet.href.endsWith('/static/admin/css/base.css'))
            .reduce((count, sheet) => count + sheet.cssRules.length, 0)"""
    )
    assert applied_rules > 0
    assert page.locator("#login-form").is_visible()

    # when
    page.fill("#id_username", manager.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("#login-form [type=submit]")

    # then the admin index greets the manager
    page.wait_for_url(f"{live_server_daphne.url}/admin/")
    assert page.locator("#logout-form").count() == 1
    assert page.locator("#login-form").count() == 0
    assert page.locator("#content-main").is_visible()
