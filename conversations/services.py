"""Writes of the live chat. Persist, then publish: every message is numbered and stored before
anyone is told of it, and a client-made message id makes a resend idempotent."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chatops.models import Agent
from conversations import events, limits, routing
from conversations.models import Conversation, Message, Visitor
from tenants.models import Tenant

MAX_MESSAGE_LENGTH = 4000
MAX_CLIENT_MSG_ID_LENGTH = 64

ERROR_EMPTY_MESSAGE = _("A message cannot be empty.")
ERROR_MESSAGE_TOO_LONG = _("A message can be at most %(limit)d characters long.")
ERROR_CONVERSATION_CLOSED = _("This conversation has ended.")
ERROR_NOT_YOUR_CHAT = _("This chat is assigned to another agent.")
ERROR_ANSWERED_NEEDS_OUTCOME = _("An agent has answered this chat; close it with an outcome.")


def _clean_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError(ERROR_EMPTY_MESSAGE, code="empty")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationError(ERROR_MESSAGE_TOO_LONG % {"limit": MAX_MESSAGE_LENGTH}, code="too_long")
    return body


def _clean_client_msg_id(client_msg_id: str) -> str:
    client_msg_id = (client_msg_id or "").strip()
    if len(client_msg_id) > MAX_CLIENT_MSG_ID_LENGTH:
        raise ValidationError(_("The message id is too long."), code="bad_id")
    return client_msg_id


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
    open_one = (
        Conversation.objects.for_tenant(tenant)
        .filter(visitor=visitor)
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-started_at")
        .first()
    )
    if open_one is not None:
        return open_one
    limits.check_conversation_rate(ip_address=ip_address, now=now)
    conversation = Conversation.objects.create(
        tenant=tenant, visitor=visitor, origin=origin, started_at=now, ip_address=ip_address
    )
    if route and routing.assign_waiting(conversation=conversation, now=now) is not None:
        conversation.refresh_from_db()
    else:
        events.publish_on_commit(
            events.tenant_queue_group(tenant.pk), "queue.changed", events.conversation_payload(conversation)
        )
    return conversation


def _append(
    *,
    conversation: Conversation,
    sender: str,
    body: str,
    client_msg_id: str,
    agent: Agent | None,
    now: dt.datetime,
    allow_closed: bool = False,
) -> tuple[Conversation, Message, bool]:
    """Store a message under the conversation's row lock; return it and whether it is new."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if client_msg_id:
        earlier = Message.objects.filter(conversation=locked, client_msg_id=client_msg_id).first()
        if earlier is not None:
            return locked, earlier, False
    if locked.status == Conversation.Status.CLOSED and not allow_closed:
        raise ValidationError(ERROR_CONVERSATION_CLOSED, code="closed")
    if agent is not None and locked.agent_id not in (None, agent.pk):
        raise ValidationError(ERROR_NOT_YOUR_CHAT, code="not_yours")
    locked.last_seq += 1
    message = Message.objects.create(
        tenant_id=locked.tenant_id,
        conversation=locked,
        seq=locked.last_seq,
        sender=sender,
        agent=agent,
        body=body,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    return locked, message, True


def _publish_message(message: Message) -> None:
    events.publish_on_commit(
        events.conversation_group(message.conversation_id), "chat.message", events.message_payload(message)
    )


@transaction.atomic
def post_visitor_message(
    *, conversation: Conversation, body: str, client_msg_id: str = "", now: dt.datetime | None = None
) -> tuple[Message, bool]:
    """Store a visitor's message and publish it after commit; a resend with the same id is stored once."""
    body, client_msg_id, now = _clean_body(body), _clean_client_msg_id(client_msg_id), now or timezone.now()
    if not (client_msg_id and conversation.messages.filter(client_msg_id=client_msg_id).exists()):
        limits.check_message_rate(visitor=conversation.visitor, now=now)
    locked, message, created = _append(
        conversation=conversation,
        sender=Message.Sender.VISITOR,
        body=body,
        client_msg_id=client_msg_id,
        agent=None,
        now=now,
    )
    if created:
        changed = ["last_seq"]
        if locked.first_visitor_message_at is None:
            locked.first_visitor_message_at = now
            changed.append("first_visitor_message_at")
        locked.save(update_fields=changed)
        _publish_message(message)
        if locked.agent_id:
            events.publish_on_commit(
                events.agent_group(locked.agent_id), "chat.activity", events.message_payload(message)
            )
        else:
            events.publish_on_commit(
                events.tenant_queue_group(locked.tenant_id), "chat.activity", events.message_payload(message)
            )
    return message, created


@transaction.atomic
def post_agent_message(
    *, conversation: Conversation, agent: Agent, body: str, client_msg_id: str = "", now: dt.datetime | None = None
) -> tuple[Message, bool]:
    """Store an agent's reply (taking a waiting chat if need be) and publish it after commit."""
    body, client_msg_id, now = _clean_body(body), _clean_client_msg_id(client_msg_id), now or timezone.now()
    locked, message, created = _append(
        conversation=conversation,
        sender=Message.Sender.AGENT,
        body=body,
        client_msg_id=client_msg_id,
        agent=agent,
        now=now,
    )
    if created:
        changed = ["last_seq"]
        if locked.agent_id is None:
            locked.agent, locked.status, locked.assigned_at = agent, Conversation.Status.ACTIVE, now
            changed += ["agent", "status", "assigned_at"]
        if locked.first_agent_reply_at is None:
            locked.first_agent_reply_at = now
            changed.append("first_agent_reply_at")
        locked.save(update_fields=changed)
        _publish_message(message)
    return message, created


@transaction.atomic
def post_system_message(
    *, conversation: Conversation, body: str, client_msg_id: str = "", now: dt.datetime | None = None
) -> tuple[Message, bool]:
    """Append a note from the system (shown to both sides) and publish it after commit; idempotent by id."""
    locked, message, created = _append(
        conversation=conversation,
        sender=Message.Sender.SYSTEM,
        body=body,
        client_msg_id=client_msg_id,
        agent=None,
        now=now or timezone.now(),
        allow_closed=True,
    )
    if created:
        locked.save(update_fields=["last_seq"])
        _publish_message(message)
    return message, created


def messages_after(*, conversation: Conversation, seq: int) -> list[Message]:
    """Return the conversation's messages numbered above ``seq``, in order (for a resuming client)."""
    return list(conversation.messages.filter(seq__gt=seq).select_related("agent").order_by("seq"))


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
    locked.status, locked.outcome, locked.summary = Conversation.Status.CLOSED, outcome, summary
    locked.closed_at = now or timezone.now()
    locked.save(update_fields=["status", "outcome", "summary", "closed_at"])
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
def close_unanswered(*, conversation: Conversation, now: dt.datetime | None = None) -> Conversation:
    """Close a chat no agent has answered because its visitor has gone: no outcome, so it counts as missed.

    Refused (ValidationError "answered") once an agent has written in it: such a chat closes with an outcome.
    """
    locked = _locked_for_closing(conversation)
    if locked.status == Conversation.Status.CLOSED:
        return locked
    if locked.first_agent_reply_at is not None:
        raise ValidationError(ERROR_ANSWERED_NEEDS_OUTCOME, code="answered")
    locked.status, locked.closed_at = Conversation.Status.CLOSED, now or timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    _announce_closed(locked)
    return locked


def open_widget_session(
    *, tenant: Tenant, token: str | None, url: str, title: str, origin: str, now: dt.datetime | None = None
) -> tuple[Visitor, str]:
    """Identify the visitor (new, or by their token), record the page view and note the widget as seen."""
    from conversations import access
    from tenants.services import record_widget_seen

    now = now or timezone.now()
    visitor, token = access.identify_visitor(tenant=tenant, token=token, now=now)
    if url:
        access.record_page_view(tenant=tenant, visitor=visitor, url=url, title=title, now=now)
    record_widget_seen(tenant=tenant, origin=origin, now=now)
    return visitor, token
