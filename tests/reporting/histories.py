"""Small hand-made chat histories for the KPI tests: visitors, page views and conversations at set moments."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from conversations.models import Conversation, Lead, PageView, Visitor
from tenants.models import Tenant
from workforce.models import Agent, Qualification, Shift

_numbers = itertools.count(1)


def make_agent(name: str = "") -> Agent:
    """Return an agent whose user has no usable password (hashing one is slow and the KPIs need none)."""
    n = next(_numbers)
    user = get_user_model().objects.create(username=f"kpi-agent-{n}")
    return Agent.objects.create(user=user, display_name=name or f"Agent {n}")


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def make_visitor(tenant: Tenant, *, seen: dt.datetime | None = None, returning: bool = False) -> Visitor:
    """Return a new visitor of the tenant, with one page view at ``seen`` if given."""
    visitor = Visitor.objects.create(tenant=tenant, first_seen_at=seen or dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    if seen is not None:
        view_page(visitor, at=seen, returning=returning)
    return visitor


def view_page(visitor: Visitor, *, at: dt.datetime, returning: bool = False) -> PageView:
    return PageView.objects.create(
        tenant_id=visitor.tenant_id,
        visitor=visitor,
        url=f"https://client.example/page-{next(_numbers)}",
        viewed_at=at,
        returning=returning,
    )


def make_chat(
    tenant: Tenant,
    started: dt.datetime,
    *,
    wrote: float | None = 1,
    replied: float | None = None,
    assigned: float | None = None,
    closed: float | None = None,
    outcome: str = "",
    rating: int | None = None,
    origin: str = Conversation.Origin.REACTIVE,
    agent: Agent | None = None,
    visitor: Visitor | None = None,
) -> Conversation:
    """Return a conversation started at ``started``.

    ``wrote``: seconds from the start to the visitor's first message (None: never wrote);
    ``replied``: seconds from that message to the first agent message, i.e. the first response time
    (None: no agent message); ``assigned`` and ``closed``: seconds from the start (None: not yet).
    """
    wrote_at = started + seconds(wrote) if wrote is not None else None
    reply_base = wrote_at or started
    if closed is not None:
        status = Conversation.Status.CLOSED
    elif assigned is not None or replied is not None:
        status = Conversation.Status.ACTIVE
    else:
        status = Conversation.Status.WAITING
    return Conversation.objects.create(
        tenant=tenant,
        visitor=visitor or make_visitor(tenant),
        agent=agent,
        status=status,
        origin=origin,
        started_at=started,
        first_visitor_message_at=wrote_at,
        first_agent_reply_at=reply_base + seconds(replied) if replied is not None else None,
        assigned_at=started + seconds(assigned) if assigned is not None else None,
        closed_at=started + seconds(closed) if closed is not None else None,
        outcome=outcome,
        rating=rating,
    )


def add_lead(conversation: Conversation, *, email: str = "", phone: str = "") -> Lead:
    return Lead.objects.create(
        tenant_id=conversation.tenant_id, conversation=conversation, email=email, phone=phone, wants="A quote"
    )


def train(agent: Agent, *tenants: Tenant, completed_on: dt.date = dt.date(2026, 9, 1)) -> Agent:
    """Complete the agent's training for the tenants on ``completed_on`` (started a week before)."""
    for tenant in tenants:
        Qualification.objects.create(
            agent=agent,
            tenant=tenant,
            training_started_on=completed_on - dt.timedelta(days=7),
            training_completed_on=completed_on,
        )
    return agent


def add_shift(agent: Agent, starts_at: dt.datetime, ends_at: dt.datetime) -> Shift:
    """Plan a shift as written, without the service's lock (the tests plan no overlaps)."""
    return Shift.objects.create(agent=agent, starts_at=starts_at, ends_at=ends_at)
