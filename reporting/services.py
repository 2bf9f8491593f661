"""Writes of the reports: deciding which reports are due, and sending each exactly once.

A report's life: the schedule (``queue_due_reports``) creates its ``ReportDelivery`` row as
PENDING when the tenant's local time reaches the sending time; ``send_delivery`` takes a PENDING
row, commits it as SENDING, talks to the mail server and records SENT, or PENDING again with the
error while retries remain, or FAILED. Only a PENDING row is ever sent by the schedule, so a task
delivered twice, re-run or retried after a success sends nothing. An operations manager sends or
resends on purpose with ``send_on_purpose``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reporting import emails, reports, selectors
from reporting.models import ReportDelivery
from reporting.periods import Period
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Reports go out at this local time on the first day after their period (Monday, the 1st).
SEND_AT = dt.time(7, 0)
# A PENDING row whose task never ran (a lost message) is queued again after this long.
LOST_TASK_AFTER = dt.timedelta(hours=1)

ERROR_NO_RECIPIENTS = _("The tenant has no recipients for this report.")
ERROR_ALREADY_SENT = _("Already sent on %(when)s; use “resend on purpose” to send it again.")
ERROR_NOT_OVER = _("The period is not over yet; preview it now and send it when it has ended.")
ERROR_BEING_SENT = _("It is being sent right now; if it stays so, use “resend on purpose”.")


# --- The schedule ---------------------------------------------------------------------------------


def sending_time(*, tenant: Tenant, period: Period) -> dt.datetime:
    """Return the moment a period's report is due: 07:00 local on the day after the period."""
    return dt.datetime.combine(period.end_day, SEND_AT, tzinfo=tenant.zone)


def due_period(*, tenant: Tenant, kind: str, now: dt.datetime) -> Period | None:
    """Return the period whose report of this kind is due for the tenant at ``now``, if any.

    It is the last whole week or month, once the tenant's local clock has passed 07:00 on the day
    after it, for a live tenant that was live before the period ended. A period missed because the
    schedule did not run (a stopped beat) is still due until the next period ends.
    """
    if tenant.status != Tenant.Status.LIVE or tenant.went_live_at is None:
        return None
    period = reports.last_complete_period(tenant=tenant, kind=kind, now=now)
    if now < sending_time(tenant=tenant, period=period) or tenant.went_live_at >= period.end:
        return None
    return period


def _create_delivery(
    *, tenant: Tenant, kind: str, period: Period, now: dt.datetime | None = None
) -> tuple[ReportDelivery, bool]:
    defaults = {"last_day": period.last_day, "created_at": now or timezone.now()}
    try:
        with transaction.atomic():
            return ReportDelivery.objects.get_or_create(
                tenant=tenant, kind=kind, first_day=period.first_day, defaults=defaults
            )
    except IntegrityError:
        # Another run created it between our look and our insert.
        return ReportDelivery.objects.get(tenant=tenant, kind=kind, first_day=period.first_day), False


def queue_due_reports(*, now: dt.datetime | None = None) -> list[int]:
    """Create the record of every report now due and return the ids of those to send.

    Returned are the records created now and PENDING ones whose task looks lost; a record that
    exists in any other state is left alone, so running this again (or twice at once) queues
    nothing twice. Tenants without recipients for a kind get no record for it.
    """
    now = now or timezone.now()
    to_send = []
    for tenant in Tenant.objects.filter(status=Tenant.Status.LIVE, went_live_at__isnull=False).order_by("pk"):
        for kind in ReportDelivery.Kind.values:
            period = due_period(tenant=tenant, kind=kind, now=now)
            if period is None:
                continue
            if not selectors.recipients_for(tenant=tenant, kind=kind):
                logger.info("No %s report for %s: it has no recipients for it.", kind, tenant.slug)
                continue
            delivery, created = _create_delivery(tenant=tenant, kind=kind, period=period, now=now)
            lost = (
                delivery.status == ReportDelivery.Status.PENDING
                and delivery.attempts == 0
                and delivery.created_at < now - LOST_TASK_AFTER
            )
            if created or lost:
                to_send.append(delivery.pk)
    return to_send


# --- Sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What one attempt did: sent (to whom), skipped (already handled), or failed (and whether to retry)."""

    delivery: ReportDelivery | None
    sent: bool = False
    retry: bool = False
    error: str = ""

    @property
    def skipped(self) -> bool:
        return not self.sent and not self.error


def _claim(delivery_id: int, *, statuses: list[str], by: AbstractBaseUser | None) -> ReportDelivery | None:
    """Mark the record SENDING if it is in one of ``statuses``, and commit that before anything is sent."""
    with transaction.atomic():
        delivery = (
            ReportDelivery.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in statuses:
            return None
        delivery.status = ReportDelivery.Status.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts"])
    delivery.sent_by = by
    return delivery


def _send(delivery: ReportDelivery, *, retry_on_failure: bool) -> SendResult:
    tenant = delivery.tenant
    recipients = selectors.recipients_for(tenant=tenant, kind=delivery.kind)
    if not recipients:
        return _failed(delivery, str(ERROR_NO_RECIPIENTS), retry=False)
    period = reports.report_period(tenant=tenant, kind=delivery.kind, day=delivery.first_day)
    try:
        report = reports.build_report(tenant=tenant, kind=delivery.kind, period=period)
        emails.report_email(report, to=recipients).send()
    except OSError as error:  # smtplib's errors and refused connections
        logger.warning("Sending report %s failed: %s", delivery.pk, error)
        return _failed(delivery, f"{type(error).__name__}: {error}", retry=retry_on_failure)
    except Exception as error:
        # A bug must not leave the row SENDING for ever; record it and let the error surface.
        _failed(delivery, f"{type(error).__name__}: {error}", retry=False)
        raise
    delivery.status = ReportDelivery.Status.SENT
    delivery.recipients = "\n".join(recipients)
    delivery.times_sent += 1
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "recipients", "times_sent", "sent_at", "sent_by", "last_error"])
    return SendResult(delivery=delivery, sent=True)


def _failed(delivery: ReportDelivery, error: str, *, retry: bool) -> SendResult:
    delivery.status = ReportDelivery.Status.PENDING if retry else ReportDelivery.Status.FAILED
    delivery.last_error = error
    delivery.save(update_fields=["status", "last_error", "sent_by"])
    return SendResult(delivery=delivery, retry=retry, error=error)


def send_delivery(*, delivery_id: int, retry_on_failure: bool = False) -> SendResult:
    """Send a PENDING report once; anything else (sent, being sent, failed, gone) is skipped.

    On an SMTP failure the record goes back to PENDING with the error when ``retry_on_failure``
    (the task retries it later), else to FAILED.
    """
    delivery = _claim(delivery_id, statuses=[ReportDelivery.Status.PENDING], by=None)
    if delivery is None:
        return SendResult(delivery=None)
    return _send(delivery, retry_on_failure=retry_on_failure)


def send_on_purpose(
    *,
    tenant: Tenant,
    kind: str,
    period: Period,
    by: AbstractBaseUser,
    resend: bool = False,
    now: dt.datetime | None = None,
) -> SendResult:
    """Send a tenant's report now, for an operations manager; only ``resend`` sends a sent one again.

    The record is created if the report has none (any past period may be sent). A period not yet
    over is refused: its record would stop the schedule from sending the whole period later.
    Sending happens in this call, once, without retries; the result says what happened.
    """
    if period.end > (now or timezone.now()):
        return SendResult(delivery=None, error=str(ERROR_NOT_OVER))
    delivery, _created = _create_delivery(tenant=tenant, kind=kind, period=period)
    allowed = ReportDelivery.Status.values if resend else [ReportDelivery.Status.PENDING, ReportDelivery.Status.FAILED]
    claimed = _claim(delivery.pk, statuses=allowed, by=by)
    if claimed is None:
        delivery.refresh_from_db()
        if delivery.status == ReportDelivery.Status.SENT:
            when = timezone.localtime(delivery.sent_at).strftime("%Y-%m-%d %H:%M")
            return SendResult(delivery=delivery, error=ERROR_ALREADY_SENT % {"when": when})
        return SendResult(delivery=delivery, error=str(ERROR_BEING_SENT))
    return _send(claimed, retry_on_failure=False)
