"""The week plan as an operations manager uses it in Chromium: short hours, copying last week, a "what if"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from chatops.staffing_week import next_monday, planning_zone
from tenants.models import Tenant
from tests import factories
from tests.reporting.histories import add_shift, make_chat


def log_in(page, server, user) -> None:
    page.goto(f"{server.url}/admin/login/?next=/admin/staffing/week/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("input[type=submit]")


def test_copying_last_weeks_shifts_covers_the_short_hours_and_what_if_asks_for_more(
    live_server_daphne, page, ops_manager, tenant
):
    # given a live client with a chat every Tuesday 10-11 (local) for six weeks, one agent trained for it,
    # and that agent's Tuesday shift 9-13 in the week before the week shown
    zone = planning_zone()
    monday = next_monday(timezone.now(), zone)
    Tenant.objects.filter(pk=tenant.pk).update(went_live_at=timezone.now() - dt.timedelta(weeks=10))
    tuesday_10 = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(10), tzinfo=zone)
    for week in range(2, 8):
        make_chat(tenant, tuesday_10 - dt.timedelta(weeks=week))
    agent = factories.make_agent(trained_for=[tenant], display_name="Aino", max_concurrent_chats=1)
    add_shift(
        agent, tuesday_10 - dt.timedelta(weeks=1, hours=1), tuesday_10 - dt.timedelta(weeks=1) + dt.timedelta(hours=3)
    )
    server = live_server_daphne

    # when the operations manager opens the week plan of that week
    log_in(page, server, ops_manager)
    page.goto(f"{server.url}/admin/staffing/week/?week={monday.isoformat()}")

    # then nobody is on shift and Tuesday 10:00 is among the short hours
    assert page.locator("#shifts").inner_text().count("Aino") == 0
    short = page.locator("#short-hours").inner_text()
    assert "10 a.m." in short and tenant.name in short

    # when they copy last week's shifts
    page.click("#copy-last-week button[name=copy]")
    page.wait_for_url(f"**/admin/staffing/week/?week={monday.isoformat()}")

    # then the page says so, Aino works 9 a.m.-1 p.m. on Tuesday (the browser reads English), and that hour
    # is no longer short
    assert page.locator("ul.messagelist li.success").inner_text().startswith("1 ")
    assert "9 a.m.–1 p.m." in page.locator("#shifts").inner_text()
    assert tenant.name not in page.locator("#short-hours").inner_text()

    # when they ask what a stricter target (every chat within 2 s, 99 %) would need
    page.fill("input[name=target_seconds]", "2")
    page.fill("input[name=target_percent]", "99")
    page.click("#what-if button[type=submit]")

    # then Tuesday 10:00 is short again under that target, and nothing was saved by asking
    page.wait_for_url("**target_percent=99**")
    assert tenant.name in page.locator("#short-hours").inner_text()
    assert Tenant.objects.get(pk=tenant.pk).first_response_target_seconds == tenant.first_response_target_seconds
