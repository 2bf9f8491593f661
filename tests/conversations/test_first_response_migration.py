"""The data migration that moves a greeted chat's first agent reply to the answer after the visitor wrote."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from conversations.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)
migration = importlib.import_module("conversations.migrations.0011_first_response_after_the_visitor_wrote")


def chat_with(tenant, *lines: tuple[str, int]) -> Conversation:
    """Return a chat as the old services stored it: its lines (sender, seconds from the start), first moments."""
    visitor = Visitor.objects.create(tenant=tenant)
    first = {sender: START + dt.timedelta(seconds=at) for sender, at in reversed(lines)}
    chat = Conversation.objects.create(
        tenant=tenant,
        visitor=visitor,
        status=Conversation.Status.CLOSED,
        started_at=START,
        first_visitor_message_at=first.get("visitor"),
        first_agent_reply_at=first.get("agent"),
        closed_at=START + dt.timedelta(minutes=10),
        last_seq=len(lines),
    )
    for seq, (sender, at) in enumerate(lines, start=1):
        Message.objects.create(
            tenant=tenant,
            conversation=chat,
            seq=seq,
            sender=sender,
            body=f"line {seq}",
            created_at=START + dt.timedelta(seconds=at),
        )
    return chat


def test_a_greeted_chat_gets_the_first_answer_after_the_visitor_wrote(tenant):
    # given a greeting at 0 s, the visitor at 20 s and the answer at 80 s; a greeting never followed
    # by an answer; a greeting to a visitor who never wrote; and an ordinary chat answered after 6 s
    greeted = chat_with(tenant, ("agent", 0), ("visitor", 20), ("agent", 80), ("agent", 90))
    unanswered = chat_with(tenant, ("agent", 0), ("visitor", 20))
    silent = chat_with(tenant, ("agent", 0))
    ordinary = chat_with(tenant, ("visitor", 1), ("agent", 7))
    assert greeted.first_agent_reply_at == START

    # when
    migration.first_reply_after_the_visitor_wrote(apps, None)

    # then
    for chat in (greeted, unanswered, silent, ordinary):
        chat.refresh_from_db()
    assert greeted.first_agent_reply_at == START + dt.timedelta(seconds=80)
    assert unanswered.first_agent_reply_at is None
    assert silent.first_agent_reply_at is None
    assert ordinary.first_agent_reply_at == START + dt.timedelta(seconds=7)
