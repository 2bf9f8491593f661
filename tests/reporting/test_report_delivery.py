"""Each report is sent once: re-runs, redelivered tasks and retries never send it twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outbox import services as outbox
from outbox import tasks as outbox_tasks
from outbox.models import OutgoingEmail
from reporting import services
from reporting.models import ReportDelivery
from tests.reporting.conftest import WEEKLY_RECIPIENTS
from tests.reporting.report_history import WEEK_FIRST_DAY, local

pytestmark = pytest.mark.django_db

MONDAY_MORNING = local(2026, 11, 23, 7, 30)


def weekly_delivery(tenant) -> ReportDelivery:
    return ReportDelivery.objects.select_related("outgoing").get(
        tenant=tenant, kind=ReportDelivery.Kind.WEEKLY, first_day=WEEK_FIRST_DAY
    )


def queue_weekly(tenant, captured) -> ReportDelivery:
    with captured(execute=True):
        services.queue_due_reports(now=MONDAY_MORNING)
    return weekly_delivery(tenant)


def retries_later(hours: int = 2) -> dt.datetime:
    """A moment when any retry scheduled now is due (the longest pause is half an hour)."""
    return timezone.now() + dt.timedelta(hours=hours)


def test_a_rerun_schedule_and_a_redelivered_task_send_nothing_twice(
    shop, smtp_server, django_capture_on_commit_callbacks
):
    # given the week's report went out
    with django_capture_on_commit_callbacks(execute=True):
        ids = services.queue_due_reports(now=MONDAY_MORNING)
    sent_before = len(smtp_server)
    assert sent_before == len(ids) == 2  # the week's and (never sent before) October's

    # when the schedule runs again, later that day and the next, and the outbox's tasks are delivered again
    with django_capture_on_commit_callbacks(execute=True):
        again = services.queue_due_reports(now=MONDAY_MORNING) + services.queue_due_reports(now=local(2026, 11, 24, 9))
    for delivery in ReportDelivery.objects.filter(pk__in=ids):
        outbox_tasks.deliver_email.delay(delivery.outgoing_id)
    outbox_tasks.deliver_due.delay()

    # then nothing more was queued or sent
    assert again == []
    assert len(smtp_server) == sent_before
    delivery = weekly_delivery(shop)
    assert OutgoingEmail.objects.filter(reference=delivery.email_reference).count() == 1
    assert delivery.outgoing.attempts == 1


def test_a_report_whose_worker_died_before_handing_it_over_is_sent_once_when_its_lease_runs_out(
    shop, smtp_server, django_capture_on_commit_callbacks
):
    # given a worker took the reports' leases and died before the mail server had the messages
    with django_capture_on_commit_callbacks(execute=False):
        services.queue_due_reports(now=MONDAY_MORNING)
    delivery = weekly_delivery(shop)
    OutgoingEmail.objects.update(
        status=OutgoingEmail.Status.SENDING, attempts=1, leased_until=timezone.now() + dt.timedelta(minutes=5)
    )

    # when the sweep runs while the lease holds, and again once it ran out
    held = outbox.deliver_due()
    taken_again = outbox.deliver_due(now=timezone.now() + dt.timedelta(minutes=6))

    # then it went out once, after the lease, and nothing says it may have gone twice
    assert (held, taken_again) == (0, 2)  # the week's and October's
    weekly = [sent for sent in smtp_server if sorted(sent["to"]) == WEEKLY_RECIPIENTS]
    assert len(weekly) == 1
    delivery.outgoing.refresh_from_db()
    assert (delivery.outgoing.status, delivery.outgoing.attempts) == (OutgoingEmail.Status.SENT, 2)
    assert delivery.outgoing.crashed_after_handover_at is None


def test_an_smtp_refusal_is_retried_and_the_report_arrives_once(
    shop, flaky_smtp_server, django_capture_on_commit_callbacks
):
    # given a mail server that refuses the first message with a temporary error
    delivery = queue_weekly(shop, django_capture_on_commit_callbacks)
    assert flaky_smtp_server.refused == 1

    # when the retries are due (the sweep runs twice)
    outbox.deliver_due(now=retries_later())
    outbox.deliver_due(now=retries_later())

    # then the week's report arrived once, on its second attempt
    weekly = [
        sent for sent in flaky_smtp_server.messages if sent["message"]["Message-ID"] == delivery.outgoing.message_id
    ]
    assert len(weekly) == 1
    delivery.outgoing.refresh_from_db()
    assert (delivery.outgoing.status, delivery.outgoing.attempts) == (OutgoingEmail.Status.SENT, 2)
    assert delivery.outgoing.last_error == ""


def test_a_failed_attempt_waits_for_its_retry_with_the_error_recorded(
    shop, smtp_down, django_capture_on_commit_callbacks
):
    # when the first attempt fails while retries remain
    delivery = queue_weekly(shop, django_capture_on_commit_callbacks)

    # then the e-mail waits for its retry, later, with the error
    assert delivery.outgoing.status == OutgoingEmail.Status.QUEUED
    assert delivery.outgoing.attempts == 1
    assert delivery.outgoing.next_attempt_at > timezone.now()
    assert "ConnectionRefusedError" in delivery.outgoing.last_error


def test_smtp_down_ends_failed_with_the_error_after_the_retries(
    shop, smtp_down, settings, django_capture_on_commit_callbacks
):
    # given
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 4
    delivery = queue_weekly(shop, django_capture_on_commit_callbacks)

    # when every retry comes due and fails
    for hours in range(1, 6):
        outbox.deliver_due(now=retries_later(hours))

    # then the report's e-mail is FAILED with the error, after the first attempt and every retry
    delivery.outgoing.refresh_from_db()
    assert delivery.outgoing.status == OutgoingEmail.Status.FAILED
    assert delivery.outgoing.attempts == 4
    assert "ConnectionRefusedError" in delivery.outgoing.last_error
    assert delivery.outgoing.sent_at is None


def test_a_tenant_without_recipients_for_a_kind_gets_no_record(shop):
    # given nobody at the café wants the monthly report any more
    shop.reportrecipient_set.update(monthly=False)

    # when
    services.queue_due_reports(now=local(2026, 12, 1, 8))

    # then only the weekly report is recorded
    assert list(ReportDelivery.objects.for_tenant(shop).values_list("kind", flat=True)) == ["weekly"]


def test_the_report_goes_to_the_recipients_it_was_composed_for(shop, smtp_server, django_capture_on_commit_callbacks):
    # given the report was composed, and the recipients changed before it went out
    with django_capture_on_commit_callbacks(execute=False):
        services.queue_due_reports(now=MONDAY_MORNING)
    shop.reportrecipient_set.update(weekly=False)

    # when the outbox sends it
    outbox.deliver_due()

    # then it went as composed: the message and its recipients are stored with it
    assert sorted(sent["to"] for sent in smtp_server if sorted(sent["to"]) == WEEKLY_RECIPIENTS) == [WEEKLY_RECIPIENTS]
    assert weekly_delivery(shop).outgoing.recipient_list() == WEEKLY_RECIPIENTS
