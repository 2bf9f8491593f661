"""Writes about the people who answer: agents, training, shifts, presence, notices read.

A change that can let an agent take waiting chats (training completed, a shift covering now, a higher
limit of chats at once) sends ``workforce.signals.agent_may_take_chats`` after commit; routing lives a
layer above (``conversations``), which listens to it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import revocation, roles
from accounts.services import create_login
from outbox import services as outbox
from tenants import onboarding
from tenants.models import ChangeNotice, Tenant
from workforce.models import Agent, ChangeNoticeAcknowledgement, Qualification, Shift
from workforce.signals import agent_may_take_chats


@transaction.atomic
def create_agent(
    *,
    email: str,
    display_name: str,
    full_name: str = "",
    languages: list[str] | None = None,
    max_concurrent_chats: int = 3,
    username: str = "",
    password_hash: str = "",
) -> Agent:
    """Create an agent with a login of their own (see ``create_login``: invited unless a password is given)."""
    user = create_login(
        email=email,
        full_name=full_name or display_name,
        role=roles.AGENT,
        username=username,
        password_hash=password_hash,
    )
    if not password_hash:
        outbox.queue_invitation(user=user)
    agent = Agent(
        user=user, display_name=display_name, languages=languages or [], max_concurrent_chats=max_concurrent_chats
    )
    agent.full_clean()
    agent.save()
    return agent


def route_waiting_chats_to(agent: Agent) -> None:
    """After commit, tell routing the agent may take waiting chats now (the clock would, seconds later).

    For the changes that can make an agent eligible or free a slot without their console doing
    anything: training completed, a shift that covers now, a higher limit of chats at once.
    """
    transaction.on_commit(lambda: agent_may_take_chats.send(sender=Agent, agent=agent), robust=True)


@transaction.atomic
def save_qualification(*, qualification: Qualification, now: dt.datetime | None = None) -> Qualification:
    """Save an agent's training for a tenant and update the tenant's "agents trained" step as of ``now``.

    Training completed by today lets the agent take the tenant's waiting chats at once (after commit).
    """
    qualification.full_clean()
    moved_from = (
        Qualification.objects.filter(pk=qualification.pk).exclude(tenant_id=qualification.tenant_id).first()
        if qualification.pk
        else None
    )
    qualification.save()
    onboarding.refresh_checklist(qualification.tenant, now)
    if moved_from is not None:
        # The training moved to another tenant; the one it left may lose its "agents trained" step.
        onboarding.refresh_checklist(moved_from.tenant, now)
    # Training withdrawn (or completed): the agent's open consoles hear only the queues they may take now.
    revocation.logins_changed_on_commit(user_ids=[qualification.agent.user_id])
    completed = qualification.training_completed_on
    if completed is not None and completed <= timezone.localdate():
        route_waiting_chats_to(qualification.agent)
    return qualification


@transaction.atomic
def withdraw_training(*, qualification: Qualification, now: dt.datetime | None = None) -> None:
    """Delete an agent's training for a tenant: the tenant's "agents trained" step may reopen, and the
    agent's open consoles stop hearing its queue after commit."""
    tenant, user_id = qualification.tenant, qualification.agent.user_id
    qualification.delete()
    onboarding.refresh_checklist(tenant, now)
    revocation.logins_changed_on_commit(user_ids=[user_id])


@transaction.atomic
def save_agent(*, agent: Agent) -> Agent:
    """Save an agent's profile; a higher limit of chats at once gives them waiting chats at once (after commit)."""
    agent.full_clean()
    previous = Agent.objects.select_for_update().filter(pk=agent.pk).values_list("max_concurrent_chats", flat=True)
    raised = agent.max_concurrent_chats > next(iter(previous), agent.max_concurrent_chats)
    agent.save()
    if raised:
        route_waiting_chats_to(agent)
    return agent


def start_training(
    *, agent: Agent, tenant: Tenant, on: dt.date | None = None, now: dt.datetime | None = None
) -> Qualification:
    """Record that the agent has started training for the tenant (on ``on``, default today)."""
    on = on or timezone.localdate(now)
    qualification = Qualification.objects.filter(agent=agent, tenant=tenant).first() or Qualification(
        agent=agent, tenant=tenant
    )
    qualification.training_started_on = on
    return save_qualification(qualification=qualification, now=now)


def complete_training(
    *, agent: Agent, tenant: Tenant, on: dt.date | None = None, now: dt.datetime | None = None
) -> Qualification:
    """Record that the agent has completed training for the tenant (on ``on``, default today)."""
    on = on or timezone.localdate(now)
    qualification = Qualification.objects.filter(agent=agent, tenant=tenant).first() or Qualification(
        agent=agent, tenant=tenant, training_started_on=on
    )
    qualification.training_completed_on = on
    return save_qualification(qualification=qualification, now=now)


@transaction.atomic
def plan_shift(*, agent: Agent, starts_at: dt.datetime, ends_at: dt.datetime, note: str = "") -> Shift:
    """Plan a shift, refusing one that overlaps the agent's others.

    The agent's row is locked first, so two managers planning at once cannot both slip an
    overlapping shift past the check.
    """
    Agent.objects.select_for_update().get(pk=agent.pk)
    shift = Shift(agent=agent, starts_at=starts_at, ends_at=ends_at, note=note)
    shift.full_clean()
    shift.save()
    _route_if_on_shift_now(shift)
    return shift


@transaction.atomic
def save_shift(*, shift: Shift) -> Shift:
    """Save an edited shift under the same lock and checks as plan_shift."""
    Agent.objects.select_for_update().get(pk=shift.agent_id)
    shift.full_clean()
    shift.save()
    _route_if_on_shift_now(shift)
    return shift


def _route_if_on_shift_now(shift: Shift) -> None:
    # A shift that starts later is the clock's to notice; one covering now puts the agent on duty at once.
    if shift.starts_at <= timezone.now() < shift.ends_at:
        route_waiting_chats_to(shift.agent)


def set_presence(*, agent: Agent, presence: str, now: dt.datetime | None = None) -> Agent:
    """Set the agent online, away or offline."""
    if presence not in Agent.Presence.values:
        raise ValidationError(_("Unknown presence “%(value)s”.") % {"value": presence}, code="bad_presence")
    now = now or timezone.now()
    if agent.presence != presence:
        agent.presence, agent.presence_changed_at, agent.last_seen_at = presence, now, now
        agent.save(update_fields=["presence", "presence_changed_at", "last_seen_at"])
    return agent


def touch_agent(*, agent: Agent, now: dt.datetime | None = None) -> None:
    """Record that a console of the agent's is alive right now (it connected or pinged)."""
    now = now or timezone.now()
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=now)
    agent.last_seen_at = now


def acknowledge_notice(
    *, notice: ChangeNotice, agent: Agent, now: dt.datetime | None = None
) -> ChangeNoticeAcknowledgement:
    """Record that the agent has read the notice; acknowledging twice keeps the first time."""
    acknowledgement, _created = ChangeNoticeAcknowledgement.objects.get_or_create(
        notice=notice, agent=agent, defaults={"acknowledged_at": now or timezone.now()}
    )
    return acknowledgement
