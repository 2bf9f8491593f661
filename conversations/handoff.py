"""The handoff report: what a client must take over from an escalated chat, e-mailed to its escalation contacts.

The report is composed when the chat is closed and written to the outbox in the same transaction
(``queue_report``); the outbox sends it after commit, once, retrying a refusal, and the handoff links
to the e-mail, whose status is the report's. Without an escalation contact nothing is queued and the
admin says what to add.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext, gettext_noop

from conversations.models import Conversation, Handoff, Message, PageView, email_reference
from conversations.offline import escalation_contacts
from conversations.outcomes import format_promised_by
from moments.formatting import local_moment, show_moment
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants.models import Tenant

EMAIL_KIND = gettext_noop("handoff report")


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
        if message.sender == Message.Sender.VISITOR:
            sender = visitor_name or message.get_sender_display()
        elif message.sender == Message.Sender.AGENT and message.agent_id:
            sender = message.agent.display_name
        else:
            sender = message.get_sender_display()
        lines.append(
            TranscriptLine(
                date=formats.date_format(local_moment(message.created_at, tenant.zone), "DATE_FORMAT"),
                time=show_moment(message.created_at, tenant.zone, style="time"),
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


def handoff_subject(handoff: Handoff, *, tenant: Tenant) -> str:
    """Return the report e-mail's subject, in the tenant's language, on one line."""
    who = handoff.visitor_name or handoff.visitor_email or handoff.visitor_phone
    with translation.override(tenant.language):
        subject = gettext("[%(tenant)s] Handoff report, chat #%(number)s: %(who)s") % {
            "tenant": tenant.name,
            "number": handoff.conversation_id or handoff.conversation.pk,
            "who": who,
        }
    return " ".join(subject.split())


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
        text = render_to_string("conversations/email/handoff_report.txt", context)
        html = render_to_string("conversations/email/handoff_report.html", context)
    email = EmailMultiAlternatives(
        subject=handoff_subject(handoff, tenant=tenant),
        body=text,
        to=recipients,
        reply_to=[handoff.visitor_email] if handoff.visitor_email else None,
        headers={"Content-Language": tenant.language},
    )
    email.attach_alternative(html, "text/html")
    return email


def queue_report(handoff: Handoff, *, now: dt.datetime | None = None, send: bool = True) -> OutgoingEmail | None:
    """Write the report's e-mail to the escalation contacts into the outbox, in the caller's transaction.

    The handoff is linked to it (its status is the e-mail's); the outbox sends it after commit, or,
    with ``send=False``, leaves that to the caller. Returns None, queueing nothing, when the tenant
    has no escalation contact.
    """
    recipients = escalation_contacts(tenant=handoff.tenant)
    if not recipients:
        return None
    handoff.outgoing = outbox.queue_email(
        message=build_handoff_email(handoff, recipients=recipients),
        kind=EMAIL_KIND,
        reference=email_reference(handoff.conversation_id),
        send=outbox.AFTER_COMMIT if send else outbox.BY_CALLER,
        now=now,
    )
    handoff.save(update_fields=["outgoing"])
    return handoff.outgoing


def send_again(*, handoff: Handoff) -> bool:
    """Queue the report to the escalation contacts once more, on purpose; return False if nobody would get it.

    It is composed again (a new Message-ID: the recipients get it again even if the last one arrived)
    and sent after commit; the report shows the new e-mail's status.
    """
    with transaction.atomic():
        locked = (
            Handoff.objects.for_tenant(handoff.tenant_id)
            .select_for_update(of=("self",))
            .select_related("tenant", "agent", "conversation__agent", "conversation__visitor")
            .get(pk=handoff.pk)
        )
        return queue_report(locked) is not None
