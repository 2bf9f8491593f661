"""Reads of the outbox: an e-mail's state in words an operations manager understands, and the queue's health."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext

from moments.formatting import show_moment
from outbox.models import OutgoingEmail

GOOD, WAITING, BAD = "good", "waiting", "bad"


@dataclass(frozen=True)
class EmailState:
    """What to tell a person about an e-mail: one sentence, and whether it is fine, on its way or a problem."""

    text: str
    tone: str


def when_text(moment: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """Return a moment in the given zone (the server's by default), in the active language, with the zone's name."""
    return show_moment(moment, zone)


def _abandoned(email: OutgoingEmail, now: dt.datetime) -> bool:
    return email.status == OutgoingEmail.Status.SENDING and email.leased_until is not None and email.leased_until < now


def describe(
    email: OutgoingEmail, *, zone: zoneinfo.ZoneInfo | None = None, now: dt.datetime | None = None
) -> EmailState:
    """Say where an e-mail is: queued, sending, sent, failed and why, or that it may have been sent."""
    now = now or timezone.now()
    status = OutgoingEmail.Status
    if email.status == status.SENT:
        return EmailState(_sent_text(email, zone), WAITING if email.crashed_after_handover_at else GOOD)
    if email.status == status.FAILED:
        return EmailState(gettext("Failed: %(error)s") % {"error": email.last_error}, BAD)
    if email.status == status.UNKNOWN:
        text = gettext(
            "May have been sent: the worker died at %(when)s after handing it to the mail server, and it is not "
            "sent again by itself. Check with the recipients, then send it again if it did not arrive."
        )
        return EmailState(text % {"when": when_text(email.crashed_after_handover_at, zone)}, BAD)
    if _abandoned(email, now) and email.handed_over_at:
        text = gettext(
            "May have been sent: the worker died at %(when)s after handing it to the mail server; it will be "
            "sent again with the same Message-ID."
        )
        return EmailState(text % {"when": when_text(email.handed_over_at, zone)}, BAD)
    if _abandoned(email, now):
        text = gettext("Interrupted: the worker died during the attempt started %(when)s; it will be sent again.")
        return EmailState(text % {"when": when_text(email.attempt_started_at, zone)}, WAITING)
    if email.status == status.SENDING:
        return EmailState(
            gettext("Sending since %(when)s") % {"when": when_text(email.attempt_started_at, zone)}, WAITING
        )
    if email.attempts:
        text = gettext("Waiting to retry at %(when)s after: %(error)s")
        return EmailState(text % {"when": when_text(email.next_attempt_at, zone), "error": email.last_error}, WAITING)
    return EmailState(gettext("Queued"), WAITING)


def _sent_text(email: OutgoingEmail, zone: zoneinfo.ZoneInfo | None) -> str:
    parts = [gettext("Sent %(when)s") % {"when": when_text(email.sent_at, zone)}]
    if email.crashed_after_handover_at:
        parts.append(
            gettext(
                "may have been sent twice: a worker died at %(when)s after the mail server had it, so it went "
                "again with the same Message-ID"
            )
            % {"when": when_text(email.crashed_after_handover_at, zone)}
        )
    if email.refused_recipients:
        refused = ", ".join(line.split(":", 1)[0] for line in email.refused_recipients.splitlines())
        parts.append(gettext("the mail server refused %(addresses)s") % {"addresses": refused})
    return "; ".join(parts)


def emails_about(reference: str, *, kind: str = "") -> list[OutgoingEmail]:
    """Return the e-mails about one thing (of one kind, if given), the newest first."""
    emails = OutgoingEmail.objects.filter(reference=reference).defer("message")
    if kind:
        emails = emails.filter(kind=kind)
    return list(emails.order_by("-created_at", "-pk"))


@dataclass(frozen=True)
class OutboxHealth:
    """The e-mail queue as the operations board shows it."""

    waiting: int
    failed: int
    uncertain: int
    oldest_waiting_since: dt.datetime | None

    @property
    def in_trouble(self) -> bool:
        return bool(self.failed or self.uncertain)


def outbox_health(*, now: dt.datetime, failed_since: dt.timedelta = dt.timedelta(days=1)) -> OutboxHealth:
    """Count the e-mails on their way, and those that failed or may have been sent (the last day's)."""
    status = OutgoingEmail.Status
    on_the_way = Q(status__in=[status.QUEUED, status.SENDING])
    recent_problem = Q(created_at__gte=now - failed_since)
    dead_after_handover = Q(status=status.SENDING, leased_until__lt=now, handed_over_at__isnull=False)
    figures = OutgoingEmail.objects.aggregate(
        waiting=Count("pk", filter=on_the_way),
        failed=Count("pk", filter=Q(status=status.FAILED) & recent_problem),
        uncertain=Count("pk", filter=Q(status=status.UNKNOWN) | dead_after_handover),
        oldest=Min("created_at", filter=on_the_way),
    )
    return OutboxHealth(
        waiting=figures["waiting"],
        failed=figures["failed"],
        uncertain=figures["uncertain"],
        oldest_waiting_since=figures["oldest"],
    )
