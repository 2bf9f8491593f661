"""Writes of the live chat. Persist, then publish: every message is numbered and stored before
anyone is told of it, and a client-made message id makes a resend idempotent."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from conversations import access, events, limits, protection, routing, signals, sql, timers, visits
from conversations.models import LIVE_CHAT_CLOCK, ClockRun, Conversation, Message, Visitor
from conversations.safe_text import checked_text
from tenants.models import Tenant
from tenants.services import record_widget_seen
from workforce import services as agent_services
from workforce.models import Agent, Qualification

MAX_MESSAGE_LENGTH = 4000
MAX_CLIENT_MSG_ID_LENGTH = 64

ERROR_EMPTY_MESSAGE = _("A message cannot be empty.")
ERROR_MESSAGE_TOO_LONG = _("A message can be at most %(limit)d characters long.")
ERROR_CONVERSATION_CLOSED = _("This conversation has ended.")
ERROR_NOT_YOUR_CHAT = _("This chat is assigned to another agent.")
ERROR_NOT_AVAILABLE = _("You cannot take this chat now: you are not online and on shift, or at your limit of chats.")
CARD_NOTICE = _(
    "Card numbers are not accepted in the chat, so the number was hidden. Please never send card details here."
)
# The client id of the card notice: the unique constraint on it tells the visitor once per conversation.
CARD_NOTICE_ID = "privacy:card-notice"


def _clean_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError(ERROR_EMPTY_MESSAGE, code="empty")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationError(ERROR_MESSAGE_TOO_LONG % {"limit": MAX_MESSAGE_LENGTH}, code="too_long")
    return checked_text(body)


def _clean_client_msg_id(client_msg_id: str) -> str:
    client_msg_id = checked_text((client_msg_id or "").strip())
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
    Visitor.objects.for_tenant(tenant).select_for_update().get(pk=visitor.pk)
    open_one = Conversation.objects.for_tenant(tenant).open_of(visitor).first()
    if open_one is not None:
        return open_one
    limits.check_conversation_rate(ip_address=ip_address, now=now)
    conversation = Conversation.objects.create(
        tenant=tenant, visitor=visitor, origin=origin, started_at=now, ip_address=ip_address, visitor_left_at=now
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
    """Store a message under the conversation's row lock; return it and whether it is new.

    The text is protected here with the tenant's policy as it is now (masked, sealed if it encrypts).
    """
    locked = (
        Conversation.objects.for_tenant(conversation.tenant_id)
        .select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=conversation.pk)
    )
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
        body=protection.protect(body, policy=protection.TextPolicy.of(locked.tenant)).text,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    return locked, message, True


def _publish_message(message: Message, *, sender_channel: str = "") -> None:
    events.publish_on_commit(
        events.conversation_group(message.conversation_id),
        "chat.message",
        events.message_payload(message),
        sender_channel=sender_channel,
    )


def _announce_visitor_message(message: Message, *, waiting: bool, sender_channel: str) -> None:
    """Publish a visitor's message to the chat's group (its agent's consoles follow it, its widgets too),
    and, while the chat waits, to the agents who may take it."""
    _publish_message(message, sender_channel=sender_channel)
    if waiting:
        events.publish_on_commit(
            events.tenant_queue_group(message.tenant_id), "chat.activity", events.message_payload(message)
        )


# --- The steady state of a chat, in the fewest statements --------------------------------------------


def _db_value(model, name: str, value):
    """Return a value as the column stores it (raw SQL goes through the field, like the ORM would)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _typed(model, name: str, value) -> tuple:
    """Return a value as the column stores it, with the column's SQL type."""
    return _db_value(model, name, value), model._meta.get_field(name).db_type(connection)


def _store_in_one_go(
    *,
    conversation_id: int,
    sender: str,
    body: str,
    client_msg_id: str,
    agent: Agent | None,
    now: dt.datetime,
    encrypt: bool,
) -> tuple[Message, str] | None:
    """Number and store a message of a chat in its steady state; return it and the chat's status.

    The steady state: a visitor writes in an open chat, an agent in an active chat of theirs, of a tenant
    they are trained for; the client id is new; the tenant encrypts its messages exactly when ``encrypt``
    says (the body was protected by a policy read a moment ago: if the flag has changed since,
    the statement stores nothing and the slow path protects the text by the flag as it is).
    Otherwise return None and store nothing: the caller takes the slow path, which says why (closed,
    not yours) or returns the stored resend.

    The sequence bump (``UPDATE … RETURNING``) and the insert happen together or not at all
    (``sql.update_then_insert``: one statement on PostgreSQL). A client id stored already bumps nothing;
    two resends racing each other meet the unique constraint, and the loser stores nothing.
    """
    conversations, messages = Conversation._meta.db_table, Message._meta.db_table
    first = "first_visitor_message_at" if agent is None else "first_agent_reply_at"
    # The first response is the first agent message after the visitor's first one: a greeting sent
    # before the visitor wrote leaves it unset (see ``reporting.kpis``, first response).
    first_value = "%s" if agent is None else "CASE WHEN first_visitor_message_at IS NULL THEN NULL ELSE %s END"
    if agent is None:
        condition, condition_params = "status <> %s", [Conversation.Status.CLOSED]
    else:
        qualifications = Qualification._meta.db_table
        condition = (
            f"agent_id = %s AND status = %s AND tenant_id IN (SELECT tenant_id FROM {qualifications} "  # noqa: S608
            "WHERE agent_id = %s AND training_completed_on IS NOT NULL)"
        )
        condition_params = [agent.pk, Conversation.Status.ACTIVE, agent.pk]
    bump = (
        f"UPDATE {conversations} SET last_seq = last_seq + 1, {first} = COALESCE({first}, {first_value}) "  # noqa: S608
        f"WHERE id = %s AND {condition} AND NOT EXISTS (SELECT 1 FROM {messages} "
        "WHERE conversation_id = %s AND client_msg_id = %s AND client_msg_id <> '') "
        f"AND tenant_id IN (SELECT id FROM {Tenant._meta.db_table} WHERE encrypt_messages = %s) "
        "RETURNING id, tenant_id, last_seq, status"
    )
    bump_params = [_db_value(Conversation, first, now), conversation_id, *condition_params]
    bump_params += [conversation_id, client_msg_id, encrypt]
    row = sql.update_then_insert(
        update=bump,
        update_params=bump_params,
        table=messages,
        columns=["tenant_id", "conversation_id", "seq", "sender", "agent_id", "body", "client_msg_id", "created_at"],
        copied=["tenant_id", "id", "last_seq"],
        values=[
            _typed(Message, "sender", sender),
            _typed(Message, "agent", agent.pk if agent else None),
            _typed(Message, "body", body),
            _typed(Message, "client_msg_id", client_msg_id),
            _typed(Message, "created_at", now),
        ],
    )
    if row is None:
        return None
    message_id, _conversation_id, tenant_id, seq, status = row
    message = Message(
        pk=message_id,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        seq=seq,
        sender=sender,
        agent=agent,
        body=body,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    message._state.adding, message._state.db = False, connection.alias
    return message, status


def _stored_message(*, conversation: Conversation, client_msg_id: str) -> Message | None:
    if not client_msg_id:
        return None
    return (
        Message.objects.filter(conversation=conversation, client_msg_id=client_msg_id).select_related("agent").first()
    )


def post_visitor_message(
    *,
    conversation: Conversation,
    body: str,
    client_msg_id: str = "",
    now: dt.datetime | None = None,
    sender_channel: str = "",
) -> tuple[Message, bool]:
    """Store a visitor's message and publish it after commit; a resend with the same id is stored once.

    In a running chat this is one SQL statement on PostgreSQL (``_store_in_one_go``) and the rate limit
    is counted in the cache. ``sender_channel`` is the socket it came from, which is not sent it back.
    """
    body, client_msg_id, now = _clean_body(body), _clean_client_msg_id(client_msg_id), now or timezone.now()
    try:
        limits.check_message_rate(visitor_id=conversation.visitor_id)
    except ValidationError:
        earlier = _stored_message(conversation=conversation, client_msg_id=client_msg_id)
        if earlier is None:
            raise
        return earlier, False  # a resend of a message stored before the limit was reached
    policy = protection.policy_for_tenant_id(conversation.tenant_id)
    protection.remember_conversation(conversation_id=conversation.pk, tenant_id=conversation.tenant_id)
    protected = protection.protect(body, policy=policy)
    stored = _store_in_one_go(
        conversation_id=conversation.pk,
        sender=Message.Sender.VISITOR,
        body=protected.text,
        client_msg_id=client_msg_id,
        agent=None,
        now=now,
        encrypt=policy.encrypt,
    )
    if stored is None:
        try:
            message, created, status = _post_visitor_message_under_lock(
                conversation=conversation, body=body, client_msg_id=client_msg_id, now=now
            )
        except ValidationError:
            limits.uncount_message(visitor_id=conversation.visitor_id)
            raise
        if not created:
            limits.uncount_message(visitor_id=conversation.visitor_id)
            return message, False
    else:
        (message, status), created = stored, True
    _announce_visitor_message(message, waiting=status == Conversation.Status.WAITING, sender_channel=sender_channel)
    if protected.cards:
        tell_visitor_cards_are_not_accepted(conversation=conversation, now=now)
    return message, created


def tell_visitor_cards_are_not_accepted(*, conversation: Conversation, now: dt.datetime) -> None:
    """Append the notice that card numbers are not taken in chat, once per conversation, in its language."""
    language = Tenant.objects.filter(pk=conversation.tenant_id).values_list("language", flat=True).first()
    with translation.override(language):
        body = str(CARD_NOTICE)
    post_system_message(conversation=conversation, body=body, client_msg_id=CARD_NOTICE_ID, now=now)


@transaction.atomic
def _post_visitor_message_under_lock(
    *, conversation: Conversation, body: str, client_msg_id: str, now: dt.datetime
) -> tuple[Message, bool, str]:
    """Store a visitor's message the long way: for a resend, a closed chat, or a database without RETURNING."""
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
    return message, created, locked.status


def post_agent_reply(
    *,
    agent: Agent,
    conversation_id: object,
    body: str,
    client_msg_id: str = "",
    now: dt.datetime | None = None,
    sender_channel: str = "",
) -> tuple[Message, bool]:
    """Store an agent's message in a chat by its id, in one statement when the chat is theirs and running.

    Otherwise the chat is looked up through ``access`` (not found unless the agent is trained for its
    tenant); a waiting chat is taken first with the checks of ``routing.take_waiting`` (refused:
    ValidationError "not_available"), and the message is stored by ``post_agent_message``, which says
    why not when it cannot be.
    """
    body, client_msg_id, now = _clean_body(body), _clean_client_msg_id(client_msg_id), now or timezone.now()
    policy = protection.policy_for_conversation_id(conversation_id) if isinstance(conversation_id, int) else None
    if policy is not None:
        stored = _store_in_one_go(
            conversation_id=conversation_id,
            sender=Message.Sender.AGENT,
            body=protection.protect(body, policy=policy).text,
            client_msg_id=client_msg_id,
            agent=agent,
            now=now,
            encrypt=policy.encrypt,
        )
        if stored is not None:
            message, _status = stored
            _publish_message(message, sender_channel=sender_channel)
            return message, True
    conversation = access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)
    _take_before_replying(conversation=conversation, agent=agent, now=now)
    protection.remember_conversation(conversation_id=conversation.pk, tenant_id=conversation.tenant_id)
    return post_agent_message(
        conversation=conversation,
        agent=agent,
        body=body,
        client_msg_id=client_msg_id,
        now=now,
        sender_channel=sender_channel,
    )


def _take_before_replying(*, conversation: Conversation, agent: Agent, now: dt.datetime) -> None:
    """Let a reply take a waiting chat only as ``take`` would: online, on shift, below the limit, not locked."""
    waiting = conversation.status == Conversation.Status.WAITING and conversation.agent_id is None
    if waiting and not routing.take_waiting(conversation=conversation, agent=agent, now=now):
        raise ValidationError(ERROR_NOT_AVAILABLE, code="not_available")


@transaction.atomic
def post_agent_message(
    *,
    conversation: Conversation,
    agent: Agent,
    body: str,
    client_msg_id: str = "",
    now: dt.datetime | None = None,
    sender_channel: str = "",
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
        if locked.first_agent_reply_at is None and locked.first_visitor_message_at is not None:
            locked.first_agent_reply_at = now
            changed.append("first_agent_reply_at")
        locked.save(update_fields=changed)
        _publish_message(message, sender_channel=sender_channel)
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
    return list(Message.objects.filter(conversation=conversation, seq__gt=seq).select_related("agent").order_by("seq"))


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
    return _close_locked(locked, outcome=outcome, summary=summary, now=now or timezone.now())


def _close_locked(locked: Conversation, *, outcome: str, summary: str, now: dt.datetime) -> Conversation:
    summary = protection.protect_for(locked.tenant, summary)
    locked.status, locked.outcome, locked.summary, locked.closed_at = Conversation.Status.CLOSED, outcome, summary, now
    locked.save(update_fields=["status", "outcome", "summary", "closed_at"])
    signals.conversation_closed.send(sender=Conversation, conversation=locked)
    _announce_closed(locked)
    return locked


def _locked_for_closing(conversation: Conversation) -> Conversation:
    """Lock the conversation's row (its alone) and read it with the tenant and agent its announcement names."""
    return (
        Conversation.objects.for_tenant(conversation.tenant_id)
        .select_for_update(of=("self",))
        .select_related("tenant", "agent")
        .get(pk=conversation.pk)
    )


def _announce_closed(conversation: Conversation) -> None:
    payload = events.conversation_payload(conversation)
    events.publish_on_commit(events.conversation_group(conversation.pk), "chat.closed", payload)
    events.publish_on_commit(events.tenant_queue_group(conversation.tenant_id), "queue.changed", payload)


@transaction.atomic
def close_abandoned_chat(
    *, conversation: Conversation, away_since: dt.datetime, now: dt.datetime
) -> Conversation | None:
    """Close an open chat as "visitor left" if its visitor has had no widget socket since ``away_since``.

    Checked again under the row lock (the visitor may have come back meanwhile). Return the closed chat
    (its agent's slot is free now: the caller routes the queue to them), or None if it stays open.
    """
    locked = _locked_for_closing(conversation)
    gone = locked.visitor_sockets == 0 and locked.visitor_left_at is not None and locked.visitor_left_at <= away_since
    if locked.status == Conversation.Status.CLOSED or not gone:
        return None
    return _close_locked(locked, outcome=Conversation.Outcome.VISITOR_LEFT, summary="", now=now)


# --- Visitor presence: the widget sockets that follow a chat -------------------------------------------


def _publish_visitor_presence(conversation_id: int, *, present: bool) -> None:
    events.publish_on_commit(
        events.conversation_group(conversation_id),
        "chat.visitor",
        {"conversation": conversation_id, "visitor_present": present},
    )


def _open(conversation_id: int):
    # The id is of a chat the caller holds (its own socket's, or the clock's sweep): never one a client names.
    return Conversation.objects.unscoped().filter(pk=conversation_id).open()


def visitor_arrived(*, conversation: Conversation, now: dt.datetime | None = None) -> None:
    """Count one more widget socket following the chat; if the visitor had left, tell its consoles."""
    now = now or timezone.now()
    _open(conversation.pk).update(visitor_sockets=F("visitor_sockets") + 1, visitor_seen_at=now, visitor_left_at=None)
    if conversation.visitor_left_at is not None:
        conversation.visitor_left_at = None
        _publish_visitor_presence(conversation.pk, present=True)


def visitor_still_here(*, conversation: Conversation, now: dt.datetime | None = None) -> None:
    """Record a ping of a widget socket that follows the chat (``conversation`` as read just before)."""
    now = now or timezone.now()
    # At least this socket: the clock may have given up on a socket whose process looked dead.
    _open(conversation.pk).update(
        visitor_sockets=Greatest(F("visitor_sockets"), 1), visitor_seen_at=now, visitor_left_at=None
    )
    if conversation.visitor_left_at is not None:
        conversation.visitor_left_at = None
        _publish_visitor_presence(conversation.pk, present=True)


def visitor_departed(*, conversation_id: int, now: dt.datetime | None = None) -> bool:
    """Count one widget socket fewer; when it was the last, the visitor has left: tell the consoles.

    Return whether the visitor has left now.
    """
    now = now or timezone.now()
    _open(conversation_id).update(
        visitor_sockets=Greatest(F("visitor_sockets") - 1, 0),
        visitor_seen_at=now,
        visitor_left_at=Case(
            When(visitor_sockets__lte=1, visitor_left_at__isnull=True, then=Value(now)), default=F("visitor_left_at")
        ),
    )
    left = _open(conversation_id).filter(visitor_sockets=0, visitor_left_at=now).exists()
    if left:
        _publish_visitor_presence(conversation_id, present=False)
    return left


def visitor_vanished(*, conversation_id: int, last_seen_at: dt.datetime) -> bool:
    """Count no socket for a chat whose widgets stopped pinging at ``last_seen_at`` (their process died).

    The visitor left when last seen; return whether this call found it so (the consoles are told).
    """
    gone = _open(conversation_id).filter(visitor_sockets__gt=0, visitor_seen_at=last_seen_at)
    if not gone.update(visitor_sockets=0, visitor_left_at=last_seen_at):
        return False
    _publish_visitor_presence(conversation_id, present=False)
    return True


def open_widget_session(
    *, tenant: Tenant, token: str | None, url: str, title: str, origin: str, now: dt.datetime | None = None
) -> tuple[Visitor, str]:
    """Identify the visitor (new, or by their token), record the page view and note the widget as seen."""
    now = now or timezone.now()
    visitor, token = visits.identify_visitor(tenant=tenant, token=token, now=now)
    if url:
        visits.record_page_view(tenant=tenant, visitor=visitor, url=url, title=title, now=now)
    record_widget_seen(tenant=tenant, origin=origin, now=now)
    return visitor, token


# --- The agent's console: what its socket asks for -------------------------------------------------


def connect_console(*, user: AbstractBaseUser | AnonymousUser | None) -> Agent | None:
    """Return the user's agent profile, counted alive at once (a console that connects answers); else None."""
    agent = access.agent_of_user(user)
    if agent is not None:
        agent_services.touch_agent(agent=agent)
    return agent


def set_console_presence(*, agent: Agent, presence: str) -> Agent:
    """Set the agent's presence from their console; going online gives them waiting chats at once."""
    agent_services.set_presence(agent=agent, presence=presence)
    if presence == Agent.Presence.ONLINE:
        agent_services.touch_agent(agent=agent)
        routing.drain_queue_for(agent=agent)
    return agent


def transfer_chat(*, agent: Agent, conversation_id: object, to_agent_id: object, note: str) -> None:
    """Hand a chat of the agent's (by id) to a colleague (by id) with a note; see ``routing.transfer``."""
    conversation = access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)
    colleague = access.access_agent(agent_id=to_agent_id)
    routing.transfer(conversation=conversation, from_agent=agent, to_agent=colleague, note=note)


# --- The clock ------------------------------------------------------------------------------------


def run_live_chat_clock(*, now: dt.datetime | None = None) -> timers.SweepResult:
    """Run every clock of the live chat once, then record that it ran (the operations board watches that)."""
    result = timers.sweep_live_chats(now=now)
    record_clock_run(name=LIVE_CHAT_CLOCK)
    return result


def record_clock_run(*, name: str, now: dt.datetime | None = None) -> None:
    """Record that a clock has just finished a run."""
    now = now or timezone.now()
    if not ClockRun.objects.filter(name=name).update(last_ran_at=now):
        ClockRun.objects.update_or_create(name=name, defaults={"last_ran_at": now})
