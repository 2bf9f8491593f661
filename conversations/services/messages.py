"""Messages of a chat: the visitor's, the agent's and the system's. Persist, then publish: every message is
numbered and stored before anyone is told of it, and a client-made message id makes a resend idempotent.
A message of a running chat is stored in one statement (``steady_state``); anything else under the
conversation's row lock (``_append``)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from conversations import access, events, limits, protection, routing
from conversations.models import Conversation, Message
from conversations.safe_text import checked_text
from conversations.services import steady_state
from tenants.models import Tenant
from workforce.models import Agent

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
    locked = Conversation.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=conversation.pk)
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


def _stored_message(*, conversation_id: int, client_msg_id: str) -> Message | None:
    if not client_msg_id:
        return None
    return (
        Message.objects.filter(conversation_id=conversation_id, client_msg_id=client_msg_id)
        .select_related("agent")
        .first()
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

    In a running chat this is one SQL statement on PostgreSQL (``steady_state.store_in_one_go``) and the rate limit
    is counted in the cache. ``sender_channel`` is the socket it came from, which is not sent it back.
    """
    body, client_msg_id, now = _clean_body(body), _clean_client_msg_id(client_msg_id), now or timezone.now()
    try:
        limits.check_message_rate(visitor_id=conversation.visitor_id)
    except ValidationError:
        earlier = _stored_message(conversation_id=conversation.pk, client_msg_id=client_msg_id)
        if earlier is None:
            raise
        return earlier, False  # a resend of a message stored before the limit was reached
    policy = protection.policy_for_tenant_id(conversation.tenant_id)
    protection.remember_conversation(conversation_id=conversation.pk, tenant_id=conversation.tenant_id)
    protected = protection.protect(body, policy=policy)
    stored = steady_state.store_in_one_go(
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
        stored = steady_state.store_in_one_go(
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
    return list(
        Message.objects.filter(conversation_id=conversation.pk, seq__gt=seq).select_related("agent").order_by("seq")
    )
