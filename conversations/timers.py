"""The live chat's clocks, run every few seconds (Celery beat, or `manage.py live_timers`).

Each sweep reads state from the database only, so it is safe to run from several processes at once
and to repeat: a disconnected agent's chats go back to the queue after the grace period, a chat its
agent has not answered within the tenant's target is offered to others, and a wait past the target
alerts the operations managers once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chatops.models import Agent
from conversations import events, routing
from conversations.models import Conversation
from tenants.models import Tenant

AGENT_GRACE_PERIOD = dt.timedelta(seconds=60)
OPERATIONS_GROUP = "operations"


@dataclass(frozen=True)
class SweepResult:
    agents_released: int
    chats_requeued: int
    waits_alerted: int
    chats_routed: int = 0


def _past_target(*, moment_field: str, now: dt.datetime) -> Q:
    """Rows whose `moment_field` lies further back than their tenant's first-response target.

    Built as one OR of plain comparisons, one per distinct target in use, so that it runs the same
    on PostgreSQL and SQLite (SQLite cannot multiply an interval) and can use the time indexes.
    """
    targets = Tenant.objects.values_list("first_response_target_seconds", flat=True).distinct()
    condition = Q(pk__in=[])
    for seconds in targets:
        condition |= Q(
            tenant__first_response_target_seconds=seconds,
            **{f"{moment_field}__lt": now - dt.timedelta(seconds=seconds)},
        )
    return condition


def release_absent_agents(*, now: dt.datetime) -> int:
    """Set online agents silent past the grace period offline and put their unanswered-for chats back."""
    absent = Agent.objects.filter(presence=Agent.Presence.ONLINE, last_seen_at__lt=now - AGENT_GRACE_PERIOD)
    released = 0
    for agent in absent:
        with transaction.atomic():
            locked = Agent.objects.select_for_update().get(pk=agent.pk)
            if locked.presence != Agent.Presence.ONLINE or locked.last_seen_at >= now - AGENT_GRACE_PERIOD:
                continue
            locked.presence, locked.presence_changed_at = Agent.Presence.OFFLINE, now
            locked.save(update_fields=["presence", "presence_changed_at"])
            chats = Conversation.objects.filter(agent=locked, status=Conversation.Status.ACTIVE)
            for conversation in chats:
                routing.return_to_queue(conversation=conversation, now=now)
            released += 1
    return released


def requeue_unanswered(*, now: dt.datetime) -> int:
    """Offer to others each assigned chat whose agent has not replied within the tenant's target."""
    overdue = Conversation.objects.filter(
        status=Conversation.Status.ACTIVE,
        first_agent_reply_at__isnull=True,
        first_visitor_message_at__isnull=False,
        requeued_at__isnull=True,
    ).filter(_past_target(moment_field="first_visitor_message_at", now=now))
    count = 0
    for conversation in overdue:
        if routing.return_to_queue(conversation=conversation, now=now, mark_requeued=True):
            count += 1
    return count


def alert_long_waits(*, now: dt.datetime) -> int:
    """Alert the operations managers, once per chat, to each wait that has passed the tenant's target."""
    long_waits = (
        Conversation.objects.filter(status=Conversation.Status.WAITING, supervisor_alerted_at__isnull=True)
        .filter(_past_target(moment_field="started_at", now=now))
        .select_related("tenant")
    )
    count = 0
    for conversation in long_waits:
        marked = Conversation.objects.filter(pk=conversation.pk, supervisor_alerted_at__isnull=True).update(
            supervisor_alerted_at=now
        )
        if marked:
            payload = events.conversation_payload(conversation) | {
                "tenant_name": conversation.tenant.name,
                "waited_seconds": int((now - conversation.started_at).total_seconds()),
            }
            events.publish_on_commit(OPERATIONS_GROUP, "wait.alert", payload)
            count += 1
    return count


def route_waiting_chats(*, now: dt.datetime) -> int:
    """Try again to route every waiting chat, oldest first (an agent may have come free meanwhile)."""
    routed = 0
    for conversation in Conversation.objects.filter(status=Conversation.Status.WAITING).order_by("started_at"):
        if routing.assign_waiting(conversation=conversation, now=now) is not None:
            routed += 1
    return routed


def sweep_live_chats(*, now: dt.datetime | None = None) -> SweepResult:
    """Run every clock once."""
    now = now or timezone.now()
    return SweepResult(
        agents_released=release_absent_agents(now=now),
        chats_requeued=requeue_unanswered(now=now),
        waits_alerted=alert_long_waits(now=now),
        chats_routed=route_waiting_chats(now=now),
    )
