"""Channel group names and event payloads; events are published only after the data is committed."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from conversations.models import Conversation, Message

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    """Return the group of everyone watching one conversation (its visitor and its agent)."""
    return f"conversation.{conversation_id}"


def tenant_queue_group(tenant_id: int) -> str:
    """Return the group of the agents who may take a tenant's waiting chats."""
    return f"tenant.{tenant_id}.queue"


def is_tenant_queue_group(group: str) -> bool:
    """Say whether a group name is one of ``tenant_queue_group``'s."""
    return group.startswith("tenant.") and group.endswith(".queue")


def agent_group(agent_id: int) -> str:
    """Return the group of one agent's open consoles."""
    return f"agent.{agent_id}"


def message_payload(message: Message) -> dict[str, Any]:
    """Return a message as clients receive it."""
    return {
        "conversation": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender,
        "agent_name": message.agent.display_name if message.agent_id else "",
        "body": message.body,
        "client_msg_id": message.client_msg_id,
        "created_at": message.created_at.isoformat(),
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """Return the queue-facing summary of a conversation."""
    return {
        "conversation": conversation.pk,
        "tenant": conversation.tenant_id,
        "tenant_name": conversation.tenant.name,
        "status": conversation.status,
        "origin": conversation.origin,
        "agent": conversation.agent_id,
        "agent_name": conversation.agent.display_name if conversation.agent_id else "",
        "started_at": conversation.started_at.isoformat(),
        "first_visitor_message_at": _iso(conversation.first_visitor_message_at),
        "first_agent_reply_at": _iso(conversation.first_agent_reply_at),
        "outcome": conversation.outcome,
        "visitor_present": visitor_present(conversation),
    }


def visitor_present(conversation: Conversation) -> bool:
    """Say whether a widget socket of the visitor follows the chat (None of them since visitor_left_at)."""
    return conversation.visitor_left_at is None


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _send(group: str, event: dict[str, Any], handed_over: list | None = None) -> None:
    if handed_over is not None:
        handed_over.append((group, event))
        return
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:
        _publish_failed(group, event)


def _publish_failed(group: str, event: dict[str, Any]) -> None:
    # The data is committed and the caller has its answer; every client following the group finds
    # the change by sequence number or its next ping (conversations/protocol.py), so log and go on.
    logger.exception("Could not publish %s to %s", event["type"], group)


_handed_over: contextvars.ContextVar[list | None] = contextvars.ContextVar("events_handed_over", default=None)


@contextlib.contextmanager
def handed_to_caller() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect the events committed inside the block, in order, instead of sending them from this thread.

    For work that a socket's event loop handed to a thread (``conversations.threads``): the loop then
    sends them itself (``send_handed_over``), which spares the thread a round trip back to the loop for
    every event. They are still sent only once committed, and before the socket answers.
    """
    collected: list[tuple[str, dict[str, Any]]] = []
    token = _handed_over.set(collected)
    try:
        yield collected
    finally:
        _handed_over.reset(token)


async def send_handed_over(events: list[tuple[str, dict[str, Any]]]) -> None:
    """Send, in order, the events ``handed_to_caller`` collected (from the event loop)."""
    layer = get_channel_layer()
    for group, event in events:
        try:
            await layer.group_send(group, event)
        except Exception:
            _publish_failed(group, event)


_silenced = contextvars.ContextVar("events_silenced", default=False)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Publish nothing inside the block: for writing history (the demo), which no socket is watching."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def publish_on_commit(group: str, event_type: str, payload: dict[str, Any], *, sender_channel: str = "") -> None:
    """Send an event to a group once the current transaction commits (at once outside one); not when silenced.

    ``sender_channel`` names the socket the change came from: it has its answer already and is not
    sent the event again.
    """
    if _silenced.get():
        return
    event = {"type": event_type, "payload": payload}
    if sender_channel:
        event["sender_channel"] = sender_channel
    handed_over = _handed_over.get()
    transaction.on_commit(lambda: _send(group, event, handed_over))
