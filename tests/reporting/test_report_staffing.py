"""Staffing coverage in the monthly report e-mail, its CSV files and the admin preview.

November 2026 in Helsinki (UTC+2 all month): Mondays come five times (2 ... 30), Tuesdays four
(3 ... 24). Two agents trained for the café, one chat at a time; every chat takes 300 s from
assignment to close, the target is 10 s for 90 % of chats:

    Tuesday 14:00: 12 chats each Tuesday = 12 an hour, traffic 1 erlang: 3 agents needed (by hand,
        see tests/chatops/test_coverage.py); A and B on shift every Tuesday 14-15: 2.0 on average.
    Monday 10:00: one chat each Monday = 1 an hour: 1 agent needed; A on shift every Monday 10-11.

So 5 of the 53 live chats (9.4 %, shown as 9 %) came in fully staffed hours, one hour of the week
was short. October, the previous month: A's single shift on Tuesday 6 October 14-15, no chats.
The sums have no shrinkage: the tests set it to 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation
from tests.reporting.conftest import MONTHLY_RECIPIENTS, in_finnish, in_finnish_plural
from tests.reporting.histories import add_shift, make_agent, make_chat, train
from tests.reporting.report_history import local
from tests.reporting.test_report_mail import FIRST_OF_DECEMBER, MONDAY_MORNING, is_kind, parts, send_due_reports

pytestmark = pytest.mark.django_db

MONDAYS = [2, 9, 16, 23, 30]
TUESDAYS = [3, 10, 17, 24]
NOTE = (
    "For each hour of the week, the agents on shift for you (on average over the month) are compared with "
    "the agents needed to answer %(share)s of chats within your target of %(target)s. The agents needed "
    "follow from the chats that came in during that hour, a handling time of %(handle)s per chat and the "
    "number of chats an agent may hold at once (%(concurrency)s on average), by the standard queueing "
    "formula of contact centres (Erlang C), with time for breaks and training. Messages left outside "
    "service hours are not counted. An agent who also serves other clients counts once: an hour is fully "
    "staffed when the agents trained for you are enough for your chats and their whole team is enough for "
    "all the chats it answers."
)
POOLING = (
    "The agents who answer your chats also serve other clients, as one team. To meet every client's target "
    "it needed %(saving)s agent hour fewer this month than a separate team for each client would have "
    "(%(percent)s less).",
    "The agents who answer your chats also serve other clients, as one team. To meet every client's target "
    "it needed %(saving)s agent hours fewer this month than a separate team for each client would have "
    "(%(percent)s less).",
)


@pytest.fixture(autouse=True)
def no_shrinkage(settings):
    """Work the agents needed out without shrinkage, as the sums above do."""
    settings.STAFFING_SHRINKAGE = 0


def handled_chat(tenant, started: dt.datetime, agent) -> Conversation:
    return make_chat(
        tenant, started, replied=5, assigned=1, closed=301, outcome=Conversation.Outcome.RESOLVED, agent=agent
    )


def make_staffed_november(tenant):
    """Write the month described above; return the two agents."""
    a, b = (train(make_agent(name), tenant, completed_on=dt.date(2026, 9, 1)) for name in ("Anna", "Bea"))
    for agent in (a, b):
        agent.max_concurrent_chats = 1
        agent.save(update_fields=["max_concurrent_chats"])
    for day in TUESDAYS:
        for minute in range(12):
            handled_chat(tenant, local(2026, 11, day, 14, minute * 4), a if minute % 2 else b)
        for agent in (a, b):
            add_shift(agent, local(2026, 11, day, 14), local(2026, 11, day, 15))
    for day in MONDAYS:
        handled_chat(tenant, local(2026, 11, day, 10, 30), a)
        add_shift(a, local(2026, 11, day, 10), local(2026, 11, day, 11))
    add_shift(a, local(2026, 10, 6, 14), local(2026, 10, 6, 15))
    return a, b


def staffing_texts() -> dict[str, str]:
    """Return the section's sentences as the Finnish café's report has them."""
    figures = in_finnish("%(scheduled)s agents on shift on average, %(needed)s needed", scheduled="2,0", needed="3")
    chats = in_finnish_plural("%(count)s chat", "%(count)s chats", 48, count="48")
    return {
        "title": in_finnish("Staffing coverage"),
        "headline": in_finnish("%(share)s of the chats came in hours that were fully staffed.", share="9 %"),
        "summary": in_finnish_plural(
            "%(count)d hour of the week had fewer agents on shift than needed; where it mattered most:",
            "%(count)d hours of the week had fewer agents on shift than needed; where it mattered most:",
            1,
            count=1,
        ),
        # Finnish weekday names are Django's own: Tiistai is Tuesday
        "when": in_finnish("%(weekday)s %(start)02d–%(end)02d", weekday="Tiistai", start=14, end=15),
        "figures": f"{figures} ({chats})",
        "note": in_finnish(NOTE, share="90 %", target="10 s", handle="300 s", concurrency="1"),
    }


def test_monthly_report_shows_staffing_coverage_in_both_parts_and_the_csv_files(shop, smtp_server):
    # given
    make_staffed_november(shop)

    # when the November report goes out on 1 December
    send_due_reports(FIRST_OF_DECEMBER)

    # then both parts have the section: the headline, the short hour and how it is worked out
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "monthly")]
    assert sorted(sent["to"]) == MONTHLY_RECIPIENTS
    text, html_part, _images, attachments = parts(sent["message"])
    expected = staffing_texts()
    for body in (text, html_part):
        for sentence in expected.values():
            assert sentence in body
    assert f"    {expected['when']}: {expected['figures']}" in text.splitlines()
    assert "Monday" not in text and "maanantai" not in text  # Monday 10:00 was covered

    # and the figures CSV has the month's and October's coverage after the KPIs
    figures = f"kahvila-2026-11-01-{in_finnish('figures')}.csv"
    rows = {row[0]: row[2:] for row in csv.reader(io.StringIO(attachments[figures].lstrip("\ufeff")))}
    assert rows["staffing_covered_percent"] == ["9.4", ""]  # 5 / 53; October had no chats
    assert rows["staffing_understaffed_hours"] == ["1", "0"]
    assert rows["staffing_agent_hours"] == ["13.0", "1.0"]  # 4 x 2 + 5; October 1
    assert rows["staffing_pooling_saving_agent_hours"] == ["", ""]  # the agents serve no one else
    assert rows["staffing_agent_hours_without_chats"] == ["0.0", "1.0"]
    assert rows["average_handle_seconds"] == ["300.0", ""]

    # and the per-hour CSV has a row per weekday and hour, Monday 00 first
    staffing = f"kahvila-2026-11-01-{in_finnish('staffing')}.csv"
    assert sorted(attachments) == sorted([figures, f"kahvila-2026-11-01-{in_finnish('daily')}.csv", staffing])
    hours = list(csv.reader(io.StringIO(attachments[staffing].lstrip("\ufeff"))))
    assert len(hours) == 1 + 168
    assert hours[1] == ["1", "0", "5", "0", "0", "0.00", "0.00", "0.00", "", "", ""]
    assert hours[1 + 10] == ["1", "10", "5", "5", "1", "1.00", "0.00", "1.00", "", "", ""]
    assert hours[1 + 24 + 14] == ["2", "14", "4", "48", "3", "2.00", "1.00", "2.00", "", "", ""]


def test_monthly_report_tells_the_pooling_saving_of_a_team_shared_with_another_client(shop, gym, smtp_server):
    # given the staffed month, with Bea trained for the gym too, and the gym's 2 chats every Tuesday 14:xx:
    # on their own the café needs 3 agents then and the gym 2 (2 an hour: 1 agent answers 83.8 %), together
    # (14 an hour) 4; Anna and Bea make 2.0 of them, short of the team's 4
    _anna, bea = make_staffed_november(shop)
    train(bea, gym, completed_on=dt.date(2026, 9, 1))
    for day in TUESDAYS:
        for minute in (10, 40):
            make_chat(gym, local(2026, 11, day, 14, minute))

    # when the November report goes out on 1 December
    send_due_reports(FIRST_OF_DECEMBER)

    # then the café's report says what the shared team saved: 4 Tuesdays x (3 + 2 - 4) = 4 agent-hours of the
    # 4 x 5 + 5 Mondays x 1 = 25 that separate teams would have needed
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "monthly")]
    text, html_part, _images, attachments = parts(sent["message"])
    saving = in_finnish_plural(*POOLING, 4, saving="4", percent="16 %")
    assert saving in text and saving in html.unescape(html_part)
    # and the short Tuesday hour is the team's: 2.0 agents on shift for 4 needed
    figures = in_finnish(
        "%(scheduled)s agents on shift on average in the team shared with other clients, %(needed)s needed",
        scheduled="2,0",
        needed="4",
    )
    assert figures in text
    rows = {
        row[0]: row[2:]
        for row in csv.reader(
            io.StringIO(attachments[f"kahvila-2026-11-01-{in_finnish('figures')}.csv"].lstrip("\ufeff"))
        )
    }
    assert rows["staffing_pooling_saving_agent_hours"] == ["4", "0"]  # October: the same team, no chats


def test_monthly_report_without_shifts_has_no_staffing_section(shop, smtp_server):
    # given chats in November but no shifts at all
    handled_chat(shop, local(2026, 11, 3, 14), None)

    # when
    send_due_reports(FIRST_OF_DECEMBER)

    # then
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "monthly")]
    text, html_part, _images, attachments = parts(sent["message"])
    assert in_finnish("Staffing coverage") not in text and in_finnish("Staffing coverage") not in html_part
    assert len(attachments) == 2
    figures = attachments[f"kahvila-2026-11-01-{in_finnish('figures')}.csv"]
    assert "staffing_" not in figures


def test_weekly_report_has_no_staffing_section(shop, smtp_server):
    # given the staffed month
    make_staffed_november(shop)

    # when the week of 16-22 November goes out
    send_due_reports(MONDAY_MORNING)

    # then
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "weekly")]
    text, html_part, _images, attachments = parts(sent["message"])
    assert in_finnish("Staffing coverage") not in text and in_finnish("Staffing coverage") not in html_part
    assert len(attachments) == 1
    assert "staffing_" not in next(iter(attachments.values()))


def test_the_admin_preview_shows_the_same_staffing_section(client, ops_manager, shop, monkeypatch):
    # given the staffed month, previewed on 1 December
    make_staffed_november(shop)
    monkeypatch.setattr(timezone, "now", lambda: FIRST_OF_DECEMBER.astimezone(dt.UTC))
    client.force_login(ops_manager)

    # when
    response = client.get(
        reverse("admin:reporting_reportdelivery_preview"),
        {"tenant": shop.pk, "kind": "monthly", "day": "2026-11-15"},
    )

    # then the HTML (in the frame) and the plain text both have it
    assert response.status_code == 200
    frame = html.unescape(response.context["html"])
    expected = staffing_texts()
    assert expected["headline"] in frame and expected["figures"] in frame
    assert f"{expected['when']}: {expected['figures']}" in response.context["text"]
    assert f"kahvila-2026-11-01-{in_finnish('staffing')}.csv" in response.content.decode()
