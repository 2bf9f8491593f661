"""After a chat: the visitor's rating and the transcript by e-mail.

Rating. A visitor rates their own closed conversation 1–5, with an optional comment: a star click is
saved by itself, and the comment, when it comes, updates the same rating. They may
change it for ``RATING_CHANGE_WINDOW`` after they first rated (a slip of the finger, a comment
added a moment later); after that a new rating is refused with the code "already_rated", so the
CSAT of a report that has already gone to the client does not change under it. ``rated_at`` stays
the moment of the first rating.

Transcript. A visitor asks for their conversation's transcript at one e-mail address, during the
chat or after it (during it they get the lines so far). One request per conversation: asking again
with the same address changes nothing, another address is refused. The e-mail is composed with the
request and written to the outbox in the same transaction; the outbox sends it after commit, once,
retrying a refusal with back-off, and the request links to it (its status is the e-mail's).

The transcript holds what the visitor saw from people: their own lines, the agents' lines and the
invitation a proactive chat opened with. Private notes are a separate table and never in it, and
the system's other lines (bookkeeping such as "forwarded by e-mail") are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from conversations import access, protection, signals
from conversations.invitations import is_invitation_line
from conversations.models import Conversation, Message, TranscriptRequest, Visitor, email_reference
from conversations.safe_text import checked_text
from moments.formatting import local_moment, show_moment
from outbox import services as outbox
from tenants.models import Tenant

RATING_CHANGE_WINDOW = dt.timedelta(minutes=10)
MAX_COMMENT_LENGTH = 2000
MAX_EMAIL_LENGTH = 254
EMAIL_KIND = gettext_noop("transcript")

ERROR_RATING_RANGE = _("Choose a rating from 1 to 5.")
ERROR_COMMENT_TOO_LONG = _("A comment can be at most %(limit)d characters long.")
ERROR_NOT_CLOSED = _("You can rate the chat once it has ended.")
ERROR_ALREADY_RATED = _("You have already rated this chat. Thank you!")
ERROR_EMAIL_INVALID = _("Enter a valid e-mail address, like name@example.com.")
ERROR_OTHER_ADDRESS = _("The transcript of this chat has already been sent to another address.")


def conversation_of_visitor(*, visitor: Visitor, conversation_id: int | None) -> Conversation:
    """Return one of the visitor's own conversations by id, or (without one) their latest; else AccessDenied."""
    if conversation_id:
        return access.access_conversation_for_visitor(visitor=visitor, conversation_id=conversation_id)
    latest = Conversation.objects.for_tenant(visitor.tenant).filter(visitor=visitor).order_by("-started_at").first()
    if latest is None:
        raise access.AccessDenied("not_found", access.ERROR_CONVERSATION_NOT_FOUND)
    return latest


# ---- rating ----------------------------------------------------------------------------------


def _clean_rating(rating: object, comment: object) -> tuple[int, str | None]:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError(ERROR_RATING_RANGE, code="bad_rating")
    if comment is None:
        return rating, None
    comment = checked_text((comment if isinstance(comment, str) else "").strip())
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationError(ERROR_COMMENT_TOO_LONG % {"limit": MAX_COMMENT_LENGTH}, code="too_long")
    return rating, comment


@transaction.atomic
def rate_conversation(
    *, conversation: Conversation, rating: int, comment: str | None = None, now: dt.datetime | None = None
) -> Conversation:
    """Record the visitor's 1–5 rating of a closed conversation; a change is accepted only within the window.

    The widget saves a star click at once, without a comment (None keeps the comment stored before); the
    comment may follow and updates the same rating.

    The caller has checked that the conversation is the visitor's own (access_conversation_for_visitor).
    """
    rating, comment = _clean_rating(rating, comment)
    now = now or timezone.now()
    locked = Conversation.objects.for_tenant(conversation.tenant_id).select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.CLOSED:
        raise ValidationError(ERROR_NOT_CLOSED, code="not_closed")
    if locked.rated_at is not None and now - locked.rated_at > RATING_CHANGE_WINDOW:
        raise ValidationError(ERROR_ALREADY_RATED, code="already_rated")
    locked.rating = rating
    if comment is not None:
        locked.rating_comment = protection.protect_for(locked.tenant, comment)
    locked.rated_at = locked.rated_at or now
    locked.save(update_fields=["rating", "rating_comment", "rated_at"])
    signals.rating_given.send(sender=Conversation, conversation=locked)
    return locked


# ---- transcript request ---------------------------------------------------------------------


def _clean_email(email: object) -> str:
    email = (email if isinstance(email, str) else "").strip()
    try:
        if not email or len(email) > MAX_EMAIL_LENGTH:
            raise ValidationError(ERROR_EMAIL_INVALID)
        validate_email(email)
    except ValidationError:
        raise ValidationError(ERROR_EMAIL_INVALID, code="bad_email") from None
    return email


def _queue_transcript(request: TranscriptRequest, *, now: dt.datetime | None = None, send: bool = True) -> None:
    """Compose the transcript as it is now and write it to the outbox, linked to the request."""
    request.outgoing = outbox.queue_email(
        message=transcript_email(request=request),
        kind=EMAIL_KIND,
        reference=email_reference(request.conversation_id),
        send=outbox.AFTER_COMMIT if send else outbox.BY_CALLER,
        now=now,
    )
    request.save(update_fields=["outgoing"])


@transaction.atomic
def request_transcript(
    *, conversation: Conversation, email: str, now: dt.datetime | None = None, send_email: bool = True
) -> TranscriptRequest:
    """Ask for the conversation's transcript at an e-mail address; the outbox sends it after commit.

    Idempotent for the same address (the request already has its e-mail, which is sent once);
    another address after the first is refused (code "other_address"). The caller has checked that
    the conversation is the visitor's own. ``send_email=False`` stores the e-mail in the outbox
    without sending it: the caller sends it (``outbox.send_now``) or records how it went
    (``outbox.deliver_as_of``), as when writing history.
    """
    email = _clean_email(email)
    locked = (
        Conversation.objects.for_tenant(conversation.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=conversation.pk)
    )
    existing = TranscriptRequest.objects.for_tenant(locked.tenant_id).filter(conversation=locked).first()
    if existing is not None:
        if existing.email.lower() != email.lower():
            raise ValidationError(ERROR_OTHER_ADDRESS, code="other_address")
        if existing.outgoing_id is None:
            existing.conversation = locked
            _queue_transcript(existing, now=now, send=send_email)
        return existing
    request = TranscriptRequest.objects.create(
        tenant_id=locked.tenant_id,
        conversation=locked,
        email=protection.seal_for(locked.tenant, email),
        requested_at=now or timezone.now(),
    )
    _queue_transcript(request, now=now, send=send_email)
    return request


# ---- the transcript e-mail --------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLine:
    """One line of the transcript as the visitor reads it."""

    when: str
    who: str
    body: str
    from_visitor: bool


def transcript_lines(*, conversation: Conversation) -> list[TranscriptLine]:
    """Return the lines the visitor may read, with their times in the tenant's time zone.

    Call with the tenant's language active: names and dates are written in it.
    """
    tenant = conversation.tenant
    lines, previous_day = [], None
    messages = conversation.messages.select_related("agent").order_by("seq")
    for message in messages:
        if message.sender == Message.Sender.VISITOR:
            who = gettext("You")
        elif message.sender == Message.Sender.AGENT:
            who = message.agent.display_name if message.agent_id else gettext("Agent")
        elif is_invitation_line(message, conversation):
            who = tenant.name
        else:
            continue
        local = local_moment(message.created_at, tenant.zone)
        # The date only where it changes: most chats fit in one day, some run past midnight. The
        # heading names the zone.
        style = "short" if previous_day is not None and local.date() != previous_day else "time"
        when = show_moment(message.created_at, tenant.zone, style=style, label=False)
        previous_day = local.date()
        lines.append(
            TranscriptLine(when=when, who=who, body=message.body, from_visitor=message.sender == Message.Sender.VISITOR)
        )
    return lines


def _ink_on(colour: str) -> str:
    """Return black or white, whichever reads better on the tenant's colour (as the widget does)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#111827" if (red * 299 + green * 587 + blue * 114) / 1000 > 165 else "#ffffff"


def transcript_subject(tenant: Tenant) -> str:
    """Return the transcript e-mail's subject, in the tenant's language."""
    with translation.override(tenant.language):
        return gettext("Your chat with %(tenant)s") % {"tenant": tenant.name}


def transcript_email(*, request: TranscriptRequest) -> EmailMultiAlternatives:
    """Build the transcript e-mail (plain text and HTML) in the tenant's language."""
    conversation = request.conversation
    tenant: Tenant = conversation.tenant
    with translation.override(tenant.language):
        context = {
            "tenant": tenant,
            "language": tenant.language,
            "colour": tenant.widget_colour,
            "ink": _ink_on(tenant.widget_colour),
            # the zone's name follows the time in the e-mail
            "started": gettext("Started %(time)s")
            % {"time": show_moment(conversation.started_at, tenant.zone, style="long", label=False)},
            "time_zone": tenant.time_zone,
            "lines": transcript_lines(conversation=conversation),
        }
        text = render_to_string("conversations/email/transcript.txt", context)
        html = render_to_string("conversations/email/transcript.html", context)
    message = EmailMultiAlternatives(
        subject=transcript_subject(tenant), body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[request.email]
    )
    message.attach_alternative(html, "text/html")
    message.extra_headers["Content-Language"] = tenant.language
    return message


def send_transcript_again(*, request: TranscriptRequest) -> None:
    """Queue the transcript once more, on purpose, composed again (with any lines since); sent after commit."""
    with transaction.atomic():
        locked = (
            TranscriptRequest.objects.for_tenant(request.tenant_id)
            .select_for_update(of=("self",))
            .select_related("conversation__tenant")
            .get(pk=request.pk)
        )
        _queue_transcript(locked)
