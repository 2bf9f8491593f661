"""Writes of the outbox: queueing an e-mail inside a business transaction, and sending it after.

Sending, one attempt (``deliver``), outside any transaction:

1. take the lease: in a short transaction, a QUEUED row that is due, or a SENDING row whose lease
   ran out (its sender died), becomes SENDING, leased by this attempt until now + the lease time;
2. talk to the mail server; just before the end of the message, record ``handed_over_at`` (only
   while the lease is still ours: otherwise stop without the end, so nothing is sent);
3. right after the server's 250, mark it SENT in a transaction of its own.

A sender that dies before 2 leaves nothing at the server: the next one sends it. One that dies
between 2 and 3 leaves the only window in which the message may have arrived unrecorded: the next
sender sends it again with the same Message-ID and the row says so ("may have been sent twice");
after a second death in that window it stops at UNKNOWN ("may have been sent") instead of risking
a third copy. A temporary refusal (4xx, a lost connection) is retried with exponential back-off
up to ``max_attempts``; a permanent one (5xx) fails at once, with the server's answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import INVITATION_KIND, invitation_email
from outbox import leasing, smtp
from outbox.models import OutgoingEmail

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
# After the handover a sender waits at most EMAIL_TIMEOUT for the server's answer; its lease covers that
# and this much more, to record the answer.
HANDOVER_MARGIN = dt.timedelta(seconds=5)
# A message may go out twice at most: a second death after the handover stops it at UNKNOWN.
MOST_CRASHES_AFTER_HANDOVER = 2
DUE_BATCH = 100
# What taking a lease changes; never the stored message, which is written once.
LEASE_FIELDS = [
    "status",
    "lease_token",
    "leased_until",
    "attempts",
    "attempt_started_at",
    "handed_over_at",
    "last_error",
    "crashes_after_handover",
    "crashed_after_handover_at",
]


class SendAfterCommit:
    """Marker: queue_email sends the e-mail after commit (through a worker, or inline on the embedded default)."""


class SendByCaller:
    """Marker: queue_email only stores it; the caller sends it with ``send_now`` once its transaction committed."""


AFTER_COMMIT, BY_CALLER = SendAfterCommit(), SendByCaller()


def lease_time() -> dt.timedelta:
    return dt.timedelta(seconds=settings.EMAIL_OUTBOX_LEASE_SECONDS)


def message_id_domain() -> str:
    """Return the domain of the Message-IDs: the product's own host name."""
    return urlsplit(settings.SITE_URL).hostname or "chatops.invalid"


def queue_email(
    *,
    message: EmailMessage,
    kind: str,
    reference: str = "",
    send: SendAfterCommit | SendByCaller = AFTER_COMMIT,
    max_attempts: int | None = None,
    requested_by: AbstractBaseUser | None = None,
    now: dt.datetime | None = None,
    text_hidden: bool = False,
) -> OutgoingEmail:
    """Store a composed e-mail in the outbox, in the caller's transaction; return its row.

    ``text_hidden`` keeps the text out of the admin (a message holding a personal sign-in link).

    The message is rendered now, whole (subject, parts, inline images, attachments), with a
    Message-ID of its own that every attempt keeps. A rolled-back transaction leaves no row and
    sends nothing. With ``AFTER_COMMIT`` a worker is asked to send it once the transaction has
    committed (a lost request is made good by ``deliver_due``); ``BY_CALLER`` leaves that to the
    caller (``send_now``). A message without recipients is refused (ValueError).
    """
    email = outgoing_email(message=message, kind=kind, reference=reference, now=now)
    email.max_attempts = max_attempts or settings.EMAIL_OUTBOX_MAX_ATTEMPTS
    email.requested_by = requested_by
    email.text_hidden = text_hidden
    email.save()
    if send is AFTER_COMMIT:
        _send_after_commit([email.pk])
    return email


def outgoing_email(
    *, message: EmailMessage, kind: str, reference: str = "", now: dt.datetime | None = None
) -> OutgoingEmail:
    """Return the outbox row of a composed message (not saved), with a Message-ID of its own."""
    recipients = message.recipients()
    if not recipients:
        raise ValueError("An e-mail needs at least one recipient.")
    message.extra_headers.setdefault("Message-ID", make_msgid(idstring="chatops", domain=message_id_domain()))
    now = now or timezone.now()
    return OutgoingEmail(
        kind=kind,
        reference=reference,
        message_id=message.extra_headers["Message-ID"],
        from_email=message.from_email,
        recipients="\n".join(recipients),
        subject=message.subject,
        message=message.message().as_bytes(linesep="\r\n"),
        created_at=now,
        next_attempt_at=now,
    )


def _send_after_commit(email_ids: list[int]) -> None:
    from outbox import tasks

    def ask_a_worker() -> None:
        for email_id in email_ids:
            tasks.deliver_email.delay(email_id)

    # robust: the row is stored either way; if the broker is away, deliver_due sends it later.
    transaction.on_commit(ask_a_worker, robust=True)


# --- One attempt ------------------------------------------------------------------------------------


@dataclass
class Lease:
    """An attempt that holds an e-mail's lease: only it may record how the attempt went."""

    email: OutgoingEmail
    token: str
    handed_over: bool = False

    def rows(self):
        return leasing.leased_rows(self.email, self.token)


def _take_lease(email_id: int, now: dt.datetime) -> Lease | None:
    """Lease the e-mail to this attempt if it is due or its last sender died by ``now``; None if it is not ours.

    ``now`` decides what is due; the lease itself runs on the clock, which the handover checks it against.
    """

    def started(email: OutgoingEmail, start: dt.datetime) -> None:
        email.attempt_started_at, email.handed_over_at = start, None

    email = leasing.take_lease(
        OutgoingEmail.objects.all(),
        pk=email_id,
        now=now,
        lease_time=lease_time(),
        update_fields=LEASE_FIELDS,
        started=started,
        abandoned=_count_the_dead_sender,
    )
    return None if email is None else Lease(email=email, token=email.lease_token)


def _count_the_dead_sender(email: OutgoingEmail) -> bool:
    """Note a sender that died holding the lease; return False (and give up) if it may have sent it twice."""
    if email.handed_over_at is None:
        email.last_error = f"The sender of attempt {email.attempts} stopped before handing the message over."
        return True
    email.crashes_after_handover += 1
    email.crashed_after_handover_at = email.handed_over_at
    if email.crashes_after_handover >= MOST_CRASHES_AFTER_HANDOVER:
        email.status, email.lease_token, email.leased_until = OutgoingEmail.Status.UNKNOWN, "", None
        email.save(update_fields=LEASE_FIELDS)
        logger.error("E-mail %s may have been sent twice already; not sending it again.", email.pk)
        return False
    return True


def _hand_over(lease: Lease) -> None:
    """Record, while the lease is still ours, that the end of the message goes to the server now."""
    now = timezone.now()
    still_ours = (
        lease.rows()
        .filter(leased_until__gt=now)
        .update(handed_over_at=now, leased_until=now + HANDOVER_MARGIN + dt.timedelta(seconds=settings.EMAIL_TIMEOUT))
    )
    if not still_ours:
        raise smtp.HandoverRefused(f"The lease of e-mail {lease.email.pk} ran out before the handover.")
    lease.handed_over = True


def _mark_sent(lease: Lease, refused: dict[str, tuple[int, bytes]]) -> None:
    """Record the server's acceptance, in a transaction of its own, right after its 250."""
    with transaction.atomic():
        recorded = lease.rows().update(
            status=OutgoingEmail.Status.SENT,
            sent_at=timezone.now(),
            lease_token="",
            leased_until=None,
            last_error="",
            refused_recipients=_refusal_text(refused),
        )
    if not recorded:
        logger.warning("E-mail %s was sent after its lease ran out; the next sender counts it.", lease.email.pk)


def _refusal_text(refused: dict[str, tuple[int, bytes]]) -> str:
    return "\n".join(
        f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in refused.items()
    )


def is_temporary(error: Exception) -> bool:
    """Say whether trying again later may help: a 4xx answer or a lost connection, not a 5xx or a bug."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return False
    return isinstance(error, OSError)


def retry_delay(attempts: int) -> dt.timedelta:
    """Return the pause after the given number of failed attempts: doubling from the base, capped, with jitter."""
    ceiling = min(
        settings.EMAIL_OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0), settings.EMAIL_OUTBOX_RETRY_MAX_SECONDS
    )
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (spreading retries, not secrets)


def _error_text(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        reasons = _refusal_text(error.recipients).replace("\n", "; ")
        return f"The mail server refused every recipient: {reasons}"[:MAX_ERROR_LENGTH]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{type(error).__name__}: {error.smtp_code} {reply}"[:MAX_ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]


def _record_failure(lease: Lease, error: Exception) -> None:
    """Record a failed attempt: queued for a retry after a pause, or failed for good, or unknown after a handover."""
    now = timezone.now()
    email = lease.email
    changes: dict = {"lease_token": "", "leased_until": None, "last_error": _error_text(error)}
    # Past the handover, a lost connection (no answer from the server) may hide an accepted message.
    unanswered = lease.handed_over and not isinstance(error, smtplib.SMTPResponseException)
    if unanswered:
        changes["crashes_after_handover"] = F("crashes_after_handover") + 1
        changes["crashed_after_handover_at"] = F("handed_over_at")
    if unanswered and email.crashes_after_handover + 1 >= MOST_CRASHES_AFTER_HANDOVER:
        changes["status"] = OutgoingEmail.Status.UNKNOWN
    elif unanswered or (is_temporary(error) and email.attempts < email.max_attempts):
        # Nobody refused an unanswered message: it goes again (once), like one whose sender died there.
        changes["status"] = OutgoingEmail.Status.QUEUED
        changes["next_attempt_at"] = now + retry_delay(email.attempts)
    else:
        changes["status"] = OutgoingEmail.Status.FAILED
    lease.rows().update(**changes)
    logger.warning("E-mail %s, attempt %s: %s", email.pk, email.attempts, changes["last_error"])


def _transmit(lease: Lease) -> None:
    """Send the leased message with the configured backend, recording the handover and the acceptance."""
    email = lease.email
    raw = bytes(email.message)
    backend = get_connection(fail_silently=False)
    if isinstance(backend, SmtpBackend):
        smtp.send_message(
            sender=email.from_email,
            recipients=email.recipient_list(),
            message=raw,
            on_handover=lambda: _hand_over(lease),
            on_accepted=lambda refused: _mark_sent(lease, refused),
        )
        return
    # Other backends (console, file, memory) send in one call: the handover is that call.
    _hand_over(lease)
    backend.send_messages([StoredEmail(email, raw)])
    _mark_sent(lease, {})


def deliver(email_id: int, *, now: dt.datetime | None = None) -> OutgoingEmail | None:
    """Make one attempt at sending the e-mail if it is due (or abandoned); return it as it is now.

    Call outside a transaction: the lease, the handover and the outcome each commit on their own.
    Returns None for an e-mail that does not exist. An e-mail not due, or leased by someone else,
    is returned untouched.
    """
    lease = _take_lease(email_id, now or timezone.now())
    if lease is not None:
        try:
            _transmit(lease)
        except smtp.HandoverRefused:
            logger.warning("E-mail %s: lease lost before the handover; left to its new sender.", email_id)
        except Exception as error:
            # Past the handover this includes a failure to record the server's 250: then it may go twice.
            _record_failure(lease, error)
            if not isinstance(error, OSError):
                logger.exception("E-mail %s could not be sent because of an error in chatops.", email_id)
    return OutgoingEmail.objects.filter(pk=email_id).first()


def send_now(email: OutgoingEmail) -> OutgoingEmail:
    """Make the first attempt at an e-mail queued ``BY_CALLER`` here and now; return it as it is after."""
    return deliver(email.pk) or email


@transaction.atomic
def deliver_as_of(email: OutgoingEmail, *, at: dt.datetime, connection: BaseEmailBackend) -> OutgoingEmail:
    """Make one attempt at a queued e-mail as of a past moment, through the given mail connection.

    For writing history (the demo): its e-mails went out long ago, so nothing here holds a lease
    (no worker sends history) and the connection decides what the server answered then: one that
    delivers nowhere, one that refuses, or the SMTP backend (the configured mail server, talked to
    as a live attempt talks to it). The outcome is recorded by the rules of a live attempt: sent at
    ``at``; or the error's text, queued again after the back-off while a temporary refusal has
    attempts left, failed otherwise. An e-mail that is not queued is returned untouched.
    """
    email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
    if email.status != OutgoingEmail.Status.QUEUED:
        return email
    email.attempts += 1
    email.attempt_started_at = at
    try:
        email.refused_recipients = _refusal_text(_hand_to(connection, email))
    except Exception as error:
        email.last_error = _error_text(error)
        temporary = is_temporary(error) and email.attempts < email.max_attempts
        email.status = OutgoingEmail.Status.QUEUED if temporary else OutgoingEmail.Status.FAILED
        email.next_attempt_at = at + retry_delay(email.attempts) if temporary else email.next_attempt_at
    else:
        email.status, email.handed_over_at, email.sent_at, email.last_error = OutgoingEmail.Status.SENT, at, at, ""
    email.save(
        update_fields=[
            "status",
            "attempts",
            "attempt_started_at",
            "handed_over_at",
            "sent_at",
            "last_error",
            "next_attempt_at",
            "refused_recipients",
        ]
    )
    return email


def _hand_to(connection: BaseEmailBackend, email: OutgoingEmail) -> dict[str, tuple[int, bytes]]:
    """Send the stored message, as composed, through the connection; return the recipients the server refused."""
    raw = bytes(email.message)
    if not isinstance(connection, SmtpBackend):
        connection.send_messages([StoredEmail(email, raw)])
        return {}
    refused: dict[str, tuple[int, bytes]] = {}
    smtp.send_message(
        sender=email.from_email,
        recipients=email.recipient_list(),
        message=raw,
        on_handover=lambda: None,
        on_accepted=refused.update,
    )
    return refused


def deliver_due(*, now: dt.datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Attempt every e-mail that is due or whose sender died (the oldest first, at most ``limit``); return how many."""
    now = now or timezone.now()
    due = (
        OutgoingEmail.objects.filter(leasing.due_or_abandoned(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    attempted = 0
    for email_id in list(due):
        deliver(email_id, now=now)
        attempted += 1
    return attempted


class StoredEmail(EmailMessage):
    """A stored message handed to a Django mail backend (console, file, memory) exactly as it was composed."""

    def __init__(self, email: OutgoingEmail, raw: bytes) -> None:
        parsed = message_from_bytes(raw, policy=policy.default)
        text = parsed.get_body(preferencelist=("plain", "html"))
        super().__init__(
            subject=email.subject,
            body=text.get_content() if text is not None else "",
            from_email=email.from_email,
            to=email.recipient_list(),
        )
        self.raw = raw

    def message(self):
        return message_from_bytes(self.raw)


# --- On purpose ------------------------------------------------------------------------------------


def retry_now(emails: Iterable[OutgoingEmail]) -> int:
    """Queue failed, uncertain or waiting e-mails for an attempt right away, same Message-ID; return how many.

    An operations manager's decision: an e-mail that "may have been sent" may then arrive twice.
    """
    now = timezone.now()
    ids = [email.pk for email in emails]
    with transaction.atomic():
        again = OutgoingEmail.objects.filter(
            pk__in=ids,
            status__in=[OutgoingEmail.Status.FAILED, OutgoingEmail.Status.UNKNOWN, OutgoingEmail.Status.QUEUED],
        )
        queued = list(again.values_list("pk", flat=True))
        again.update(
            status=OutgoingEmail.Status.QUEUED,
            next_attempt_at=now,
            max_attempts=F("attempts") + settings.EMAIL_OUTBOX_MAX_ATTEMPTS,
            crashes_after_handover=0,
        )
        _send_after_commit(queued)
    return len(queued)


def forget(*, references: list[str]) -> int:
    """Delete the e-mails about these references (their data goes with what they were about); return how many."""
    if not references:
        return 0
    # Only the keys are read to delete them (the messages can be large); the links to them are cleared.
    emails = OutgoingEmail.objects.filter(reference__in=references).only("pk")
    return emails.delete()[1].get(OutgoingEmail._meta.label, 0)


def queue_invitation(*, user: AbstractBaseUser, language: str = "en") -> OutgoingEmail:
    """Queue a new login's invitation (its password link) in the caller's transaction; the admin hides its text."""
    message = invitation_email(user=user, language=language)
    return queue_email(message=message, kind=INVITATION_KIND, reference=f"user:{user.pk}", text_hidden=True)
