"""A message in a running chat costs one SQL statement on PostgreSQL, and the rate limit none.

The sequence bump and the insert are one statement there (conversations.services.steady_state.store_in_one_go);
SQLite, which has no data-modifying WITH, takes BEGIN, the bump, the insert and COMMIT. The module runs
again on SQLite (tests/sqlite_rerun.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from conversations import services
from conversations.models import Conversation, Message, Visitor
from tests import factories
from tests.sqlite_rerun import assert_all_passed
from workforce.models import Agent
from workforce.services import plan_shift

pytestmark = pytest.mark.django_db(transaction=True)


def statements_per_message() -> int:
    return 1 if connection.vendor == "postgresql" else 4


@pytest.fixture
def anna(tenant):
    agent = factories.make_agent(trained_for=[tenant], display_name="Anna")
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=now)
    plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
    return agent


@pytest.fixture
def running_chat(tenant, anna):
    """Return a chat of Anna's in which the visitor has written and she has answered."""
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    services.post_visitor_message(conversation=chat, body="Hello?", client_msg_id="v1")
    services.post_agent_reply(agent=anna, conversation_id=chat.pk, body="Hi!", client_msg_id="a1")
    chat.refresh_from_db()
    assert (chat.agent, chat.last_seq) == (anna, 2)
    return chat


def test_a_visitor_message_in_a_running_chat_is_one_statement(running_chat, django_assert_num_queries):
    with django_assert_num_queries(statements_per_message()):
        message, created = services.post_visitor_message(
            conversation=running_chat, body="Delivery time?", client_msg_id="v2"
        )

    assert (created, message.seq, message.sender) == (True, 3, Message.Sender.VISITOR)
    stored = Message.objects.get(conversation=running_chat, seq=3)
    assert (stored.pk, stored.body, stored.client_msg_id) == (message.pk, "Delivery time?", "v2")
    running_chat.refresh_from_db()
    assert running_chat.last_seq == 3


def test_an_agent_reply_in_their_running_chat_is_one_statement(running_chat, anna, django_assert_num_queries):
    with django_assert_num_queries(statements_per_message()):
        message, created = services.post_agent_reply(
            agent=anna, conversation_id=running_chat.pk, body="Two days.", client_msg_id="a2"
        )

    assert (created, message.seq, message.agent) == (True, 3, anna)
    assert Message.objects.get(conversation=running_chat, seq=3).agent == anna


def test_the_first_message_and_the_first_reply_record_their_moments(tenant, anna):
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    at = timezone.now().replace(microsecond=0)

    services.post_visitor_message(conversation=chat, body="Hello?", now=at)
    services.post_visitor_message(conversation=chat, body="Anyone?", now=at + dt.timedelta(seconds=5))
    services.post_agent_reply(agent=anna, conversation_id=chat.pk, body="Hi!", now=at + dt.timedelta(seconds=8))
    services.post_agent_reply(agent=anna, conversation_id=chat.pk, body="Yes?", now=at + dt.timedelta(seconds=9))

    chat.refresh_from_db()
    assert chat.first_visitor_message_at == at
    assert chat.first_agent_reply_at == at + dt.timedelta(seconds=8)
    assert list(chat.messages.values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_a_resend_is_stored_once_and_answered_with_the_stored_message(running_chat):
    first, created = services.post_visitor_message(conversation=running_chat, body="Once", client_msg_id="v2")

    again, created_again = services.post_visitor_message(conversation=running_chat, body="Once", client_msg_id="v2")

    assert (created, created_again) == (True, False)
    assert (again.pk, again.seq) == (first.pk, first.seq)
    assert Message.objects.filter(conversation=running_chat, client_msg_id="v2").count() == 1
    running_chat.refresh_from_db()
    assert running_chat.last_seq == first.seq


def test_an_agent_may_not_write_in_a_colleagues_chat_by_its_id(running_chat, tenant):
    bea = factories.make_agent(trained_for=[tenant], display_name="Bea")

    with pytest.raises(ValidationError) as refused:
        services.post_agent_reply(agent=bea, conversation_id=running_chat.pk, body="Mine now", client_msg_id="b1")

    assert refused.value.code == "not_yours"
    assert not Message.objects.filter(client_msg_id="b1").exists()


def test_resends_do_not_count_against_the_rate_limit(running_chat, settings):
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 2  # v1 counted already

    services.post_visitor_message(conversation=running_chat, body="Two", client_msg_id="v2")
    for _ in range(3):
        services.post_visitor_message(conversation=running_chat, body="Two", client_msg_id="v2")

    with pytest.raises(ValidationError) as refused:
        services.post_visitor_message(conversation=running_chat, body="Three", client_msg_id="v3")
    assert refused.value.code == "rate_limited"
    assert not Message.objects.filter(client_msg_id="v3").exists()


def test_a_message_to_a_closed_chat_is_refused(running_chat):
    services.close_conversation(conversation=running_chat, outcome=Conversation.Outcome.RESOLVED)

    with pytest.raises(ValidationError) as refused:
        services.post_visitor_message(conversation=running_chat, body="Wait!", client_msg_id="v2")

    assert refused.value.code == "closed"


def test_the_same_statements_work_on_sqlite(sqlite_rerun):
    assert_all_passed(sqlite_rerun.of(__file__))
