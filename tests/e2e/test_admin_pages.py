"""End to end, in Chromium: admin pages are laid out for the person reading them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tenants.models import Tenant
from tests import factories
from tests.reporting.histories import make_chat

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The frame's height against its document's, and whether the frame itself could scroll.
FRAME_FIT = """() => {
  const frame = document.getElementById('report-html');
  const inner = frame.contentDocument.documentElement;
  return {frame: frame.clientHeight, content: inner.scrollHeight, scrolls: inner.scrollHeight > inner.clientHeight};
}"""


def log_in_to_admin(page, server, user) -> None:
    page.goto(f"{server.url}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server.url}/admin/")


def test_the_report_preview_frame_is_as_tall_as_the_report_and_never_scrolls_by_itself(
    live_server_daphne, page, ops_manager
):
    # given a live client with chats last week, and the manager in the admin
    tenant = factories.make_tenant(name="Kahvila Oy", language="fi", status=Tenant.Status.LIVE)
    last_week = timezone.localdate() - dt.timedelta(days=7)
    for hours in range(5):
        started = timezone.now() - dt.timedelta(days=7, hours=hours)
        make_chat(tenant, started, replied=4 + hours, assigned=2, closed=300, outcome="resolved")
    log_in_to_admin(page, live_server_daphne, ops_manager)

    # when the manager previews last week's report, in a narrow window and then a wide one
    query = f"?tenant={tenant.pk}&kind=weekly&day={last_week.isoformat()}"
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(live_server_daphne.url + reverse("admin:reporting_reportdelivery_preview") + query)
    page.locator("#report-html").wait_for()
    page.wait_for_function("() => document.getElementById('report-html').contentDocument.images.length > 0")
    page.wait_for_function(
        "() => [...document.getElementById('report-html').contentDocument.images].every((image) => image.complete)"
    )
    narrow = page.evaluate(FRAME_FIT)
    page.set_viewport_size({"width": 1400, "height": 800})
    page.wait_for_timeout(200)
    wide = page.evaluate(FRAME_FIT)

    # then the frame takes the report's height (not a fixed 1,400 px), so only the page scrolls
    for fit in (narrow, wide):
        assert abs(fit["frame"] - fit["content"]) <= 2, fit
        assert not fit["scrolls"], fit
        assert fit["frame"] != 1400
