"""The weekly and monthly report e-mails, as a real SMTP server on loopback receives them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import translation

from outbox import services as outbox
from outbox.models import OutgoingEmail
from reporting import services
from reporting.models import ReportDelivery
from tests import factories
from tests.reporting.conftest import (
    MONTHLY_RECIPIENTS,
    WEEKLY_RECIPIENTS,
    add_recipients,
    in_finnish,
    in_finnish_plural,
    make_live,
)
from tests.reporting.report_history import (
    COMPLAINT,
    ESCALATION_SUMMARY,
    LEAD_EMAIL,
    LEAD_WANTS,
    SECOND_PRAISE,
    WEEK_FIRST_DAY,
    WEEK_LAST_DAY,
    local,
    make_history,
)

pytestmark = pytest.mark.django_db

MONDAY_MORNING = local(2026, 11, 23, 7, 30)
FIRST_OF_DECEMBER = local(2026, 12, 1, 7, 30)


def send_due_reports(now: dt.datetime) -> list[int]:
    ids = services.queue_due_reports(now=now)
    outbox.deliver_due(now=now)
    return ids


def subject(sent: dict) -> str:
    # A long encoded subject is folded right after "Subject:"; the parser keeps the fold's space.
    return str(sent["message"]["Subject"]).strip()


def parts(message):
    """Return the text, the HTML, the inline images by Content-ID and the attachments by file name."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    related = next(part for part in message.walk() if part.get_content_type() == "multipart/related")
    images = {
        str(part["Content-ID"]).strip().strip("<>"): part
        for part in related.iter_parts()
        if part.get_content_type() == "image/png"
    }
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    return text, html, images, attachments


def in_finnish_points(points: str) -> str:
    """Return a number of percentage points as a Finnish report writes it."""
    with translation.override("fi"):
        return translation.pgettext("percentage points", "%(points)s pp") % {"points": points}


def csv_rows(content: str) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    return {row[0]: row for row in rows}


def is_kind(sent: dict, kind: str) -> bool:
    """Say whether an e-mail is the Finnish shop's weekly or monthly report, by its translated subject."""
    msgid = f"%(tenant)s: {kind} chat report, %(period)s"
    before_period = in_finnish(msgid, tenant="Kahvila Oy", period="\0").split("\0")[0]
    return subject(sent).startswith(before_period)


def test_weekly_report_reaches_the_weekly_recipients_with_figures_charts_and_csv(shop, smtp_server):
    # given the hand-made fortnight (figures worked out in report_history)
    make_history(shop)

    # when the schedule runs on Monday morning, Helsinki time
    send_due_reports(MONDAY_MORNING)

    # then one e-mail went to the weekly recipients only (not the monthly-only or escalation contact)
    weekly = [sent for sent in smtp_server if is_kind(sent, "weekly")]
    assert len(weekly) == 1
    assert sorted(weekly[0]["to"]) == WEEKLY_RECIPIENTS
    message = weekly[0]["message"]
    assert subject(weekly[0]) == in_finnish(
        "%(tenant)s: weekly chat report, %(period)s", tenant="Kahvila Oy", period="16.11.2026–22.11.2026"
    )
    assert message.get_content_type() == "multipart/mixed"
    assert message["Content-Language"] == "fi"

    # and both parts carry the headline figures against the targets, in Finnish words and number format
    text, html, images, attachments = parts(message)
    # (3 of 5 answered within 10 s: 60 % against the goal of 90 %, missed, though the median of 8 s is
    # within the target; p90 of 3, 5, 8, 12, 30 s: 12 + 0.6 x 18 = 22.8 s)
    first_response = in_finnish(
        "%(share)s within %(target)s (median %(median)s, 90th percentile %(p90)s)",
        share="60 %",
        target="10 s",
        median="8,0 s",
        p90="22,8 s",
    )
    first_response_rule = in_finnish(
        "Target met when at least %(goal)s of live chats are answered within %(target)s (the median and "
        "the 90th percentile are shown beside it, not judged).",
        goal="90 %",
        target="10 s",
    )
    resolution = in_finnish_plural(
        "%(rate)s of %(closed)s closed live chat",
        "%(rate)s of %(closed)s closed live chats",
        5,
        rate="80 %",
        closed="5",
    )
    satisfaction = in_finnish_plural(
        "%(csat)s satisfied, %(ratings)s rating (%(response)s of answered chats rated)",
        "%(csat)s satisfied, %(ratings)s ratings (%(response)s of answered chats rated)",
        3,
        csat="67 %",
        ratings="3",
        response="60 %",
    )
    for body in (text, html):
        assert first_response in body
        assert first_response_rule in body
        assert in_finnish("target met") not in body
        assert resolution in body
        assert in_finnish("target missed") in body
        assert satisfaction in body
        # the change from the week before: 0 % → 60 % within target, median 30.0 s → 8.0 s, 2 → 5 chats
        # (both weeks had 7 open days: totals compared)
        assert "+" + in_finnish_points("60") + ", \N{MINUS SIGN}22,0 s" in body
        assert "+3 (+150 %)" in body
        assert (
            in_finnish(
                "Compared with the %(previous)s, %(days)s open days each.", previous="edellinen viikko", days="7"
            )
            in body
        )
    # and the lists: the wall of fame (ratings 4–5 with a comment), the escalation and the lead
    assert SECOND_PRAISE in text and SECOND_PRAISE in html
    assert COMPLAINT not in text
    assert "Seuraava viikko" not in text  # a chat of the next local week
    assert ESCALATION_SUMMARY in text and ESCALATION_SUMMARY in html
    assert LEAD_EMAIL in text and LEAD_WANTS in html

    # and three charts travel inline with the HTML, which refers to each by its Content-ID
    assert len(images) == 3
    for content_id, image in images.items():
        assert f'src="cid:{content_id}"' in html
        assert image.get_content_disposition() == "inline"
        assert image.get_content().startswith(b"\x89PNG")
    assert "<script" not in html

    # and the CSV holds this week's and the previous week's figures
    (name,) = attachments
    assert name == f"kahvila-2026-11-16-{in_finnish('figures')}.csv"
    rows = csv_rows(attachments[name])
    assert rows[in_finnish("key")][2:] == ["2026-11-16/2026-11-22", "2026-11-09/2026-11-15"]
    assert rows["chats"][2:] == ["5", "2"]
    assert rows["first_response_median_seconds"][2:] == ["8.0", "30.0"]
    assert rows["within_target_percent"][2:] == ["60.0", "0.0"]
    assert rows["resolution_rate_percent"][2:] == ["80.0", "100.0"]
    assert rows["leads"][2:] == ["1", "0"]
    assert rows["escalated_chats"][2:] == ["1", "0"]

    # and the record says so
    delivery = ReportDelivery.objects.get(tenant=shop, kind=ReportDelivery.Kind.WEEKLY)
    assert (delivery.first_day, delivery.last_day) == (WEEK_FIRST_DAY, WEEK_LAST_DAY)
    assert delivery.outgoing.status == OutgoingEmail.Status.SENT
    assert delivery.outgoing.recipient_list() == WEEKLY_RECIPIENTS
    assert delivery.outgoing.requested_by is None


def test_monthly_report_adds_the_daily_trend_and_its_csv(shop, smtp_server):
    # given
    make_history(shop)

    # when the schedule runs on the morning of 1 December
    send_due_reports(FIRST_OF_DECEMBER)

    # then the November report went to the monthly recipients
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "monthly")]
    assert sorted(sent["to"]) == MONTHLY_RECIPIENTS
    assert subject(sent) == in_finnish(
        "%(tenant)s: monthly chat report, %(period)s", tenant="Kahvila Oy", period="marraskuu 2026"
    )
    text, html, images, attachments = parts(sent["message"])
    assert in_finnish("Day by day") in text and in_finnish("Day by day") in html
    # 8 chats in November: the fortnight's 7 and the one just after the reported week; 8 visitors
    assert in_finnish("%(chats)s (%(rate)s of visitors chatted)", chats="8", rate="100 %") in text
    # October had 31 open days, November 30: counts are compared per open day (0 chats a day before)
    # (8 / 30 = 0.27, shown 0.3; 0 / 31 = 0.0)
    assert "+" + in_finnish("%(count)s a day", count="0,3") in text
    daily_csv, figures_csv = (f"kahvila-2026-11-01-{in_finnish(word)}.csv" for word in ("daily", "figures"))
    assert sorted(attachments) == sorted([daily_csv, figures_csv])
    daily = list(csv.reader(io.StringIO(attachments[daily_csv].lstrip("\ufeff"))))
    assert len(daily) == 1 + 30
    assert daily[16] == ["2026-11-16", "2", "4.0"]
    assert len(images) == 3


def test_report_speaks_the_tenants_language_and_number_format(smtp_server):
    # given an English tenant with the same history
    english = make_live(factories.make_tenant(name="Bakery Ltd", slug="bakery", language="en"))
    add_recipients(english, "bakery.example")
    make_history(english)

    # when
    send_due_reports(MONDAY_MORNING)

    # then the numbers and dates are written the English way
    (sent,) = [sent for sent in smtp_server if subject(sent).startswith("Bakery Ltd: weekly chat report")]
    assert subject(sent) == "Bakery Ltd: weekly chat report, 11/16/2026–11/22/2026"
    text, html, _images, _attachments = parts(sent["message"])
    assert "60 % within 10 s (median 8.0 s, 90th percentile 22.8 s) – target missed" in text
    assert "80 % of 5 closed live chats – target missed" in text
    assert (
        "Previous week: 0 % within 10 s (median 30.0 s, 90th percentile 38.0 s) · change +60 pp, \N{MINUS SIGN}22.0 s"
        in text
    )
    assert "Target met when at least 90 % of live chats are answered within 10 s" in text
    assert "\N{MINUS SIGN}22.0 s" in html


def test_visitor_text_is_escaped_in_the_html(shop, smtp_server):
    # given a comment with markup in it (see report_history.PRAISE)
    make_history(shop)

    # when
    send_due_reports(MONDAY_MORNING)

    # then the HTML shows it as text and the plain part as it was typed
    (sent,) = [sent for sent in smtp_server if is_kind(sent, "weekly")]
    text, html, _images, _attachments = parts(sent["message"])
    assert "&lt;b&gt;palvelu&lt;/b&gt;" in html
    assert "<b>palvelu</b>" not in html
    assert "Nopea ja ystävällinen <b>palvelu</b>!" in text


def test_another_tenants_chats_stay_out_of_the_report(shop, gym, smtp_server):
    # given the fortnight happened at the gym, not the café
    make_history(gym)

    # when both tenants' reports go out
    send_due_reports(MONDAY_MORNING + dt.timedelta(hours=2))

    # then the café's weekly report has none of it
    (cafe,) = [sent for sent in smtp_server if "weekly@kahvila.example" in sent["to"]]
    text, _html, _images, attachments = parts(cafe["message"])
    assert ESCALATION_SUMMARY not in text and LEAD_EMAIL not in text
    assert csv_rows(attachments[f"kahvila-2026-11-16-{in_finnish('figures')}.csv"])["chats"][2:] == ["0", "0"]
    # and the gym's has it all
    (gym_mail,) = [sent for sent in smtp_server if "weekly@silownia.example" in sent["to"]]
    assert sorted(gym_mail["to"]) == ["boss@silownia.example", "weekly@silownia.example"]
    assert gym_mail["message"]["Content-Language"] == "pl"
    assert ESCALATION_SUMMARY in parts(gym_mail["message"])[0]
