"""The "report ready" event: a weekly or monthly report composed for a tenant reaches its CRM, signed."""

from __future__ import annotations

import pytest

from integrations.models import EventType, WebhookDelivery, WebhookEndpoint
from reporting import services as reporting
from reporting.models import ReportDelivery
from reporting.periods import Period
from tests.reporting.conftest import add_recipients, make_live
from tests.reporting.report_history import HELSINKI, WEEK_FIRST_DAY, WEEK_LAST_DAY, local, make_history

MONDAY_MORNING = local(2026, 11, 23, 7, 30)

pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(MONDAY_MORNING)]


@pytest.fixture
def reporting_shop(tenant):
    """The café, live, with report recipients and the hand-made fortnight of tests/reporting."""
    add_recipients(tenant, "kahvila.example")
    make_history(make_live(tenant))
    return tenant


@pytest.fixture
def report_endpoint(reporting_shop, receiver) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        tenant=reporting_shop, name="BI", url=receiver.url, events=[EventType.REPORT_READY]
    )
    receiver.secret = endpoint.secret
    return endpoint


def report_events(receiver) -> dict[str, dict]:
    return {r.event["data"]["report"]["kind"]: r.event for r in receiver.accepted()}


def test_the_due_reports_reach_the_receiver_signed_with_their_period_and_headline_figures(
    report_endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    # given
    settings.SITE_URL = "https://chat.example.com"

    # when the schedule composes the week's and (never sent before) October's reports
    with django_capture_on_commit_callbacks(execute=True):
        reporting.queue_due_reports(now=MONDAY_MORNING)

    # then both arrived, verified by the receiver, and are recorded delivered
    events = report_events(receiver)
    assert set(events) == {"weekly", "monthly"}
    weekly = events["weekly"]
    assert weekly["type"] == EventType.REPORT_READY
    assert weekly["tenant"] == "kahvila"
    report = weekly["data"]["report"]
    assert report["period"] == {
        "first_day": WEEK_FIRST_DAY.isoformat(),
        "last_day": WEEK_LAST_DAY.isoformat(),
        "time_zone": "Europe/Helsinki",
        "start": "2026-11-15T22:00:00Z",
        "end": "2026-11-22T22:00:00Z",
    }
    # the fortnight's figures, worked out by hand in tests/reporting/report_history.py
    figures = report["figures"]
    assert (figures["chats"], figures["visitors"], figures["leads"], figures["escalated_chats"]) == (5, 5, 1, 1)
    assert figures["first_response_median_seconds"] == 8.0
    assert figures["share_within_target"] == pytest.approx(0.6)
    assert figures["meets_first_response_target"] is False
    assert figures["resolution_rate"] == pytest.approx(0.8)
    assert figures["csat"] == pytest.approx(2 / 3)
    assert report["dashboard_url"] == "https://chat.example.com/dashboard/"
    delivered = WebhookDelivery.objects.filter(event_type=EventType.REPORT_READY, status="delivered")
    assert delivered.count() == 2
    monthly = events["monthly"]["data"]["report"]["period"]
    assert (monthly["first_day"], monthly["last_day"]) == ("2026-10-01", "2026-10-31")


def test_a_report_is_ready_once_a_rerun_schedule_or_a_resend_on_purpose_makes_no_new_event(
    report_endpoint, receiver, django_capture_on_commit_callbacks, ops_manager
):
    # given the week's report went out, with its event
    with django_capture_on_commit_callbacks(execute=True):
        reporting.queue_due_reports(now=MONDAY_MORNING)
    assert WebhookDelivery.objects.filter(event_type=EventType.REPORT_READY).count() == 2

    # when the schedule runs again and an operations manager resends the week on purpose
    week = Period.week(WEEK_FIRST_DAY, zone=HELSINKI)
    with django_capture_on_commit_callbacks(execute=True):
        reporting.queue_due_reports(now=MONDAY_MORNING)
        result = reporting.send_on_purpose(
            tenant=report_endpoint.tenant,
            kind=ReportDelivery.Kind.WEEKLY,
            period=week,
            by=ops_manager,
            resend=True,
        )

    # then the e-mail went again, the event did not
    assert result.sent, result.error
    assert WebhookDelivery.objects.filter(event_type=EventType.REPORT_READY).count() == 2
    assert len(receiver.accepted()) == 2


def test_an_endpoint_that_does_not_want_reports_gets_none(
    reporting_shop, endpoint, receiver, django_capture_on_commit_callbacks
):
    # given an endpoint of the tenant that wants chat events only
    endpoint.events = [EventType.LEAD_CREATED]
    endpoint.save(update_fields=["events"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        reporting.queue_due_reports(now=MONDAY_MORNING)

    # then
    assert ReportDelivery.objects.filter(tenant=reporting_shop).count() == 2
    assert not WebhookDelivery.objects.filter(event_type=EventType.REPORT_READY).exists()
