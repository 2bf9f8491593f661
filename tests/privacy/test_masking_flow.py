"""A card number written in a chat is masked before any row holds it, whoever wrote it and wherever."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from conversations import aftercare, offline, routing, services, workspace
from conversations.models import Conversation, Message, Visitor
from conversations.outcomes import close_with_outcome
from conversations.services import CARD_NOTICE_ID
from tests import factories

CARD = "4242 4242 4242 4242"
DIGITS = "4242424242424242"
HELSINKI = dt.timezone(dt.timedelta(hours=2))
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=HELSINKI)
pytestmark = pytest.mark.frozen_time(NOW)


def rows_holding(needle: str) -> list[tuple[str, str]]:
    """Return (table, column) of every text column of the chat tables that holds the needle, read raw."""
    found = []
    tables = ["message", "note", "lead", "handoff", "conversation", "transfer", "visitor", "transcriptrequest"]
    with connection.cursor() as cursor:
        for table in (f"conversations_{name}" for name in tables):
            for column in connection.introspection.get_table_description(cursor, table):
                if column.type_code in (25, 1043):  # PostgreSQL text and varchar
                    cursor.execute(
                        f"SELECT count(*) FROM {table} WHERE replace(replace({column.name}, ' ', ''), '-', '') "  # noqa: S608
                        "LIKE %s",
                        [f"%{needle}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name))
    return found


@pytest.mark.django_db
def test_the_card_notice_is_in_the_tenants_language(tenant):
    tenant.language = "fi"
    tenant.save(update_fields=["language"])
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), now=NOW)

    services.post_visitor_message(conversation=chat, body=f"kortti {CARD}", now=NOW)

    notice = Message.objects.get(conversation=chat, client_msg_id=CARD_NOTICE_ID)
    assert notice.sender == Message.Sender.SYSTEM
    assert "kortin" in notice.body.lower() or "kortti" in notice.body.lower()


@pytest.mark.django_db
def test_every_text_an_agent_stores_is_masked(tenant, agent):
    # given a chat of the agent's
    other = factories.make_agent(trained_for=[tenant], display_name="Ben")
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), now=NOW)
    services.post_visitor_message(conversation=chat, body="Hello", now=NOW)
    services.post_agent_message(conversation=chat, agent=agent, body=f"Is it {CARD}?", now=NOW)
    services.post_agent_reply(agent=agent, conversation_id=chat.pk, body=f"or {DIGITS}?", now=NOW)
    workspace.add_note(conversation=chat, agent=agent, body=f"Card {CARD} mentioned", now=NOW)
    chat.refresh_from_db()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routing, "eligible_agents", lambda **kwargs: type(agent).objects.all())
        patch.setattr(routing, "_lock_if_free", lambda agent: True)
        routing.transfer(conversation=chat, from_agent=agent, to_agent=other, note=f"card {CARD}", now=NOW)
    chat.refresh_from_db()

    # when the chat closes with an escalation whose texts repeat the number
    close_with_outcome(
        conversation=chat,
        agent=other,
        outcome="escalated",
        summary=f"Paid with {CARD}",
        handoff={
            "summary": f"Refund to {CARD}",
            "visitor_name": "Maija",
            "visitor_email": "maija@example.fi",
            "visitor_phone": "",
            "promise": f"Refund to card {CARD}",
            "promised_by": "2026-12-18T16:00",
        },
        now=NOW,
    )

    # then no row holds it
    assert rows_holding(DIGITS) == []
    assert Message.objects.filter(sender="agent", body__contains="4242").count() == 2


@pytest.mark.django_db
def test_a_lead_an_offline_message_and_a_rating_comment_are_masked(tenant, agent):
    # given an offline message with a card number, and a chat closed as a lead
    left = offline.leave_offline_message(
        tenant=tenant,
        token=None,
        name="Maija",
        email="maija@example.fi",
        question=f"Charge {CARD} please",
        ip_address=None,
        now=NOW,
    )
    chat = Conversation.objects.get(pk=left.conversation.pk)
    services.post_agent_message(conversation=chat, agent=agent, body="Hei!", now=NOW)
    chat.refresh_from_db()
    lead = {"name": "Maija", "email": "maija@example.fi", "phone": "", "wants": f"Buy with {CARD}"}
    close_with_outcome(conversation=chat, agent=agent, outcome="lead", summary="", lead=lead, now=NOW)

    # when the visitor rates the chat with a comment holding it
    aftercare.rate_conversation(conversation=chat, rating=5, comment=f"use {DIGITS}", now=NOW)

    # then no row holds it
    assert rows_holding(DIGITS) == []
    chat.refresh_from_db()
    assert chat.rating_comment == "use ••••••••••••4242"


@pytest.mark.django_db
def test_an_iban_is_masked_only_for_a_tenant_that_asks(tenant, other_tenant):
    other_tenant.mask_ibans = True
    other_tenant.save(update_fields=["mask_ibans"])
    text = "Pay to FI21 1234 5600 0007 85"

    for each in (tenant, other_tenant):
        chat = services.start_conversation(tenant=each, visitor=Visitor.objects.create(tenant=each), now=NOW)
        services.post_visitor_message(conversation=chat, body=text, now=NOW)

    stored = dict(Message.objects.values_list("tenant_id", "body"))
    assert stored[tenant.pk] == text
    assert stored[other_tenant.pk] == "Pay to •••• •••• •••• ••07 85"
