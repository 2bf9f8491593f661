"""The handoff report: what a client must take over from an escalated chat, e-mailed to its escalation contacts.

The report is sent by a Celery task that may run more than once (retries, redelivery, a resend from
the admin racing a retry). The Handoff row is locked while sending and marked sent in the same
transaction, so only one run sends; a run that finds it sent does nothing. A failure is recorded on
the row (attempts, last error) and the task retries; the last failed try leaves it FAILED.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from conversations.models import Conversation, Handoff, Message, PageView
from conversations.offline import escalation_contacts
from conversations.outcomes import format_promised_by
from tenants.models import Tenant

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class TranscriptLine:
    """One message as a report shows it: the day and time in the tenant's zone, who wrote it, the text."""

    date: str
    time: str
    sender: str
    kind: str
    body: str


def transcript_lines(conversation: Conversation, *, tenant: Tenant, visitor_name: str = "") -> list[TranscriptLine]:
    """Return the conversation's messages in order, formatted in the active language and the tenant's zone."""
    lines = []
    for message in conversation.messages.select_related("agent").order_by("seq"):
        local = timezone.localtime(message.created_at, tenant.zone)
        if message.sender == Message.Sender.VISITOR:
            sender = visitor_name or message.get_sender_display()
        elif message.sender == Message.Sender.AGENT and message.agent_id:
            sender = message.agent.display_name
        else:
            sender = message.get_sender_display()
        lines.append(
            TranscriptLine(
                date=formats.date_format(local, "DATE_FORMAT"),
                time=formats.time_format(local, "TIME_FORMAT"),
                sender=sender,
                kind=message.sender,
                body=message.body,
            )
        )
    return lines


def _page_url(conversation: Conversation, *, tenant: Tenant) -> str:
    """Return the page the visitor was on when the chat ended (the last one opened before that)."""
    views = PageView.objects.for_tenant(tenant).filter(visitor_id=conversation.visitor_id)
    if conversation.closed_at:
        views = views.filter(viewed_at__lte=conversation.closed_at)
    page = views.order_by("-viewed_at").first()
    return page.url if page else ""


def build_handoff_email(handoff: Handoff, *, recipients: list[str]) -> EmailMultiAlternatives:
    """Return the report's e-mail (plain text and HTML) in the tenant's language, replying to the visitor."""
    conversation, tenant = handoff.conversation, handoff.tenant
    agent = handoff.agent or conversation.agent
    with translation.override(tenant.language):
        context = {
            "tenant": tenant,
            "conversation": conversation,
            "handoff": handoff,
            "agent_name": agent.display_name if agent else "",
            "promised_by": format_promised_by(handoff.promised_by, tenant=tenant),
            "page_url": _page_url(conversation, tenant=tenant),
            "transcript": transcript_lines(conversation, tenant=tenant, visitor_name=handoff.visitor_name),
        }
        who = handoff.visitor_name or handoff.visitor_email or handoff.visitor_phone
        subject = gettext("[%(tenant)s] Handoff report, chat #%(number)s: %(who)s") % {
            "tenant": tenant.name,
            "number": conversation.pk,
            "who": who,
        }
        text = render_to_string("conversations/email/handoff_report.txt", context)
        html = render_to_string("conversations/email/handoff_report.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=recipients,
        reply_to=[handoff.visitor_email] if handoff.visitor_email else None,
        headers={"Content-Language": tenant.language},
    )
    email.attach_alternative(html, "text/html")
    return email


def _record_failure(handoff_id: int, error: Exception, *, final: bool) -> None:
    """Note a failed try on the report: still waiting while retries remain, failed after the last one."""
    Handoff.objects.filter(pk=handoff_id).exclude(status=Handoff.Status.SENT).update(
        attempts=F("attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH],
        status=Handoff.Status.FAILED if final else Handoff.Status.PENDING,
    )


def send_handoff_report(
    *,
    handoff_id: int,
    final_attempt: bool = True,
    now: dt.datetime | None = None,
    connection: BaseEmailBackend | None = None,
) -> int:
    """E-mail a handoff report to its tenant's escalation contacts unless it was sent; return how many got it.

    Locks the Handoff row while sending and records the sending (recipients, time, attempts) in the
    same transaction, so a second run, or one racing this one, sends nothing. Without an escalation
    contact the report is marked NO_RECIPIENT. On an error nothing is marked sent, the try is
    recorded, and the error is raised again for the task to retry; ``final_attempt`` says whether
    this was the last try (then the report is marked FAILED). ``connection`` is the mail connection to
    send through (default: the configured one).
    """
    try:
        with transaction.atomic():
            handoff = (
                Handoff.objects.select_for_update(of=("self",))
                .select_related("tenant", "agent", "conversation__agent", "conversation__visitor")
                .filter(pk=handoff_id)
                .first()
            )
            if handoff is None or handoff.status == Handoff.Status.SENT:
                return 0
            recipients = escalation_contacts(tenant=handoff.tenant)
            if not recipients:
                handoff.status = Handoff.Status.NO_RECIPIENT
                handoff.save(update_fields=["status"])
                return 0
            email = build_handoff_email(handoff, recipients=recipients)
            email.connection = connection
            email.send()
            handoff.status, handoff.sent_at = Handoff.Status.SENT, now or timezone.now()
            handoff.recipients, handoff.attempts, handoff.last_error = ", ".join(recipients), handoff.attempts + 1, ""
            handoff.save(update_fields=["status", "sent_at", "recipients", "attempts", "last_error"])
            return len(recipients)
    except Exception as error:
        # Only connection and SMTP errors (OSErrors) are retried; anything else was the last try.
        _record_failure(handoff_id, error, final=final_attempt or not isinstance(error, OSError))
        raise


def send_again(*, handoff: Handoff) -> bool:
    """Queue a report to be sent again on purpose, even if it was sent; return False if nobody would get it.

    The report goes back to waiting and the usual task sends it once after commit. A tenant without
    an escalation contact gets nothing queued (and a report not yet sent is marked NO_RECIPIENT).
    """
    from conversations import tasks

    with transaction.atomic():
        locked = Handoff.objects.select_for_update().select_related("tenant").get(pk=handoff.pk)
        if not escalation_contacts(tenant=locked.tenant):
            if locked.status != Handoff.Status.SENT:
                locked.status = Handoff.Status.NO_RECIPIENT
                locked.save(update_fields=["status"])
            return False
        locked.status = Handoff.Status.PENDING
        locked.save(update_fields=["status"])
        transaction.on_commit(lambda: tasks.send_handoff_report.delay(locked.pk), robust=True)
    return True
