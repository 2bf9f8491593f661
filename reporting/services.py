"""Writes of the reports: deciding which reports are due, and queueing each exactly once.

A report's life: when the tenant's local time reaches the sending time, the schedule
(``queue_due_reports``) creates its ``ReportDelivery`` row, composes the report and writes its
e-mail to the outbox, all in one transaction, and links the row to the e-mail. The outbox sends it
after commit, once, retrying a refusal with back-off; the row's state is the e-mail's. A row that
has its e-mail is never composed again by the schedule, so a schedule run twice (or at once) queues
nothing twice; one whose composing failed records why and is composed again on the next run. An
operations manager sends or resends on purpose with ``send_on_purpose``, which sends at once and
says how it went.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from outbox import selectors as outbox_selectors
from outbox import services as outbox
from outbox.models import OutgoingEmail
from reporting import emails, reports, selectors, signals
from reporting.models import ReportDelivery
from reporting.periods import Period
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Reports go out at this local time on the first day after their period (Monday, the 1st).
SEND_AT = dt.time(7, 0)
EMAIL_KINDS = {
    ReportDelivery.Kind.WEEKLY: gettext_noop("weekly report"),
    ReportDelivery.Kind.MONTHLY: gettext_noop("monthly report"),
}
MAX_ERROR_LENGTH = 2000

ERROR_NO_RECIPIENTS = _("The tenant has no recipients for this report.")
ERROR_ALREADY_SENT = _("Already sent on %(when)s; use “resend on purpose” to send it again.")
ERROR_NOT_OVER = _("The period is not over yet; preview it now and send it when it has ended.")
ERROR_BEING_SENT = _("It is on its way (being sent, or waiting to retry); its status shows when it has gone out.")
ERROR_MAY_HAVE_BEEN_SENT = _(
    "It may have been sent already (a worker died while sending it); check with the recipients and use "
    "“resend on purpose” if it did not arrive."
)


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
    """Compose every report now due into the outbox; return the ids of the deliveries queued by this run.

    A delivery that has its e-mail is left alone, so running this again (or twice at once) queues
    nothing twice; one whose composing failed before is tried again. Tenants without recipients for
    a kind get no record for it.
    """
    now = now or timezone.now()
    queued = []
    for tenant in Tenant.objects.filter(status=Tenant.Status.LIVE, went_live_at__isnull=False).order_by("pk"):
        for kind in ReportDelivery.Kind.values:
            period = due_period(tenant=tenant, kind=kind, now=now)
            if period is None:
                continue
            if not selectors.recipients_for(tenant=tenant, kind=kind):
                logger.info("No %s report for %s: it has no recipients for it.", kind, tenant.slug)
                continue
            delivery, _created = _create_delivery(tenant=tenant, kind=kind, period=period, now=now)
            if delivery.outgoing_id is None and _queue_scheduled(delivery, now=now):
                queued.append(delivery.pk)
    return queued


def _queue_scheduled(delivery: ReportDelivery, *, now: dt.datetime) -> bool:
    """Compose a due report into the outbox unless another run did; record why if it cannot be composed."""
    try:
        with transaction.atomic():
            locked = ReportDelivery.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=delivery.pk)
            if locked.outgoing_id is not None:
                return False
            _compose(locked, send=outbox.AFTER_COMMIT, now=now)
        return True
    except Exception as error:
        # A bug in one report must not stop the others, nor pass unseen: the admin shows it, the log has it.
        logger.exception("The %s report %s could not be composed.", delivery.kind, delivery.pk)
        ReportDelivery.objects.filter(pk=delivery.pk).update(
            last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        )
        return False


class NoRecipients(Exception):
    """The tenant has nobody to send this kind of report to."""


def _compose(
    delivery: ReportDelivery,
    *,
    send: outbox.SendAfterCommit | outbox.SendByCaller,
    requested_by: AbstractBaseUser | None = None,
    max_attempts: int | None = None,
    now: dt.datetime | None = None,
) -> OutgoingEmail:
    """Build the report of a delivery (locked by the caller) and write its e-mail to the outbox; link them.

    The first time a delivery is composed its report is ready: ``signals.report_ready`` is sent, in
    the caller's transaction (a resend on purpose is the same report, and sends nothing).
    """
    tenant = delivery.tenant
    first_time = delivery.outgoing_id is None
    recipients = selectors.recipients_for(tenant=tenant, kind=delivery.kind)
    if not recipients:
        raise NoRecipients(str(ERROR_NO_RECIPIENTS))
    period = reports.report_period(tenant=tenant, kind=delivery.kind, day=delivery.first_day)
    report = reports.build_report(tenant=tenant, kind=delivery.kind, period=period)
    delivery.outgoing = outbox.queue_email(
        message=emails.report_email(report, to=recipients),
        kind=EMAIL_KINDS[delivery.kind],
        reference=delivery.email_reference,
        send=send,
        requested_by=requested_by,
        max_attempts=max_attempts,
        now=now,
    )
    delivery.last_error = ""
    delivery.save(update_fields=["outgoing", "last_error"])
    if first_time:
        signals.report_ready.send(sender=ReportDelivery, delivery=delivery, report=report)
    return delivery.outgoing


# --- On purpose -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What sending on purpose did: sent (the e-mail says to whom), or not, and why."""

    delivery: ReportDelivery | None
    email: OutgoingEmail | None = None
    sent: bool = False
    error: str = ""


def _refusal(current: OutgoingEmail | None) -> str:
    """Say why "send" (not "resend on purpose") must not send the report again; empty if it may."""
    if current is None or current.status == OutgoingEmail.Status.FAILED:
        return ""
    if current.status == OutgoingEmail.Status.SENT:
        return ERROR_ALREADY_SENT % {"when": outbox_selectors.when_text(current.sent_at)}
    if current.status == OutgoingEmail.Status.UNKNOWN or current.crashed_after_handover_at:
        return str(ERROR_MAY_HAVE_BEEN_SENT)
    return str(ERROR_BEING_SENT)


def send_on_purpose(
    *,
    tenant: Tenant,
    kind: str,
    period: Period,
    by: AbstractBaseUser,
    resend: bool = False,
    now: dt.datetime | None = None,
) -> SendResult:
    """Send a tenant's report now, for an operations manager; only ``resend`` sends one that went out again.

    The record is created if the report has none (any past period may be sent). A period not yet
    over is refused: its record would stop the schedule from sending the whole period later. The
    report is composed into the outbox and sent in this call, with one attempt; the result says how
    it went (the e-mail's row keeps it, and who asked).
    """
    if period.end > (now or timezone.now()):
        return SendResult(delivery=None, error=str(ERROR_NOT_OVER))
    if not selectors.recipients_for(tenant=tenant, kind=kind):
        return SendResult(delivery=None, error=str(ERROR_NO_RECIPIENTS))
    delivery, _created = _create_delivery(tenant=tenant, kind=kind, period=period)
    with transaction.atomic():
        locked = ReportDelivery.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=delivery.pk)
        refusal = "" if resend else _refusal(locked.outgoing)
        if refusal:
            return SendResult(delivery=locked, email=locked.outgoing, error=refusal)
        email = _compose(locked, send=outbox.BY_CALLER, requested_by=by, max_attempts=1)
    email = outbox.send_now(email)
    if email.status == OutgoingEmail.Status.SENT:
        return SendResult(delivery=locked, email=email, sent=True)
    return SendResult(delivery=locked, email=email, error=email.last_error)
