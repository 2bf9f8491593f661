"""Routing: which agent gets a new chat.

Eligible = online with a live console (one that pinged within settings.CHAT_CONSOLE_ALIVE_SECONDS),
on a shift now, training completed for the tenant, below their concurrency limit. Least loaded first,
then longest idle (oldest last assignment). Assignment locks the
candidate agents' rows, so two chats arriving at once cannot both take an agent's last free slot.
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from conversations import events, protection
from conversations.models import Conversation, Transfer
from tenants.models import Tenant
from workforce.models import Agent, Qualification, Shift


def _active_load() -> Count:
    return Count("conversations", filter=Q(conversations__status=Conversation.Status.ACTIVE), distinct=True)


def eligible_agents(*, tenant: Tenant, now: dt.datetime | None = None) -> QuerySet[Agent]:
    """Return the agents who may take a chat of the tenant now, best candidate first."""
    now = now or timezone.now()
    trained = Qualification.objects.completed().for_tenant(tenant).values("agent_id")
    on_shift = Shift.objects.on_at(now).values("agent_id")
    return (
        Agent.objects.reachable(now)
        .filter(pk__in=trained)
        .filter(pk__in=on_shift)
        .annotate(load=_active_load(), last_assigned_at=Max("conversations__assigned_at"))
        .filter(load__lt=F("max_concurrent_chats"))
        .order_by("load", F("last_assigned_at").asc(nulls_first=True), "pk")
    )


ERROR_TRANSFER_NOT_YOURS = gettext_lazy("Only the agent who has the chat can transfer it.")
ERROR_NOT_WAITING = gettext_lazy("This chat is not waiting for an agent.")
ERROR_NOT_TRAINED = gettext_lazy("%(agent)s has not completed training for %(tenant)s.")
ERROR_TRANSFER_TARGET = gettext_lazy("%(agent)s cannot take this chat now (not online, on shift, trained or free).")


# An agent's row is held only while another chat is given to them: rather than leave a chat for the
# clock's next sweep (seconds) when every free agent's row was held, wait this long for one (seconds).
LOCKED_AGENT_WAIT = 1.0
_LOCK_POLL = 0.02


def _lock_if_free(agent: Agent) -> bool | None:
    """Lock the agent's row unless another assignment holds it, then say whether a slot is free (None: held).

    The load is counted again under the lock, so two chats arriving at once cannot both take an
    agent's last slot; a row held by another assignment is skipped rather than waited for, so a burst
    of arrivals spreads over the agents instead of queueing on one lock.
    """
    locked = Agent.objects.select_for_update(skip_locked=True).filter(pk=agent.pk).first()
    if locked is None:
        return None
    return _has_free_slot(locked)


def _has_free_slot(agent: Agent) -> bool:
    # The agent's load counts their chats in every tenant.
    load = Conversation.objects.unscoped().filter(agent_id=agent.pk, status=Conversation.Status.ACTIVE).count()
    return load < agent.max_concurrent_chats


def _wait_and_lock_if_free(agent: Agent, *, within: float) -> bool:
    """Lock the agent's row, waiting up to ``within`` seconds for another assignment to let go; say whether a slot
    is free. Never blocks on the lock itself (NOWAIT, polled): nothing held here can make two routings wait on
    each other."""
    deadline = time.monotonic() + within
    while True:
        try:
            with transaction.atomic():  # a savepoint: a refused NOWAIT leaves the routing's transaction usable
                locked = Agent.objects.select_for_update(nowait=True).filter(pk=agent.pk).first()
        except OperationalError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_LOCK_POLL)
            continue
        return locked is not None and _has_free_slot(locked)


@transaction.atomic
def assign_waiting(
    *, conversation: Conversation, now: dt.datetime | None = None, exclude: Agent | None = None
) -> Agent | None:
    """Give a waiting conversation to the best eligible agent; return the agent, or None if it must wait."""
    now = now or timezone.now()
    conversation = Conversation.objects.for_tenant(conversation.tenant_id).select_for_update().get(pk=conversation.pk)
    if conversation.status != Conversation.Status.WAITING:
        return conversation.agent
    candidates = [
        agent for agent in eligible_agents(tenant=conversation.tenant, now=now) if exclude is None or agent != exclude
    ]
    chosen, held = None, []
    for agent in candidates:
        free = _lock_if_free(agent)
        if free:
            chosen = agent
            break
        if free is None:
            held.append(agent)
    if chosen is None:
        chosen = next((agent for agent in held if _wait_and_lock_if_free(agent, within=LOCKED_AGENT_WAIT)), None)
    if chosen is None:
        return None
    _hand_to(conversation, chosen, now)
    return chosen


@transaction.atomic
def assign_conversation(*, conversation: Conversation, agent: Agent, now: dt.datetime | None = None) -> Conversation:
    """Give a waiting chat to this agent at ``now``: the assignment alone, without the live policy.

    The agent must have completed training for the chat's tenant by that day (the tenant's date).
    Whether they are online, on shift and free is the routing policy's question (``eligible_agents``),
    which ``assign_waiting`` and ``take_waiting`` ask first; history (the demo) was decided already.
    ValidationError "not_waiting" or "not_trained" otherwise.
    """
    now = now or timezone.now()
    locked = (
        Conversation.objects.for_tenant(conversation.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=conversation.pk)
    )
    if locked.status != Conversation.Status.WAITING:
        raise ValidationError(ERROR_NOT_WAITING, code="not_waiting")
    today = now.astimezone(locked.tenant.zone).date()
    trained = Qualification.objects.completed().filter(
        agent=agent, tenant_id=locked.tenant_id, training_completed_on__lte=today
    )
    if not trained.exists():
        raise ValidationError(ERROR_NOT_TRAINED % {"agent": agent, "tenant": locked.tenant}, code="not_trained")
    _hand_to(locked, agent, now)
    return locked


@transaction.atomic
def take_waiting(*, conversation: Conversation, agent: Agent, now: dt.datetime | None = None) -> bool:
    """Let an eligible agent take a waiting chat from the queue; return whether they got it."""
    now = now or timezone.now()
    conversation = Conversation.objects.for_tenant(conversation.tenant_id).select_for_update().get(pk=conversation.pk)
    if conversation.status != Conversation.Status.WAITING:
        return conversation.agent_id == agent.pk
    if not eligible_agents(tenant=conversation.tenant, now=now).filter(pk=agent.pk).exists():
        return False
    if not _lock_if_free(agent):
        return False
    _hand_to(conversation, agent, now)
    return True


@transaction.atomic
def transfer(
    *, conversation: Conversation, from_agent: Agent, to_agent: Agent, note: str = "", now: dt.datetime | None = None
) -> Transfer:
    """Hand an active chat to another eligible agent with a note; both consoles and the visitor are told."""
    now = now or timezone.now()
    conversation = Conversation.objects.for_tenant(conversation.tenant_id).select_for_update().get(pk=conversation.pk)
    if conversation.status != Conversation.Status.ACTIVE or conversation.agent_id != from_agent.pk:
        raise ValidationError(ERROR_TRANSFER_NOT_YOURS, code="not_yours")
    eligible = eligible_agents(tenant=conversation.tenant, now=now).filter(pk=to_agent.pk).exists()
    if to_agent.pk == from_agent.pk or not eligible or not _lock_if_free(to_agent):
        raise ValidationError(ERROR_TRANSFER_TARGET % {"agent": to_agent}, code="transfer_refused")
    record = Transfer.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        from_agent=from_agent,
        to_agent=to_agent,
        note=protection.protect_for(conversation.tenant, note[:2000]),
        created_at=now,
    )
    conversation.agent = to_agent
    conversation.save(update_fields=["agent"])
    payload = events.conversation_payload(conversation)
    events.publish_on_commit(events.agent_group(from_agent.pk), "chat.withdrawn", payload)
    events.publish_on_commit(
        events.agent_group(to_agent.pk),
        "chat.assigned",
        payload | {"transfer_note": record.note, "transferred_by": from_agent.display_name},
    )
    events.publish_on_commit(events.conversation_group(conversation.pk), "chat.assigned", payload)
    # The sender has a slot free now: offer them the oldest waiting chats of their tenants after commit.
    transaction.on_commit(lambda: drain_queue_for(agent=from_agent, now=now), robust=True)
    return record


def drain_queue_for(*, agent: Agent, now: dt.datetime | None = None) -> int:
    """Route the oldest waiting chats of the agent's tenants now that a slot may be free; return how many."""
    waiting = (
        Conversation.objects.visible_to(agent)
        .filter(status=Conversation.Status.WAITING)
        .order_by("started_at")
        .values_list("pk", flat=True)[: agent.max_concurrent_chats]
    )
    routed = 0
    for conversation_id in list(waiting):
        conversation = Conversation.objects.visible_to(agent).get(pk=conversation_id)
        if assign_waiting(conversation=conversation, now=now) is None:
            break
        routed += 1
    return routed


def on_agent_may_take_chats(sender: type, *, agent: Agent, **kwargs: object) -> None:
    """Receive the workforce's ``agent_may_take_chats`` (sent after commit): route waiting chats to the agent."""
    drain_queue_for(agent=agent)


@transaction.atomic
def return_to_queue(*, conversation: Conversation, now: dt.datetime, mark_requeued: bool = False) -> bool:
    """Take an assigned chat back from its agent and offer it to the others; return whether it moved."""
    conversation = Conversation.objects.for_tenant(conversation.tenant_id).select_for_update().get(pk=conversation.pk)
    if conversation.status != Conversation.Status.ACTIVE or conversation.agent_id is None:
        return False
    previous = conversation.agent
    conversation.agent, conversation.status = None, Conversation.Status.WAITING
    changed = ["agent", "status"]
    if mark_requeued:
        conversation.requeued_at = now
        changed.append("requeued_at")
    conversation.save(update_fields=changed)
    payload = events.conversation_payload(conversation)
    events.publish_on_commit(events.agent_group(previous.pk), "chat.withdrawn", payload)
    events.publish_on_commit(events.conversation_group(conversation.pk), "chat.requeued", payload)
    if assign_waiting(conversation=conversation, now=now, exclude=previous) is None:
        events.publish_on_commit(events.tenant_queue_group(conversation.tenant_id), "queue.changed", payload)
    return True


def _hand_to(conversation: Conversation, agent: Agent, now: dt.datetime) -> None:
    conversation.agent, conversation.status = agent, Conversation.Status.ACTIVE
    conversation.assigned_at = conversation.assigned_at or now
    conversation.save(update_fields=["agent", "status", "assigned_at"])
    payload = events.conversation_payload(conversation)
    events.publish_on_commit(events.agent_group(agent.pk), "chat.assigned", payload)
    events.publish_on_commit(events.tenant_queue_group(conversation.tenant_id), "queue.changed", payload)
    events.publish_on_commit(events.conversation_group(conversation.pk), "chat.assigned", payload)


def queue_position(*, conversation: Conversation) -> int:
    """Return the conversation's place (1-based) among its tenant's waiting chats; 0 if not waiting."""
    if conversation.status != Conversation.Status.WAITING:
        return 0
    ahead = Conversation.objects.for_tenant(conversation.tenant).filter(
        status=Conversation.Status.WAITING, started_at__lt=conversation.started_at
    )
    return ahead.count() + 1
