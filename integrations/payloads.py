"""The ``data`` of each event: what a client's system needs of the row, in plain JSON types."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.urls import reverse

from conversations.models import Conversation, Handoff, Lead, Message
from reporting.kpis import TenantKpis
from reporting.models import ReportDelivery
from reporting.periods import Period

# What a visitor's erasure blanks in a body: every key of the events above that holds their data.
PERSONAL_KEYS = frozenset(
    {
        "name", "email", "phone", "wants", "summary", "comment", "question",
        "visitor_name", "visitor_email", "visitor_phone", "promise",
    }
)  # fmt: skip


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


def period_data(period: Period) -> dict:
    """Return a period as its local days (first and last, in its zone) and the moments it spans."""
    return {
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
        "time_zone": period.zone.key,
        "start": moment(period.start),
        "end": moment(period.end),
    }


def headline_figures(figures: TenantKpis) -> dict:
    """Return a report's headline figures: counts, seconds, and rates as fractions (0.8 is 80 %); None if none."""
    return {
        "visitors": figures.visitors,
        "chats": figures.chats,
        "chat_rate": figures.chat_rate,
        "missed_chats": figures.missed_chats,
        "offline_messages": figures.offline_messages,
        "first_response_median_seconds": figures.first_response_median,
        "first_response_p90_seconds": figures.first_response_p90,
        "share_within_target": figures.share_within_target,
        "meets_first_response_target": figures.first_response_target.met,
        "resolution_rate": figures.resolution_rate,
        "meets_resolution_target": figures.resolution_target.met,
        "escalated_chats": figures.escalated_chats,
        "escalation_rate": figures.escalation_rate,
        "csat": figures.csat,
        "csat_response_rate": figures.csat_response_rate,
        "leads": figures.leads,
    }


def report_data(delivery: ReportDelivery, *, period: Period, figures: TenantKpis) -> dict:
    """Return a ready report: which one, its period, its headline figures, and where the full figures are."""
    return {
        "report": {
            "id": delivery.pk,
            "kind": delivery.kind,
            "period": period_data(period),
            "figures": headline_figures(figures),
            "dashboard_url": settings.SITE_URL + reverse("dashboard"),
        }
    }


def _blanked(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: "" if key in PERSONAL_KEYS and isinstance(item, str) else _blanked(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_blanked(item) for item in value]
    return value


def erased_body(body: str) -> str:
    """Return an event's body with the visitor's data blanked and ``"erased": true`` in its data."""
    envelope = json.loads(body)
    envelope["data"] = {**_blanked(envelope.get("data") or {}), "erased": True}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
