"""The schedule: each tenant's reports fall due at 07:00 its local time, for the previous week or month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from chatops.celery import app
from outbox.models import OutgoingEmail
from reporting import services, tasks
from reporting.models import ReportDelivery
from tests.reporting.conftest import in_finnish

pytestmark = pytest.mark.django_db

WEEKLY, MONTHLY = ReportDelivery.Kind.WEEKLY, ReportDelivery.Kind.MONTHLY


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def queued(now: dt.datetime, kind: str) -> dict[str, tuple[dt.date, dt.date]]:
    """Run the schedule at ``now``; return the reports of ``kind`` it created, by tenant slug."""
    ids = services.queue_due_reports(now=now)
    deliveries = ReportDelivery.objects.filter(pk__in=ids, kind=kind).select_related("tenant")
    return {delivery.tenant.slug: (delivery.first_day, delivery.last_day) for delivery in deliveries}


def test_monday_0700_comes_to_helsinki_an_hour_before_warsaw(shop, gym):
    # given both went live in November, so only the weeks since then are theirs
    for tenant in (shop, gym):
        tenant.went_live_at = utc(2026, 11, 2, 8)
        tenant.save(update_fields=["went_live_at"])
    last_week = (dt.date(2026, 11, 16), dt.date(2026, 11, 22))

    # when / then: Monday 23 November, Helsinki is UTC+2 and Warsaw UTC+1
    assert queued(utc(2026, 11, 22, 23, 30), WEEKLY) == {}  # 01:30 in Helsinki: the week is over, not yet 07:00
    assert queued(utc(2026, 11, 23, 4, 59), WEEKLY) == {}  # 06:59 in Helsinki
    assert queued(utc(2026, 11, 23, 5, 0), WEEKLY) == {"kahvila": last_week}  # 07:00 in Helsinki, 06:00 in Warsaw
    assert queued(utc(2026, 11, 23, 5, 59), WEEKLY) == {}
    assert queued(utc(2026, 11, 23, 6, 0), WEEKLY) == {"silownia": last_week}  # 07:00 in Warsaw


def test_the_monthly_report_on_the_1st_covers_the_previous_local_month(shop, gym):
    # when / then: 1 December 2026
    november = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert queued(utc(2026, 12, 1, 4, 59), MONTHLY) == {}
    assert queued(utc(2026, 12, 1, 5, 0), MONTHLY) == {"kahvila": november}
    assert queued(utc(2026, 12, 1, 6, 0), MONTHLY) == {"silownia": november}


def test_after_the_spring_change_07_00_in_helsinki_is_an_hour_earlier_in_utc(shop, gym):
    # given Helsinki moves from UTC+2 to UTC+3 (and Warsaw from +1 to +2) on Sunday 29 March 2026
    for tenant in (shop, gym):
        tenant.went_live_at = utc(2026, 3, 9, 8)
        tenant.save(update_fields=["went_live_at"])

    # when / then: on the Monday before the change, 04:30 UTC is 06:30 in Helsinki
    assert queued(utc(2026, 3, 23, 4, 30), WEEKLY) == {}
    assert queued(utc(2026, 3, 23, 5, 0), WEEKLY) == {"kahvila": (dt.date(2026, 3, 16), dt.date(2026, 3, 22))}
    # and on the Monday after it, 04:30 UTC is already 07:30 there (06:30 in Warsaw): the 167-hour week
    assert queued(utc(2026, 3, 30, 4, 30), WEEKLY) == {"kahvila": (dt.date(2026, 3, 23), dt.date(2026, 3, 29))}
    assert queued(utc(2026, 3, 30, 5, 0), WEEKLY) == {"silownia": (dt.date(2026, 3, 23), dt.date(2026, 3, 29))}


def test_october_with_the_autumn_change_ends_at_local_midnight(shop):
    # given
    shop.went_live_at = utc(2026, 9, 1)
    shop.save(update_fields=["went_live_at"])

    # when the 1st of November comes (UTC+2 again since 25 October)
    period = services.due_period(tenant=shop, kind=MONTHLY, now=utc(2026, 11, 1, 5, 0))

    # then the report is for October, from local midnight in summer time to local midnight in winter time
    assert (period.first_day, period.last_day) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert (period.start, period.end) == (utc(2026, 9, 30, 21), utc(2026, 10, 31, 22))
    # and not a minute before 07:00 local
    assert services.due_period(tenant=shop, kind=MONTHLY, now=utc(2026, 11, 1, 4, 59)) is None


def test_only_live_tenants_get_reports_and_only_for_periods_after_going_live(shop, gym):
    # given the gym is paused and the café went live during the week being reported
    gym.status = gym.Status.PAUSED
    gym.save(update_fields=["status"])
    shop.went_live_at = utc(2026, 11, 18, 9)
    shop.save(update_fields=["went_live_at"])

    # when / then: the café's week counts (live for part of it), its October does not; the gym gets nothing
    now = utc(2026, 11, 23, 8)
    assert queued(now, WEEKLY) == {"kahvila": (dt.date(2026, 11, 16), dt.date(2026, 11, 22))}
    assert ReportDelivery.objects.filter(kind=MONTHLY).count() == 0
    assert not ReportDelivery.objects.filter(tenant=gym).exists()


def test_a_due_report_without_its_email_is_composed_on_the_next_run_once(shop):
    # given the week's record exists without an e-mail: composing it failed (or it waited across the upgrade)
    now = utc(2026, 11, 23, 8)
    waiting = ReportDelivery.objects.create(
        tenant=shop, kind=WEEKLY, first_day=dt.date(2026, 11, 16), last_day=dt.date(2026, 11, 22), last_error="X"
    )

    # when the schedule runs, and again
    first, second = services.queue_due_reports(now=now), services.queue_due_reports(now=now)

    # then it was composed by the first run only, and the old error is gone
    assert waiting.pk in first and waiting.pk not in second
    waiting.refresh_from_db()
    assert waiting.outgoing is not None and waiting.last_error == ""
    assert OutgoingEmail.objects.filter(reference=waiting.email_reference).count() == 1


def test_the_beat_task_sends_the_due_reports_once_however_often_it_runs(
    shop, smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    # given it is Monday morning in Helsinki, and the café has been live since January (October unsent)
    monkeypatch.setattr(timezone, "now", lambda: utc(2026, 11, 23, 5, 30))

    # when beat runs the task three times
    queued_counts = []
    for _run in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            queued_counts.append(tasks.queue_due_reports.delay().get())

    # then the week's and October's reports went out once each, to their own recipients
    assert queued_counts == [2, 0, 0]
    subjects = sorted(str(sent["message"]["Subject"]).strip() for sent in smtp_server)
    assert subjects == sorted(
        [
            in_finnish("%(tenant)s: monthly chat report, %(period)s", tenant="Kahvila Oy", period="lokakuu 2026"),
            in_finnish(
                "%(tenant)s: weekly chat report, %(period)s", tenant="Kahvila Oy", period="16.11.2026–22.11.2026"
            ),
        ]
    )
    assert set(ReportDelivery.objects.values_list("outgoing__status", flat=True)) == {OutgoingEmail.Status.SENT}


def test_beat_runs_the_schedule_every_quarter_hour():
    # then
    entry = settings.CELERY_BEAT_SCHEDULE["reports-due"]
    assert entry["task"] == "reporting.tasks.queue_due_reports"
    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == {0, 15, 30, 45}


def test_a_new_tenant_onboarding_gets_nothing(tenant):
    # given a tenant still onboarding, with recipients
    tenant.reportrecipient_set.create(email="boss@example.fi")

    # when
    ids = services.queue_due_reports(now=utc(2026, 11, 23, 8))

    # then
    assert ids == []
