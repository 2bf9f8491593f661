"""A chat's start and end: the visitor's open conversation started (and routed), a chat closed."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import events, limits, protection, routing, signals
from conversations.models import Conversation, Visitor
from tenants.models import Tenant


@transaction.atomic
def start_conversation(
    *,
    tenant: Tenant,
    visitor: Visitor,
    origin: str = Conversation.Origin.REACTIVE,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    route: bool = True,
) -> Conversation:
    """Return the visitor's open conversation, or start one and try to route it to an agent.

    ``route=False`` leaves a new one waiting for the caller to assign (``routing.assign_conversation``),
    as when writing history, which the live routing policy (who is online now) must not decide.
    """
    now = now or timezone.now()
    Visitor.objects.select_for_update().get(pk=visitor.pk)
    open_one = Conversation.objects.for_tenant(tenant).open_of(visitor).first()
    if open_one is not None:
        return open_one
    limits.check_conversation_rate(ip_address=ip_address, now=now)
    conversation = Conversation.objects.create(
        tenant=tenant, visitor=visitor, origin=origin, started_at=now, ip_address=ip_address, visitor_left_at=now
    )
    if route and routing.assign_waiting(conversation=conversation, now=now) is not None:
        conversation.refresh_from_db()
    else:
        events.publish_on_commit(
            events.tenant_queue_group(tenant.pk), "queue.changed", events.conversation_payload(conversation)
        )
    return conversation


@transaction.atomic
def close_conversation(
    *,
    conversation: Conversation,
    outcome: str = Conversation.Outcome.RESOLVED,
    summary: str = "",
    now: dt.datetime | None = None,
) -> Conversation:
    """Close a conversation with its outcome and tell its watchers after commit.

    The console closes through ``outcomes.close_with_outcome``, which requires the outcome, checks
    its details and stores the lead or handoff report first; this is the bare state change.
    """
    if outcome not in Conversation.Outcome.values:
        raise ValidationError(_("Choose an outcome."), code="outcome")
    locked = _locked_for_closing(conversation)
    if locked.status == Conversation.Status.CLOSED:
        return locked
    return _close_locked(locked, outcome=outcome, summary=summary, now=now or timezone.now())


def _close_locked(locked: Conversation, *, outcome: str, summary: str, now: dt.datetime) -> Conversation:
    summary = protection.protect_for(locked.tenant, summary)
    locked.status, locked.outcome, locked.summary, locked.closed_at = Conversation.Status.CLOSED, outcome, summary, now
    locked.save(update_fields=["status", "outcome", "summary", "closed_at"])
    signals.conversation_closed.send(sender=Conversation, conversation=locked)
    _announce_closed(locked)
    return locked


def _locked_for_closing(conversation: Conversation) -> Conversation:
    """Lock the conversation's row (its alone) and read it with the tenant and agent its announcement names."""
    return (
        Conversation.objects.select_for_update(of=("self",)).select_related("tenant", "agent").get(pk=conversation.pk)
    )


def _announce_closed(conversation: Conversation) -> None:
    payload = events.conversation_payload(conversation)
    events.publish_on_commit(events.conversation_group(conversation.pk), "chat.closed", payload)
    events.publish_on_commit(events.tenant_queue_group(conversation.tenant_id), "queue.changed", payload)


@transaction.atomic
def close_abandoned_chat(
    *, conversation: Conversation, away_since: dt.datetime, now: dt.datetime
) -> Conversation | None:
    """Close an open chat as "visitor left" if its visitor has had no widget socket since ``away_since``.

    Checked again under the row lock (the visitor may have come back meanwhile). Return the closed chat
    (its agent's slot is free now: the caller routes the queue to them), or None if it stays open.
    """
    locked = _locked_for_closing(conversation)
    gone = locked.visitor_sockets == 0 and locked.visitor_left_at is not None and locked.visitor_left_at <= away_since
    if locked.status == Conversation.Status.CLOSED or not gone:
        return None
    return _close_locked(locked, outcome=Conversation.Outcome.VISITOR_LEFT, summary="", now=now)
