"""Reads of the live chat: what a visitor and an agent see when they (re)connect, and beside a chat."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

from django.db.models import Avg, Count, F, Q, Sum
from django.utils import timezone

from conversations import access, events, routing
from conversations.models import ClockRun, Conversation, Message, Note, PageView, Tag, Visitor
from conversations.visits import NEW_VISIT_AFTER
from tenants.models import Tenant
from tenants.scoping import trained_tenant_ids
from workforce.models import Agent, Qualification, Shift

DEFAULT_HANDLE_SECONDS = 300
HANDLE_TIME_WINDOW = dt.timedelta(days=14)


def open_conversation_of(*, visitor: Visitor) -> Conversation | None:
    """Return the visitor's conversation that has not been closed, if any."""
    return Conversation.objects.for_tenant(visitor.tenant).open_of(visitor).select_related("agent", "tenant").first()


def open_conversation_by_id(*, visitor: Visitor, conversation_id: int) -> Conversation | None:
    """Return the visitor's conversation of that id if it has not been closed."""
    return (
        Conversation.objects.for_tenant(visitor.tenant)
        .open_of(visitor)
        .filter(pk=conversation_id)
        .select_related("agent", "tenant")
        .first()
    )


def queue_tenant_ids(*, agent: Agent) -> list[int]:
    """Return the ids of the tenants whose queues the agent's console follows (those they are trained for)."""
    return list(trained_tenant_ids(agent))


def transfer_colleagues(*, agent: Agent, conversation_id: object) -> list[dict[str, Any]]:
    """Return the colleagues who could take the agent's chat now (best first), with their load."""
    conversation = access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)
    return [
        {"id": colleague.pk, "name": colleague.display_name, "load": colleague.load}
        for colleague in routing.eligible_agents(tenant=conversation.tenant).exclude(pk=agent.pk)
    ]


def reloaded(conversation: Conversation) -> Conversation:
    """Return the conversation as stored now."""
    return (
        Conversation.objects.for_tenant(conversation.tenant_id)
        .select_related("tenant", "agent")
        .get(pk=conversation.pk)
    )


def conversation_for_console(*, agent: Agent, conversation_id: int) -> Conversation:
    """Return a conversation the agent may see, with what the console shows of it."""
    return Conversation.objects.visible_to(agent).select_related("tenant", "visitor", "agent").get(pk=conversation_id)


def staffed_agents(*, tenant: Tenant, now: dt.datetime) -> Any:
    """Return the agents trained for the tenant who are online, on shift and at a live console, whatever their load."""
    trained = Qualification.objects.completed().for_tenant(tenant).values("agent_id")
    on_shift = Shift.objects.on_at(now).values("agent_id")
    return Agent.objects.reachable(now).filter(pk__in=trained).filter(pk__in=on_shift)


def average_handle_seconds(*, tenant: Tenant, now: dt.datetime) -> float:
    """Return the tenant's recent average handle time (assignment to close), or a default."""
    recent = Conversation.objects.for_tenant(tenant).filter(
        closed_at__gt=now - HANDLE_TIME_WINDOW, assigned_at__isnull=False, closed_at__isnull=False
    )
    average = recent.aggregate(avg=Avg(F("closed_at") - F("assigned_at")))["avg"]
    return average.total_seconds() if average else DEFAULT_HANDLE_SECONDS


def expected_wait_seconds(
    *, conversation: Conversation, now: dt.datetime | None = None, position: int | None = None
) -> int | None:
    """Estimate the wait of a queued chat (at ``position`` when known); None when nobody is on duty to answer it."""
    now = now or timezone.now()
    position = routing.queue_position(conversation=conversation) if position is None else position
    if position == 0:
        return 0
    capacity = staffed_agents(tenant=conversation.tenant, now=now).aggregate(n=Sum("max_concurrent_chats"))["n"]
    if not capacity:
        return None
    return math.ceil(position * average_handle_seconds(tenant=conversation.tenant, now=now) / capacity)


def visitor_conversation_state(*, conversation: Conversation | None, now: dt.datetime | None = None) -> dict | None:
    """Return what the widget shows about its conversation: status, agent, place in queue, wait."""
    if conversation is None:
        return None
    position = routing.queue_position(conversation=conversation)
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "agent_name": conversation.agent.display_name if conversation.agent_id else "",
        "last_seq": conversation.last_seq,
        "queue_position": position,
        "expected_wait_seconds": expected_wait_seconds(conversation=conversation, now=now, position=position),
    }


def console_state(*, agent: Agent) -> dict[str, Any]:
    """Return the queue of the agent's tenants and the agent's own open chats."""
    visible = Conversation.objects.visible_to(agent).select_related("tenant", "visitor", "agent")
    waiting = list(visible.filter(status=Conversation.Status.WAITING).order_by("started_at"))
    mine = list(visible.filter(status=Conversation.Status.ACTIVE, agent=agent).order_by("assigned_at"))
    last = _last_messages(waiting + mine)
    return {
        "agent": {"id": agent.pk, "name": agent.display_name, "presence": agent.presence},
        "queue": [console_chat(conversation, last.get(conversation.pk)) for conversation in waiting],
        "chats": [console_chat(conversation, last.get(conversation.pk)) for conversation in mine],
    }


def console_sync(*, agent: Agent, followed: set[int]) -> dict[str, Any]:
    """Return what a console checks its view against on each ping, in one query.

    ``conversations`` maps each chat the console follows, each chat of the agent's and each waiting chat
    of their tenants to its last sequence number; ``chats`` and ``queue`` list the agent's chats and the
    waiting ones, as the last state frame should have.
    """
    rows = (
        # Chats the console opened through access_conversation, the agent's own, and their tenants' queue.
        Conversation.objects.unscoped()
        .filter(
            Q(pk__in=followed)
            | Q(agent=agent, status=Conversation.Status.ACTIVE)
            | Q(status=Conversation.Status.WAITING, tenant__in=trained_tenant_ids(agent))
        )
        .order_by("started_at", "pk")
        .values_list("pk", "last_seq", "status", "agent_id")
    )
    sync: dict[str, Any] = {"conversations": {}, "chats": [], "queue": []}
    for pk, last_seq, status, agent_id in rows:
        sync["conversations"][str(pk)] = last_seq
        if status == Conversation.Status.ACTIVE and agent_id == agent.pk:
            sync["chats"].append(pk)
        elif status == Conversation.Status.WAITING:
            sync["queue"].append(pk)
    return sync


def console_chat(conversation: Conversation, last_message: Message | None = None) -> dict[str, Any]:
    """Return a conversation as the console lists it, labelled with its tenant, with its last message."""
    tenant = conversation.tenant
    return events.conversation_payload(conversation) | {
        "tenant_language": tenant.language,
        "first_response_target_seconds": tenant.first_response_target_seconds,
        "visitor": str(conversation.visitor),
        "last_seq": conversation.last_seq,
        "last_message": events.message_payload(last_message) if last_message else None,
    }


def _last_messages(conversations: list[Conversation]) -> dict[int, Message]:
    """Return each conversation's newest message, in one query."""
    wanted = [(c.pk, c.last_seq) for c in conversations if c.last_seq]
    if not wanted:
        return {}
    match = Q()
    for conversation_id, seq in wanted:
        match |= Q(conversation_id=conversation_id, seq=seq)
    messages = Message.objects.filter(match, conversation__in=conversations).select_related("agent")
    return {m.conversation_id: m for m in messages}


# --- Beside a chat in the console: the visitor, private notes and tags ------------------------------

# Page views read to find the current visit; a visit longer than this is shown by its latest pages.
VISIT_PAGES_READ = 50
EARLIER_CONVERSATIONS_SHOWN = 10
TAG_SUGGESTIONS_SHOWN = 50


def _page_payload(view: PageView) -> dict[str, Any]:
    return {"url": view.url, "title": view.title, "viewed_at": view.viewed_at.isoformat()}


def current_visit(*, visitor: Visitor) -> list[PageView]:
    """Return the pages of the visitor's latest visit, newest first.

    A visit is the run of page views with less than visits.NEW_VISIT_AFTER between one and the next.
    """
    views = list(
        PageView.objects.for_tenant(visitor.tenant)
        .filter(visitor=visitor)
        .order_by("-viewed_at", "-pk")[:VISIT_PAGES_READ]
    )
    visit = views[:1]
    for newer, older in itertools.pairwise(views):
        if newer.viewed_at - older.viewed_at >= NEW_VISIT_AFTER:
            break
        visit.append(older)
    return visit


def visitor_panel(*, conversation: Conversation) -> dict[str, Any]:
    """Return who the visitor of a chat is: current page, this visit's pages, new or returning, earlier chats."""
    visitor = conversation.visitor
    visit = current_visit(visitor=visitor)
    earlier = (
        Conversation.objects.for_tenant(conversation.tenant)
        .filter(visitor=visitor, started_at__lt=conversation.started_at)
        .exclude(pk=conversation.pk)
        .select_related("agent")
        .prefetch_related("tags")
        .order_by("-started_at")
    )
    earlier_count = earlier.count()
    returning = earlier_count > 0 or any(view.returning for view in visit[-1:])
    return {
        "conversation": conversation.pk,
        "visitor": {
            "name": visitor.name,
            "email": visitor.email,
            "phone": visitor.phone,
            "first_seen_at": visitor.first_seen_at.isoformat(),
            "returning": returning,
        },
        "current_page": _page_payload(visit[0]) if visit else None,
        "visit_pages": [_page_payload(view) for view in visit],
        "visit_started_at": visit[-1].viewed_at.isoformat() if visit else None,
        "earlier_count": earlier_count,
        "earlier": [
            {
                "conversation": other.pk,
                "started_at": other.started_at.isoformat(),
                "closed_at": other.closed_at.isoformat() if other.closed_at else None,
                "status": other.status,
                "outcome": other.outcome,
                "outcome_label": str(other.get_outcome_display()) if other.outcome else "",
                "summary": other.summary,
                "agent_name": other.agent.display_name if other.agent_id else "",
                "tags": [tag.name for tag in other.tags.all()],
            }
            for other in earlier[:EARLIER_CONVERSATIONS_SHOWN]
        ],
    }


def note_payload(note: Note, *, viewer: Agent | None = None) -> dict[str, Any]:
    """Return a private note as the console shows it."""
    return {
        "id": note.pk,
        "conversation": note.conversation_id,
        "body": note.body,
        "agent_name": note.agent.display_name if note.agent_id else "",
        "mine": viewer is not None and note.agent_id == viewer.pk,
        "created_at": note.created_at.isoformat(),
    }


def conversation_notes(*, conversation: Conversation, viewer: Agent | None = None) -> list[dict[str, Any]]:
    """Return the team's private notes on a chat, oldest first."""
    notes = Note.objects.for_tenant(conversation.tenant).filter(conversation=conversation).select_related("agent")
    return [note_payload(note, viewer=viewer) for note in notes.order_by("created_at", "pk")]


def conversation_tags(*, conversation: Conversation) -> dict[str, list[str]]:
    """Return a chat's tags and the tenant's other tags to suggest."""
    tags = sorted((tag.name for tag in conversation.tags.all()), key=str.casefold)
    suggestions = (
        Tag.objects.for_tenant(conversation.tenant)
        .exclude(name__in=tags)
        .annotate(used=Count("conversations"))
        .order_by("-used", "name")
        .values_list("name", flat=True)[:TAG_SUGGESTIONS_SHOWN]
    )
    return {"tags": tags, "suggestions": list(suggestions)}


def clock_last_ran(*, name: str) -> dt.datetime | None:
    """Return when the named clock of the live chat last finished a run (None: never)."""
    return ClockRun.objects.filter(name=name).values_list("last_ran_at", flat=True).first()
