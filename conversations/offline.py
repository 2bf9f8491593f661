"""The widget's message form: when nobody can chat, the visitor leaves a question and an e-mail address.

The question becomes a waiting conversation (origin "offline"), so the next shift finds it in the
tenant's queue, and the tenant's escalation contacts get it by e-mail right away: the e-mail is
composed with the question and written to the outbox in the same transaction, which sends it after
commit, once. A system message in the conversation says it was forwarded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from conversations import protection, services, signals, visits
from conversations.models import Conversation, Message, PageView, email_reference
from conversations.safe_text import BIDI_CONTROLS, NUL, nul_error
from outbox import services as outbox
from tenants.models import ReportRecipient, Tenant

MAX_NAME_LENGTH = 120
MAX_EMAIL_LENGTH = 254
MAX_QUESTION_LENGTH = services.MAX_MESSAGE_LENGTH
FORWARDED_ID_PREFIX = "forwarded:"
EMAIL_KIND = gettext_noop("offline message")

ERROR_NOT_TEXT = _("This must be text.")
ERROR_NAME_TOO_LONG = _("Your name can be at most %(limit)d characters long.")
ERROR_EMAIL_REQUIRED = _("Please give your e-mail address so we can reply.")
ERROR_EMAIL_INVALID = _("Enter a valid e-mail address, like name@example.com.")
ERROR_QUESTION_REQUIRED = _("Please write your question.")
ERROR_QUESTION_TOO_LONG = _("Your question can be at most %(limit)d characters long.")
FORWARDED_NOTE = _("Your message was forwarded by e-mail.")


@dataclass(frozen=True)
class LeftMessage:
    """What the form's answer needs: the conversation, the stored question and the visitor's token."""

    conversation: Conversation
    message: Message
    token: str


def _text_field(value: object, field: str, errors: dict[str, ValidationError]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = ValidationError(ERROR_NOT_TEXT, code="not_text")
        return ""
    if NUL in value:
        errors[field] = nul_error()
        return ""
    return BIDI_CONTROLS.sub("", value)


def clean_offline_message(*, name: object, email: object, question: object) -> tuple[str, str, str]:
    """Return the name, e-mail and question cleaned, or raise a ValidationError with an error per field."""
    errors: dict[str, ValidationError] = {}
    # A name goes into an e-mail subject: one line, no control characters.
    name = " ".join(_text_field(name, "name", errors).split())
    email = _text_field(email, "email", errors).strip()
    question = _text_field(question, "question", errors)
    if len(name) > MAX_NAME_LENGTH:
        errors["name"] = ValidationError(ERROR_NAME_TOO_LONG % {"limit": MAX_NAME_LENGTH}, code="too_long")
    if "email" not in errors:
        if not email:
            errors["email"] = ValidationError(ERROR_EMAIL_REQUIRED, code="required")
        else:
            try:
                if len(email) > MAX_EMAIL_LENGTH:
                    raise ValidationError(ERROR_EMAIL_INVALID)
                validate_email(email)
            except ValidationError:
                errors["email"] = ValidationError(ERROR_EMAIL_INVALID, code="invalid")
    if "question" not in errors:
        if not question.strip():
            errors["question"] = ValidationError(ERROR_QUESTION_REQUIRED, code="required")
        elif len(question) > MAX_QUESTION_LENGTH:
            errors["question"] = ValidationError(
                ERROR_QUESTION_TOO_LONG % {"limit": MAX_QUESTION_LENGTH}, code="too_long"
            )
    if errors:
        raise ValidationError(errors)
    return name, email, question.strip()


@transaction.atomic
def leave_offline_message(
    *,
    tenant: Tenant,
    token: str | None,
    name: object,
    email: object,
    question: object,
    ip_address: str | None,
    client_msg_id: str = "",
    now: dt.datetime | None = None,
    route: bool = True,
    send_email: bool = True,
) -> LeftMessage:
    """Store a message left in the widget as a waiting conversation and e-mail it to the tenant after commit.

    Nothing is stored when a field is invalid or a rate limit refuses it (ValidationError, code
    "rate_limited"). A visitor who already has an open chat gets the question added to it. A resend
    with the same client message id is stored and e-mailed once. When writing history, ``route=False``
    leaves the conversation for the caller to assign, and ``send_email=False`` stores the e-mail in the
    outbox without sending it: the caller records how it went (``outbox.deliver_as_of``).
    """
    name, email, question = clean_offline_message(name=name, email=email, question=question)
    now = now or timezone.now()
    visitor, token = visits.identify_visitor(tenant=tenant, token=token, now=now)
    visitor.email, visitor.last_seen_at = protection.seal_for(tenant, email), now
    visitor.name = protection.seal_for(tenant, name) if name else visitor.name
    visitor.save(update_fields=["name", "email", "last_seen_at"])
    conversation = services.start_conversation(
        tenant=tenant,
        visitor=visitor,
        origin=Conversation.Origin.OFFLINE_MESSAGE,
        ip_address=ip_address,
        now=now,
        route=route,
    )
    message, created = services.post_visitor_message(
        conversation=conversation, body=question, client_msg_id=client_msg_id, now=now
    )
    if created:
        _forward(message=message, now=now, send=send_email)
        signals.offline_message_left.send(sender=Message, message=message)
    return LeftMessage(conversation=conversation, message=message, token=token)


def escalation_contacts(*, tenant: Tenant) -> list[str]:
    """Return the e-mail addresses of the tenant's escalation contacts."""
    return list(
        ReportRecipient.objects.for_tenant(tenant)
        .filter(escalations=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def _forwarded_id(message: Message) -> str:
    return f"{FORWARDED_ID_PREFIX}{message.pk}"


def _record_forwarded(*, message: Message, now: dt.datetime) -> Message:
    """Append the system note that the question went out by e-mail."""
    with translation.override(message.conversation.tenant.language):
        body = gettext(FORWARDED_NOTE)
    note, _created = services.post_system_message(
        conversation=message.conversation, body=body, client_msg_id=_forwarded_id(message), now=now
    )
    return note


def _email_body(*, message: Message, tenant: Tenant) -> tuple[str, str]:
    conversation, visitor = message.conversation, message.conversation.visitor
    page = PageView.objects.for_tenant(tenant).filter(visitor=visitor).order_by("-viewed_at").first()
    who = visitor.name or visitor.email
    with translation.override(tenant.language):
        subject = gettext("[%(tenant)s] A message from your website chat: %(who)s") % {
            "tenant": tenant.name,
            "who": who,
        }
        body = render_to_string(
            "conversations/email/offline_message.txt",
            {
                "tenant": tenant,
                "visitor": visitor,
                "question": message.body,
                "sent_at": message.created_at,
                "page_url": page.url if page else "",
                "conversation": conversation,
            },
        )
    return subject, body


def _forward(*, message: Message, now: dt.datetime, send: bool = True) -> None:
    """Write the question's e-mail to the escalation contacts into the outbox and note it in the chat."""
    tenant = message.conversation.tenant
    recipients = escalation_contacts(tenant=tenant)
    if not recipients:
        return
    subject, body = _email_body(message=message, tenant=tenant)
    visitor = message.conversation.visitor
    email = EmailMessage(subject=subject, body=body, to=recipients, reply_to=[visitor.email] if visitor.email else None)
    outbox.queue_email(
        message=email,
        kind=EMAIL_KIND,
        reference=email_reference(message.conversation_id),
        send=outbox.AFTER_COMMIT if send else outbox.BY_CALLER,
        now=now,
    )
    _record_forwarded(message=message, now=now)
