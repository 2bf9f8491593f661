"""The visitor's widget: its session (who, which page), and the widget sockets that follow a chat."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from conversations import events, visits
from conversations.models import Conversation, Visitor
from tenants.models import Tenant
from tenants.services import record_widget_seen


def _publish_visitor_presence(conversation_id: int, *, present: bool) -> None:
    events.publish_on_commit(
        events.conversation_group(conversation_id),
        "chat.visitor",
        {"conversation": conversation_id, "visitor_present": present},
    )


def _open(conversation_id: int):
    return Conversation.objects.filter(pk=conversation_id).open()


def visitor_arrived(*, conversation: Conversation, now: dt.datetime | None = None) -> None:
    """Count one more widget socket following the chat; if the visitor had left, tell its consoles."""
    now = now or timezone.now()
    _open(conversation.pk).update(visitor_sockets=F("visitor_sockets") + 1, visitor_seen_at=now, visitor_left_at=None)
    if conversation.visitor_left_at is not None:
        conversation.visitor_left_at = None
        _publish_visitor_presence(conversation.pk, present=True)


def visitor_still_here(*, conversation: Conversation, now: dt.datetime | None = None) -> None:
    """Record a ping of a widget socket that follows the chat (``conversation`` as read just before)."""
    now = now or timezone.now()
    # At least this socket: the clock may have given up on a socket whose process looked dead.
    _open(conversation.pk).update(
        visitor_sockets=Greatest(F("visitor_sockets"), 1), visitor_seen_at=now, visitor_left_at=None
    )
    if conversation.visitor_left_at is not None:
        conversation.visitor_left_at = None
        _publish_visitor_presence(conversation.pk, present=True)


def visitor_departed(*, conversation_id: int, now: dt.datetime | None = None) -> bool:
    """Count one widget socket fewer; when it was the last, the visitor has left: tell the consoles.

    Return whether the visitor has left now.
    """
    now = now or timezone.now()
    _open(conversation_id).update(
        visitor_sockets=Greatest(F("visitor_sockets") - 1, 0),
        visitor_seen_at=now,
        visitor_left_at=Case(
            When(visitor_sockets__lte=1, visitor_left_at__isnull=True, then=Value(now)), default=F("visitor_left_at")
        ),
    )
    left = _open(conversation_id).filter(visitor_sockets=0, visitor_left_at=now).exists()
    if left:
        _publish_visitor_presence(conversation_id, present=False)
    return left


def visitor_vanished(*, conversation_id: int, last_seen_at: dt.datetime) -> bool:
    """Count no socket for a chat whose widgets stopped pinging at ``last_seen_at`` (their process died).

    The visitor left when last seen; return whether this call found it so (the consoles are told).
    """
    gone = _open(conversation_id).filter(visitor_sockets__gt=0, visitor_seen_at=last_seen_at)
    if not gone.update(visitor_sockets=0, visitor_left_at=last_seen_at):
        return False
    _publish_visitor_presence(conversation_id, present=False)
    return True


def open_widget_session(
    *, tenant: Tenant, token: str | None, url: str, title: str, origin: str, now: dt.datetime | None = None
) -> tuple[Visitor, str]:
    """Identify the visitor (new, or by their token), record the page view and note the widget as seen."""
    now = now or timezone.now()
    visitor, token = visits.identify_visitor(tenant=tenant, token=token, now=now)
    if url:
        visits.record_page_view(tenant=tenant, visitor=visitor, url=url, title=title, now=now)
    record_widget_seen(tenant=tenant, origin=origin, now=now)
    return visitor, token
