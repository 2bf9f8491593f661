"""The report deliveries in the admin: preview any report, send or resend on purpose, see failures."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib.messages import ERROR, SUCCESS, WARNING
from django.urls import reverse
from django.utils import timezone

from outbox import services as outbox
from outbox.models import OutgoingEmail
from reporting import services
from reporting.models import ReportDelivery
from tests.reporting.conftest import WEEKLY_RECIPIENTS, in_finnish
from tests.reporting.report_history import WEEK_FIRST_DAY, WEEK_LAST_DAY, local, make_history

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:reporting_reportdelivery_changelist")
PREVIEW_URL = reverse("admin:reporting_reportdelivery_preview")
SEND_URL = reverse("admin:reporting_reportdelivery_send")


def choice(tenant, kind="weekly", day=dt.date(2026, 11, 18)) -> dict:
    return {"tenant": tenant.pk, "kind": kind, "day": day.isoformat()}


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in response.context["messages"]]


@pytest.fixture
def monday_morning(monkeypatch):
    """Make it Monday 23 November 2026, 10:00 in Helsinki: the week of 16–22 November is over."""
    monkeypatch.setattr(timezone, "now", lambda: local(2026, 11, 23, 10).astimezone(dt.UTC))


@pytest.fixture
def manager_client(client, ops_manager, monday_morning):
    client.force_login(ops_manager)
    return client


def test_preview_shows_any_weeks_report_as_recipients_see_it_without_sending(manager_client, shop, smtp_server):
    # given
    make_history(shop)

    # when the manager picks the café, the weekly report and a Wednesday of the week
    response = manager_client.get(PREVIEW_URL, choice(shop))

    # then the report of that whole week is shown: subject, recipients, the HTML with its charts, the text
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        html.escape(
            in_finnish(
                "%(tenant)s: weekly chat report, %(period)s", tenant="Kahvila Oy", period="16.11.2026–22.11.2026"
            )
        )
        in page
    )
    assert ", ".join(WEEKLY_RECIPIENTS) in page
    # (the e-mail's HTML goes whole into the frame's srcdoc attribute, so it must be escaped there)
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in page
    srcdoc = html.unescape(page.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert (
        in_finnish(
            "%(share)s within %(target)s (median %(median)s, 90th percentile %(p90)s)",
            share="60 %",
            target="10 s",
            median="8,0 s",
            p90="22,8 s",
        )
        in srcdoc
    )
    assert srcdoc.count('src="data:image/png;base64,') == 3
    assert "cid:" not in srcdoc
    assert "Not sent yet" in page
    # and nothing was sent or recorded
    assert smtp_server == []
    assert not ReportDelivery.objects.exists()


def test_preview_offers_the_csv_for_download(manager_client, shop):
    # given
    make_history(shop)

    # when
    response = manager_client.get(reverse("admin:reporting_reportdelivery_attachment", args=[0]), choice(shop))

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"kahvila-2026-11-16-{in_finnish('figures')}.csv" in response["Content-Disposition"]
    rows = {row.split(",")[0]: row for row in response.content.decode("utf-8-sig").splitlines()}
    assert rows["chats"].endswith(",5,2")


def test_preview_without_a_choice_shows_the_form(manager_client):
    # when
    response = manager_client.get(PREVIEW_URL)

    # then
    assert response.status_code == 200
    assert 'name="tenant"' in response.content.decode()
    assert response.context.get("report") is None


def test_manager_sends_a_report_after_confirming(manager_client, ops_manager, shop, smtp_server):
    # given
    make_history(shop)

    # when the manager asks to send, the admin asks to confirm first
    confirmation = manager_client.get(SEND_URL, choice(shop))
    assert confirmation.status_code == 200
    assert "boss@kahvila.example" in confirmation.content.decode()
    assert smtp_server == []

    # and when they confirm
    response = manager_client.post(SEND_URL, {**choice(shop), "confirmed": "yes"}, follow=True)

    # then the report went to the weekly recipients, recorded as sent by them
    assert len(smtp_server) == 1
    assert sorted(smtp_server[0]["to"]) == WEEKLY_RECIPIENTS
    delivery = ReportDelivery.objects.get()
    assert (delivery.first_day, delivery.last_day) == (WEEK_FIRST_DAY, WEEK_LAST_DAY)
    assert delivery.outgoing.status == OutgoingEmail.Status.SENT
    assert delivery.outgoing.requested_by == ops_manager
    assert smtp_server[0]["message"]["Message-ID"] == delivery.outgoing.message_id
    level, text = messages_of(response)[0]
    assert level == SUCCESS
    assert "boss@kahvila.example, weekly@kahvila.example" in text


def test_send_skips_a_sent_report_and_resend_on_purpose_sends_it_again(manager_client, shop, smtp_server):
    # given the schedule sent the week's report
    ids = services.queue_due_reports(now=local(2026, 11, 23, 8))
    weekly = ReportDelivery.objects.get(pk__in=ids, kind=ReportDelivery.Kind.WEEKLY)
    outbox.send_now(weekly.outgoing)
    assert len(smtp_server) == 1

    # when the manager uses "send" on it
    response = manager_client.post(
        LIST_URL, {"action": "send_selected", "_selected_action": [weekly.pk], "confirmed": "yes"}, follow=True
    )

    # then nothing is sent and they are told why
    assert len(smtp_server) == 1
    assert messages_of(response)[0][0] == WARNING
    assert "resend on purpose" in messages_of(response)[0][1]

    # when they choose "resend on purpose", the admin asks to confirm
    confirmation = manager_client.post(LIST_URL, {"action": "resend_selected", "_selected_action": [weekly.pk]})
    assert confirmation.status_code == 200
    assert "get them again" in confirmation.content.decode()
    assert len(smtp_server) == 1

    # and when they confirm, it goes out once more
    response = manager_client.post(
        LIST_URL, {"action": "resend_selected", "_selected_action": [weekly.pk], "confirmed": "yes"}, follow=True
    )
    assert len(smtp_server) == 2
    assert messages_of(response)[0][0] == SUCCESS
    assert "(2 times)" in manager_client.get(LIST_URL).content.decode()


def test_a_failed_report_shows_its_error_in_the_list_and_can_be_sent(manager_client, shop, smtp_down, settings):
    # given the mail server was down when the report was due, and it was the last attempt
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 1
    ids = services.queue_due_reports(now=local(2026, 11, 23, 8))
    weekly = ReportDelivery.objects.get(pk__in=ids, kind=ReportDelivery.Kind.WEEKLY)
    outbox.send_now(weekly.outgoing)

    # when the manager filters the list by failures
    response = manager_client.get(LIST_URL, {"email_status": "failed"})

    # then the report is there with its error
    page = response.content.decode()
    assert "Failed" in page
    assert "ConnectionRefusedError" in page
    assert list(response.context["cl"].result_list) == [weekly]

    # and sending it again while the server is still down says so
    response = manager_client.post(
        LIST_URL, {"action": "send_selected", "_selected_action": [weekly.pk], "confirmed": "yes"}, follow=True
    )
    assert messages_of(response)[0][0] == ERROR
    weekly.refresh_from_db()
    assert weekly.outgoing.status == OutgoingEmail.Status.FAILED
    assert OutgoingEmail.objects.filter(reference=weekly.email_reference, status="failed").count() == 2


def test_agent_and_client_user_cannot_preview_or_send(client, agent, client_user, shop, smtp_server):
    for user in (agent.user, client_user.user):
        # given
        client.force_login(user)

        # when
        preview = client.get(PREVIEW_URL, choice(shop))
        send = client.post(SEND_URL, {**choice(shop), "confirmed": "yes"})
        listing = client.get(LIST_URL)

        # then each is sent to the admin login, and nothing happens
        for response in (preview, send, listing):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
    assert smtp_server == []
    assert not ReportDelivery.objects.exists()


def test_a_period_not_over_can_be_previewed_but_not_sent(manager_client, shop, smtp_server):
    # when the manager previews this week (it is Monday 23 November) and tries to send it anyway
    preview = manager_client.get(PREVIEW_URL, choice(shop, day=dt.date(2026, 11, 25)))
    response = manager_client.post(
        SEND_URL, {**choice(shop, day=dt.date(2026, 11, 25)), "confirmed": "yes"}, follow=True
    )

    # then the preview offers no sending, and the attempt is refused without a record
    assert preview.status_code == 200
    assert "Send this report" not in preview.content.decode()
    level, text = messages_of(response)[0]
    assert level == WARNING
    assert str(services.ERROR_NOT_OVER) in text
    assert smtp_server == []
    assert not ReportDelivery.objects.exists()
