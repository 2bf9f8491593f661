"""The "open conversation of this visitor" rule, written once (``Conversation.objects.open_of``) and used
by every reader: the token's visitor on reconnect, starting a chat, and the widget's catch-up."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations import access, selectors, services, visits
from conversations.models import Conversation, Visitor
from tests.sqlite_rerun import assert_all_passed

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]


def conversation(visitor, *, status: str, minutes_ago: int) -> Conversation:
    return Conversation.objects.create(
        tenant=visitor.tenant, visitor=visitor, status=status, started_at=NOW - dt.timedelta(minutes=minutes_ago)
    )


def test_the_open_conversation_is_the_latest_not_closed_one_of_that_visitor(tenant):
    # given a visitor with a closed chat, an older open one and a newer open one, and another visitor's chat
    visitor, _token = visits.identify_visitor(tenant=tenant, token="")
    someone_else, _other_token = visits.identify_visitor(tenant=tenant, token="")
    conversation(visitor, status=Conversation.Status.CLOSED, minutes_ago=1)
    conversation(visitor, status=Conversation.Status.WAITING, minutes_ago=30)
    newest = conversation(visitor, status=Conversation.Status.ACTIVE, minutes_ago=10)
    conversation(someone_else, status=Conversation.Status.WAITING, minutes_ago=0)

    # when / then the rule picks the newest that has not been closed
    assert Conversation.objects.for_tenant(tenant).open_of(visitor).first() == newest


def test_every_reader_of_the_open_conversation_agrees(tenant):
    # given a visitor whose latest chat is closed and whose earlier one is still waiting
    visitor, token = visits.identify_visitor(tenant=tenant, token="")
    waiting = conversation(visitor, status=Conversation.Status.WAITING, minutes_ago=20)
    closed = conversation(visitor, status=Conversation.Status.CLOSED, minutes_ago=5)

    # when each reader asks for the visitor's open conversation
    on_reconnect = access.visitor_from_token(tenant=tenant, token=token).open_conversation_id
    by_selector = selectors.open_conversation_of(visitor=visitor)
    by_id = selectors.open_conversation_by_id(visitor=visitor, conversation_id=waiting.pk)
    not_open = selectors.open_conversation_by_id(visitor=visitor, conversation_id=closed.pk)
    started = services.start_conversation(tenant=tenant, visitor=visitor)

    # then they all name the waiting one, and starting a chat continues it
    assert on_reconnect == by_selector.pk == by_id.pk == started.pk == waiting.pk
    assert not_open is None
    assert Conversation.objects.for_tenant(tenant).count() == 2


def test_a_visitor_whose_chats_are_all_closed_has_none_open_and_starts_a_new_one(tenant):
    # given a visitor whose only chat is closed
    visitor, token = visits.identify_visitor(tenant=tenant, token="")
    closed = conversation(visitor, status=Conversation.Status.CLOSED, minutes_ago=5)

    # when / then no reader finds an open one, and starting a chat makes a new one
    assert access.visitor_from_token(tenant=tenant, token=token).open_conversation_id is None
    assert selectors.open_conversation_of(visitor=visitor) is None
    assert services.start_conversation(tenant=tenant, visitor=visitor, route=False).pk != closed.pk


def test_the_reconnect_query_compiled_once_finds_each_visitor_of_each_tenant_and_nobody_else(tenant, other_tenant):
    # given visitors of two tenants, one of them named and in a chat
    named, named_token = visits.identify_visitor(tenant=tenant, token="")
    Visitor.objects.for_tenant(tenant).filter(pk=named.pk).update(name="Maija")
    chat = conversation(named, status=Conversation.Status.ACTIVE, minutes_ago=3)
    other, other_token = visits.identify_visitor(tenant=other_tenant, token="")

    # when the reconnect query is asked for each in turn, and across tenants (the SQL is compiled once;
    # only the tenant and the visitor change)
    found = [
        access.visitor_from_token(tenant=tenant, token=named_token),
        access.visitor_from_token(tenant=other_tenant, token=other_token),
        access.visitor_from_token(tenant=tenant, token=named_token),
        access.visitor_from_token(tenant=tenant, token=other_token),
        access.visitor_from_token(tenant=other_tenant, token=named_token),
    ]

    # then each token finds its own visitor, with their name and open chat, and no other tenant's
    first, second, again, foreign, foreign_too = found
    assert (first.pk, first.name, first.open_conversation_id, first.tenant) == (named.pk, "Maija", chat.pk, tenant)
    assert (second.pk, second.open_conversation_id, second.tenant) == (other.pk, None, other_tenant)
    assert (again.pk, again.open_conversation_id) == (named.pk, chat.pk)
    assert (foreign, foreign_too) == (None, None)


def test_the_open_conversation_rule_and_the_reconnect_query_on_sqlite(sqlite_rerun):
    assert_all_passed(sqlite_rerun.of(__file__))
