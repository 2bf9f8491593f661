"""The live chat's clocks, run every few seconds (Celery beat, or `manage.py live_timers`).

Each sweep reads state from the database only, so it is safe to run from several processes at once
and to repeat: a chat whose visitor has had no page with the chat open for the tenant's set time ends
as "visitor left" and frees its agent, an agent whose consoles stopped pinging loses their chats to the
queue after the grace period, a chat its agent has not answered within the tenant's target is offered
to others, and a wait past the target alerts the operations managers once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conversations import events, routing
from conversations.models import Conversation
from conversations.services import lifecycle, visitors
from tenants.models import Tenant
from workforce.models import Agent

OPERATIONS_GROUP = "operations"


def agent_grace_period() -> dt.timedelta:
    """Return how long an online agent none of whose consoles pings keeps their chats (default 60 s).

    Consoles ping every 10 s; one that has not pinged for 30 s is closed (conversations.consumers).
    """
    return dt.timedelta(seconds=settings.CHAT_AGENT_GRACE_SECONDS)


def visitor_socket_silence() -> dt.timedelta:
    """Return how long a widget socket may stay silent before it no longer counts (default 150 s).

    Widgets ping every 20 s, but a hidden tab's timers may run only once a minute: a socket silent this
    long belonged to a daphne process that died, and no longer counts as the visitor being there.
    """
    return dt.timedelta(seconds=settings.CHAT_VISITOR_SOCKET_SILENCE_SECONDS)


@dataclass(frozen=True)
class SweepResult:
    agents_released: int
    chats_requeued: int
    waits_alerted: int
    chats_routed: int = 0
    visitors_vanished: int = 0
    chats_abandoned: int = 0


def _per_tenant_setting(*, setting: str, unit: str, moment_field: str, now: dt.datetime) -> Q:
    """Rows whose `moment_field` lies further back than their tenant's `setting` (in `unit`s of timedelta).

    Built as one OR of plain comparisons, one per distinct value in use, so that it runs the same on
    PostgreSQL and SQLite (SQLite cannot multiply an interval) and can use the time indexes.
    """
    values = Tenant.objects.values_list(setting, flat=True).distinct()
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(
            **{f"tenant__{setting}": value, f"{moment_field}__lt": now - dt.timedelta(**{unit: value})},
        )
    return condition


def _past_target(*, moment_field: str, now: dt.datetime) -> Q:
    """Rows whose `moment_field` lies further back than their tenant's first-response target.

    Built as one OR of plain comparisons, one per distinct target in use, so that it runs the same
    on PostgreSQL and SQLite (SQLite cannot multiply an interval) and can use the time indexes.
    """
    return _per_tenant_setting(
        setting="first_response_target_seconds", unit="seconds", moment_field=moment_field, now=now
    )


def _away_too_long(*, now: dt.datetime) -> Q:
    """Rows whose visitor left longer ago than their tenant's ``abandoned_after_minutes``."""
    return _per_tenant_setting(
        setting="abandoned_after_minutes", unit="minutes", moment_field="visitor_left_at", now=now
    )


def forget_vanished_visitors(*, now: dt.datetime) -> int:
    """Count no widget socket for open chats whose widgets stopped pinging (their daphne process died)."""
    silent = (
        Conversation.objects.open()
        .filter(visitor_sockets__gt=0, visitor_seen_at__lt=now - visitor_socket_silence())
        .values_list("pk", "visitor_seen_at")
    )
    return sum(visitors.visitor_vanished(conversation_id=pk, last_seen_at=seen_at) for pk, seen_at in list(silent))


def close_abandoned_chats(*, now: dt.datetime) -> int:
    """Close as "visitor left" each open chat whose visitor has had no widget socket for the tenant's set time.

    Messages left outside service hours are left alone: their visitor is gone by design. The agent whose
    slot a chat freed gets the oldest waiting chats at once.
    """
    abandoned = (
        Conversation.objects.open()
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
        .filter(visitor_sockets=0)
        .filter(_away_too_long(now=now))
        .select_related("tenant")
    )
    closed = 0
    for conversation in list(abandoned):
        away_since = now - dt.timedelta(minutes=conversation.tenant.abandoned_after_minutes)
        ended = lifecycle.close_abandoned_chat(conversation=conversation, away_since=away_since, now=now)
        if ended is None:
            continue
        closed += 1
        if ended.agent_id is not None:
            routing.drain_queue_for(agent=ended.agent, now=now)
    return closed


def release_absent_agents(*, now: dt.datetime) -> int:
    """Set online agents silent past the grace period offline and put their unanswered-for chats back."""
    grace = agent_grace_period()
    silent = Q(last_seen_at__lt=now - grace) | Q(last_seen_at__isnull=True)
    absent = Agent.objects.filter(silent, presence=Agent.Presence.ONLINE)
    released = 0
    for agent in absent:
        with transaction.atomic():
            locked = Agent.objects.select_for_update().get(pk=agent.pk)
            alive = locked.last_seen_at is not None and locked.last_seen_at >= now - grace
            if locked.presence != Agent.Presence.ONLINE or alive:
                continue
            locked.presence, locked.presence_changed_at = Agent.Presence.OFFLINE, now
            locked.save(update_fields=["presence", "presence_changed_at"])
            chats = Conversation.objects.filter(agent=locked, status=Conversation.Status.ACTIVE)
            for conversation in chats:
                routing.return_to_queue(conversation=conversation, now=now)
            released += 1
    return released


def requeue_unanswered(*, now: dt.datetime) -> int:
    """Offer to others each assigned live chat whose agent has not replied within the tenant's target."""
    overdue = (
        Conversation.objects.filter(
            status=Conversation.Status.ACTIVE,
            first_agent_reply_at__isnull=True,
            first_visitor_message_at__isnull=False,
            requeued_at__isnull=True,
        )
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
        .filter(_past_target(moment_field="first_visitor_message_at", now=now))
    )
    count = 0
    for conversation in overdue:
        if routing.return_to_queue(conversation=conversation, now=now, mark_requeued=True):
            count += 1
    return count


def alert_long_waits(*, now: dt.datetime) -> int:
    """Alert the operations managers, once per chat, to each wait that has passed the tenant's target.

    Messages left outside service hours wait for the next shift by design: the target is for live chats.
    """
    long_waits = (
        Conversation.objects.filter(status=Conversation.Status.WAITING, supervisor_alerted_at__isnull=True)
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
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
    vanished = forget_vanished_visitors(now=now)
    abandoned = close_abandoned_chats(now=now)
    return SweepResult(
        visitors_vanished=vanished,
        chats_abandoned=abandoned,
        agents_released=release_absent_agents(now=now),
        chats_requeued=requeue_unanswered(now=now),
        waits_alerted=alert_long_waits(now=now),
        chats_routed=route_waiting_chats(now=now),
    )
