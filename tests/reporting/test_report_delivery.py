"""Each report is sent once: re-runs, redelivered tasks and retries never send it twice."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from reporting import services, tasks
from reporting.models import ReportDelivery
from tests.reporting.report_history import WEEK_FIRST_DAY, local

pytestmark = pytest.mark.django_db

MONDAY_MORNING = local(2026, 11, 23, 7, 30)


def run_like_a_worker(task, *args):
    """Run a task inline and each retry it asks for at once, as a worker would after the back-off wait.

    Inline (eager) Celery raises a task's Retry to the caller instead of scheduling it.
    """
    retries = 0
    while True:
        try:
            return task.apply(args=args, retries=retries, throw=True).get()
        except Retry:
            retries += 1


def weekly_delivery(tenant) -> ReportDelivery:
    return ReportDelivery.objects.get(tenant=tenant, kind=ReportDelivery.Kind.WEEKLY, first_day=WEEK_FIRST_DAY)


def queue_weekly(tenant) -> ReportDelivery:
    services.queue_due_reports(now=MONDAY_MORNING)
    return weekly_delivery(tenant)


def test_a_rerun_schedule_and_a_redelivered_task_send_nothing_twice(shop, smtp_server):
    # given the week's report went out
    ids = services.queue_due_reports(now=MONDAY_MORNING)
    for delivery_id in ids:
        tasks.send_report.delay(delivery_id)
    sent_before = len(smtp_server)
    assert sent_before == len(ids) == 2  # the week's and (never sent before) October's

    # when the schedule runs again, later that day and the next, and the same tasks are delivered again
    again = services.queue_due_reports(now=MONDAY_MORNING) + services.queue_due_reports(now=local(2026, 11, 24, 9))
    for delivery_id in ids:
        tasks.send_report.delay(delivery_id)

    # then nothing more was queued or sent
    assert again == []
    assert len(smtp_server) == sent_before
    delivery = weekly_delivery(shop)
    assert delivery.times_sent == 1
    assert delivery.attempts == 1


def test_a_report_left_sending_by_a_dead_worker_is_not_sent_again_by_the_task(shop, smtp_server):
    # given a worker marked the report SENDING and died before recording the outcome
    delivery = queue_weekly(shop)
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.SENDING, attempts=1)

    # when the broker delivers the task again
    went_out = tasks.send_report.delay(delivery.pk).get()

    # then it is left for an operations manager to resend on purpose
    assert went_out is False
    assert smtp_server == []
    assert weekly_delivery(shop).status == ReportDelivery.Status.SENDING


def test_an_smtp_refusal_is_retried_and_the_report_arrives_once(shop, flaky_smtp_server):
    # given a mail server that refuses the first message with a temporary error
    delivery = queue_weekly(shop)

    # when the task runs and its retry after it
    run_like_a_worker(tasks.send_report, delivery.pk)

    # then the second attempt delivered it, once
    assert flaky_smtp_server.refused == 1
    assert len(flaky_smtp_server.messages) == 1
    delivery = weekly_delivery(shop)
    assert delivery.status == ReportDelivery.Status.SENT
    assert delivery.attempts == 2
    assert delivery.last_error == ""

    # and the retry delivered once more sends nothing
    run_like_a_worker(tasks.send_report, delivery.pk)
    assert len(flaky_smtp_server.messages) == 1


def test_a_failed_attempt_waits_for_its_retry_with_the_error_recorded(shop, smtp_down):
    # given
    delivery = queue_weekly(shop)

    # when one attempt fails while retries remain
    result = services.send_delivery(delivery_id=delivery.pk, retry_on_failure=True)

    # then the task is told to retry and the record waits for it, with the error
    assert result.retry is True
    delivery = weekly_delivery(shop)
    assert delivery.status == ReportDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.last_error


def test_smtp_down_ends_failed_with_the_error_after_the_retries(shop, smtp_down):
    # given
    delivery = queue_weekly(shop)

    # when the task runs out of retries
    went_out = run_like_a_worker(tasks.send_report, delivery.pk)

    # then the record is FAILED with the error, after the first attempt and every retry
    assert went_out is False
    delivery = weekly_delivery(shop)
    assert delivery.status == ReportDelivery.Status.FAILED
    assert delivery.attempts == 1 + tasks.MAX_RETRIES
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.sent_at is None


def test_retries_back_off_exponentially_up_to_an_hour_with_jitter(shop, smtp_down, monkeypatch):
    # given a task whose retries are recorded instead of scheduled, and the jitter at its largest
    import celery.utils.time

    delivery = queue_weekly(shop)
    countdowns = []

    def record_retry(*args, countdown=None, **kwargs):
        countdowns.append(countdown)
        return Retry(when=countdown)

    monkeypatch.setattr(tasks.send_report, "retry", record_retry)
    monkeypatch.setattr(celery.utils.time.random, "randrange", lambda stop: stop - 1)

    # when every attempt but the last fails
    for retries in range(tasks.MAX_RETRIES):
        ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.PENDING)
        with pytest.raises(Retry):
            tasks.send_report.apply(args=[delivery.pk], retries=retries, throw=True)

    # then each wait is at most 60 s doubled per attempt (the jitter picks below that)
    assert countdowns == [60, 120, 240, 480, 960, 1920]


def test_a_tenant_without_recipients_for_a_kind_gets_no_record(shop):
    # given nobody at the café wants the monthly report any more
    shop.reportrecipient_set.update(monthly=False)

    # when
    services.queue_due_reports(now=local(2026, 12, 1, 8))

    # then only the weekly report is recorded
    assert list(ReportDelivery.objects.for_tenant(shop).values_list("kind", flat=True)) == ["weekly"]


def test_recipients_removed_after_queuing_end_the_report_failed_with_a_clear_error(shop, smtp_server):
    # given
    delivery = queue_weekly(shop)
    shop.reportrecipient_set.update(weekly=False)

    # when
    tasks.send_report.delay(delivery.pk)

    # then
    assert smtp_server == []
    delivery = weekly_delivery(shop)
    assert delivery.status == ReportDelivery.Status.FAILED
    assert delivery.last_error == str(services.ERROR_NO_RECIPIENTS)
