"""The ``data`` of each event: what a client's system needs of the row, in plain JSON types."""

from __future__ import annotations

import datetime as dt

from conversations.models import Conversation, Handoff, Lead, Message


def moment(value: dt.datetime | None) -> str | None:
    """Return a moment as ISO 8601 in UTC (``2026-12-07T10:00:00Z``), or None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def conversation_data(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "origin": conversation.origin,
        "status": conversation.status,
        "started_at": moment(conversation.started_at),
        "closed_at": moment(conversation.closed_at),
        "outcome": conversation.outcome or None,
        "summary": conversation.summary,
    }


def lead_data(lead: Lead) -> dict:
    return {
        "lead": {
            "id": lead.pk,
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "wants": lead.wants,
            "created_at": moment(lead.created_at),
        },
        "conversation_id": lead.conversation_id,
    }


def handoff_data(handoff: Handoff) -> dict:
    return {
        "handoff": {
            "id": handoff.pk,
            "summary": handoff.summary,
            "visitor_name": handoff.visitor_name,
            "visitor_email": handoff.visitor_email,
            "visitor_phone": handoff.visitor_phone,
            "promise": handoff.promise,
            "promised_by": moment(handoff.promised_by),
            "created_at": moment(handoff.created_at),
        },
        "conversation_id": handoff.conversation_id,
    }


def closed_data(conversation: Conversation) -> dict:
    return {"conversation": conversation_data(conversation)}


def rating_data(conversation: Conversation) -> dict:
    return {
        "conversation_id": conversation.pk,
        "rating": conversation.rating,
        "comment": conversation.rating_comment,
        "rated_at": moment(conversation.rated_at),
    }


def offline_message_data(message: Message) -> dict:
    visitor = message.conversation.visitor
    return {
        "conversation_id": message.conversation_id,
        "name": visitor.name,
        "email": visitor.email,
        "question": message.body,
        "left_at": moment(message.created_at),
    }
