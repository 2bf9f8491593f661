"""The steady state of a chat, in the fewest statements: a message numbered and stored at once."""

from __future__ import annotations

import datetime as dt
import functools

from django.db import connection

from conversations import sql
from conversations.models import Conversation, Message
from tenants.models import Tenant
from workforce.models import Agent, Qualification


def _db_value(model, name: str, value):
    """Return a value as the column stores it (raw SQL goes through the field, like the ORM would)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _typed(model, name: str, value) -> tuple:
    """Return a value as the column stores it, with the column's SQL type."""
    return _db_value(model, name, value), _column_type(model, name, connection.vendor)


@functools.cache
def _column_type(model, name: str, vendor: str) -> str:
    """Return a column's SQL type (asked once per process: Django works it out anew on every call)."""
    return model._meta.get_field(name).db_type(connection)


def store_in_one_go(
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
