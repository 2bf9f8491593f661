"""The widget's connection for invitations, rating and the transcript, over the real Redis channel layer."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async

from conversations import services
from conversations.models import Conversation, PageView, TranscriptRequest, Visitor
from outbox.models import OutgoingEmail
from tenants.models import ProactiveRule, ServiceHours
from tests import factories
from tests.conversations.test_consumers import (
    ORIGIN,
    agent_socket,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    ready_agent,
    receive_until,
    visitor_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)


@pytest.fixture
def gym(db):
    return factories.make_tenant(name="Gym", slug="gym", allowed_origins="https://gym.example")


def open_all_week(tenant):
    for weekday in range(7):
        ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))


def invitation_rule(tenant, **fields):
    defaults = {
        "name": "Everywhere",
        "url_pattern": "/*",
        "seconds_on_page": 20,
        "only_in_service_hours": True,
        "only_when_agent_free": True,
        "message": "Hei! Voimmeko auttaa?",
    }
    return ProactiveRule.objects.create(tenant=tenant, **(defaults | fields))


def backdate_page_views(tenant, seconds):
    for view in PageView.objects.for_tenant(tenant):
        PageView.objects.filter(pk=view.pk).update(viewed_at=view.viewed_at - dt.timedelta(seconds=seconds))


async def answer_to_a_bad_frame(widget):
    """Send a malformed frame and return the next frame: anything the server sent before it comes first."""
    await widget.send_json_to({"type": "ack", "seq": "none"})
    return await widget.receive_json_from(timeout=5)


# ---- invitations ------------------------------------------------------------------------------


async def test_an_invitation_is_offered_after_its_seconds_and_accepting_starts_a_proactive_chat(shop):
    # given a tenant open now, an agent free, and a rule for every page after 20 s
    rule = await database_sync_to_async(invitation_rule)(shop)
    await database_sync_to_async(open_all_week)(shop)
    agent = await database_sync_to_async(ready_agent)(shop)
    console = await agent_socket(agent)
    widget = await visitor_socket(shop)

    # when the visitor's page says hello
    welcome = await hello(widget)

    # then the welcome names the candidate invitation
    assert welcome["invite"] == {"rule": rule.pk, "seconds": 20, "message": "Hei! Voimmeko auttaa?"}

    # when the widget asks to show it too early
    await widget.send_json_to({"type": "invite_check", "rule": rule.pk})

    # then nothing is shown
    assert (await answer_to_a_bad_frame(widget))["code"] == "bad_field"

    # when it asks again once the visitor has been on the page long enough
    await database_sync_to_async(backdate_page_views)(shop, 20)
    await widget.send_json_to({"type": "invite_check", "rule": rule.pk})

    # then
    invite = await widget.receive_json_from(timeout=5)
    assert invite == {"type": "invite", "rule": rule.pk, "message": "Hei! Voimmeko auttaa?"}

    # when the visitor accepts
    await widget.send_json_to({"type": "invite_accept", "rule": rule.pk})

    # then the widget has its conversation, routed to the free agent, opened by the invitation's text
    started = await receive_until(widget, "conversation")
    assert started["conversation"]["agent_name"] == "Anna"
    first = await receive_until(widget, "message")
    assert (first["seq"], first["sender"], first["body"]) == (1, "system", "Hei! Voimmeko auttaa?")
    assert first["client_msg_id"] == f"invite:{rule.pk}"
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=started["conversation"]["id"])
    assert conversation.origin == Conversation.Origin.PROACTIVE
    assert conversation.proactive_rule_id == rule.pk

    # and the agent is alerted to it
    assigned = await receive_until(console, "assigned")
    assert assigned["conversation"] == conversation.pk

    # when the visitor answers the invitation
    await widget.send_json_to({"type": "message", "body": "Kyllä, hinnoista", "client_msg_id": "v1"})

    # then it joins the same conversation
    ack = await receive_until(widget, "ack")
    assert ack["seq"] == 2
    await widget.disconnect()
    await console.disconnect()


async def test_outside_service_hours_no_invitation_is_offered_or_shown(shop):
    # given no service hours, and an agent free
    rule = await database_sync_to_async(invitation_rule)(shop, seconds_on_page=0)
    await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)

    # when
    welcome = await hello(widget)
    await widget.send_json_to({"type": "invite_check", "rule": rule.pk})

    # then
    assert welcome["invite"] is None
    assert (await answer_to_a_bad_frame(widget))["code"] == "bad_field"
    await widget.disconnect()


async def test_an_invitation_never_shown_and_not_due_cannot_be_accepted(shop):
    # given a 60 s rule on a page just opened
    rule = await database_sync_to_async(invitation_rule)(
        shop, seconds_on_page=60, only_in_service_hours=False, only_when_agent_free=False
    )
    widget = await visitor_socket(shop)
    await hello(widget)

    # when
    await widget.send_json_to({"type": "invite_accept", "rule": rule.pk})

    # then
    error = await widget.receive_json_from(timeout=5)
    assert (error["type"], error["code"], error["ref"]) == ("error", "no_invitation", "invite_accept")
    assert not await database_sync_to_async(Conversation.objects.unscoped().exists)()
    await widget.disconnect()


async def test_a_visitor_with_an_open_chat_is_not_invited(shop):
    # given a visitor who is chatting
    await database_sync_to_async(invitation_rule)(shop, only_in_service_hours=False, only_when_agent_free=False)
    widget = await visitor_socket(shop)
    token = (await hello(widget))["token"]
    await widget.send_json_to({"type": "message", "body": "Hei", "client_msg_id": "m1"})
    await receive_until(widget, "ack")
    await widget.disconnect()

    # when they open another page
    widget = await visitor_socket(shop)
    welcome = await hello(widget, token=token)

    # then
    assert welcome["conversation"] is not None
    assert welcome["invite"] is None
    await widget.disconnect()


# ---- rating ------------------------------------------------------------------------------------


async def test_a_visitor_rates_their_chat_once_it_is_closed(shop):
    # given a chat under way
    agent = await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hei", "client_msg_id": "m1"})
    conversation_id = (await receive_until(widget, "conversation"))["conversation"]["id"]
    await receive_until(widget, "ack")

    # when the visitor rates it before it has ended
    await widget.send_json_to({"type": "rate", "conversation": conversation_id, "rating": 5})

    # then it is refused, in the tenant's language, naming the frame
    error = await receive_until(widget, "error")
    assert (error["code"], error["ref"]) == ("not_closed", "rate")

    # when the agent closes it
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    await database_sync_to_async(services.close_conversation)(conversation=conversation)
    await receive_until(widget, "closed")

    # and the visitor rates it with a number outside 1–5, then properly
    await widget.send_json_to({"type": "rate", "conversation": conversation_id, "rating": 9})
    error = await receive_until(widget, "error")
    assert (error["code"], error["ref"]) == ("bad_rating", "rate")
    await widget.send_json_to(
        {"type": "rate", "conversation": conversation_id, "rating": 4, "comment": "Nopeaa <palvelua>"}
    )

    # then
    rated = await receive_until(widget, "rated")
    assert rated == {"type": "rated", "conversation": conversation_id, "rating": 4, "comment": "Nopeaa <palvelua>"}
    stored = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    assert (stored.rating, stored.rating_comment) == (4, "Nopeaa <palvelua>")
    assert stored.agent_id == agent.pk
    await widget.disconnect()


async def test_a_star_frame_alone_stores_the_rating_and_a_comment_frame_updates_it(shop):
    # given a chat the agent has closed
    await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hei", "client_msg_id": "m1"})
    conversation_id = (await receive_until(widget, "conversation"))["conversation"]["id"]
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    await database_sync_to_async(services.close_conversation)(conversation=conversation)
    await receive_until(widget, "closed")

    # when the visitor clicks five stars (the widget sends the star alone) and leaves
    await widget.send_json_to({"type": "rate", "conversation": conversation_id, "rating": 5})

    # then the rating is stored at once
    rated = await receive_until(widget, "rated")
    assert rated == {"type": "rated", "conversation": conversation_id, "rating": 5, "comment": ""}
    stored = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    assert (stored.rating, stored.rating_comment) == (5, "")
    first_rated_at = stored.rated_at
    assert first_rated_at is not None

    # when the comment follows with the same stars
    await widget.send_json_to({"type": "rate", "conversation": conversation_id, "rating": 5, "comment": "Kiitos"})

    # then the same rating carries it
    rated = await receive_until(widget, "rated")
    assert rated["comment"] == "Kiitos"
    stored = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    assert (stored.rating, stored.rating_comment, stored.rated_at) == (5, "Kiitos", first_rated_at)
    await widget.disconnect()


async def test_a_visitor_cannot_rate_another_visitors_chat(shop, gym):
    # given a closed chat of another visitor of the same tenant, and one of another tenant
    def closed_chats():
        chats = []
        for tenant in (shop, gym):
            visitor = Visitor.objects.create(tenant=tenant)
            chat = Conversation.objects.create(tenant=tenant, visitor=visitor)
            chats.append(services.close_conversation(conversation=chat))
        return chats

    chats = await database_sync_to_async(closed_chats)()
    widget = await visitor_socket(shop)
    await hello(widget)

    for chat in chats:
        # when
        await widget.send_json_to({"type": "rate", "conversation": chat.pk, "rating": 1})

        # then
        error = await receive_until(widget, "error")
        assert (error["code"], error["ref"]) == ("not_found", "rate")
    assert await database_sync_to_async(Conversation.objects.filter(rating__isnull=False).count)() == 0
    await widget.disconnect()


async def test_a_rating_that_is_not_a_number_gets_a_coded_error(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_json_to({"type": "rate", "rating": "five"})

    assert (await widget.receive_json_from(timeout=5))["code"] == "bad_field"
    await widget.disconnect()


# ---- transcript --------------------------------------------------------------------------------


async def test_a_visitor_gets_the_transcript_by_email_once(shop, smtp_server):
    # given a closed chat
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Paljonko kahvi maksaa?", "client_msg_id": "m1"})
    conversation_id = (await receive_until(widget, "conversation"))["conversation"]["id"]
    await receive_until(widget, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation_id)
    await database_sync_to_async(services.close_conversation)(conversation=conversation)
    await receive_until(widget, "closed")

    # when the visitor gives a wrong address, then a right one, twice
    await widget.send_json_to({"type": "transcript", "conversation": conversation_id, "email": "maija@"})
    error = await receive_until(widget, "error")
    assert (error["code"], error["ref"]) == ("bad_email", "transcript")
    for _ in range(2):
        await widget.send_json_to({"type": "transcript", "conversation": conversation_id, "email": "maija@example.fi"})
        confirmed = await receive_until(widget, "transcript_requested")
        assert confirmed == {
            "type": "transcript_requested",
            "conversation": conversation_id,
            "email": "maija@example.fi",
        }

    # then one e-mail with the chat went to that address
    assert len(smtp_server) == 1
    assert smtp_server[0]["to"] == ["maija@example.fi"]
    assert "Paljonko kahvi maksaa?" in smtp_server[0]["message"].get_body(preferencelist=("plain",)).get_content()
    request = await database_sync_to_async(TranscriptRequest.objects.select_related("outgoing").get)(
        conversation_id=conversation_id
    )
    assert request.outgoing.status == OutgoingEmail.Status.SENT
    await widget.disconnect()


async def test_without_a_conversation_id_the_transcript_is_of_the_visitors_latest_chat(shop, smtp_server):
    # given
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hei", "client_msg_id": "m1"})
    conversation_id = (await receive_until(widget, "conversation"))["conversation"]["id"]
    await receive_until(widget, "ack")

    # when
    await widget.send_json_to({"type": "transcript", "email": "maija@example.fi"})

    # then
    confirmed = await receive_until(widget, "transcript_requested")
    assert confirmed["conversation"] == conversation_id
    assert len(smtp_server) == 1
    await widget.disconnect()


async def test_a_visitor_without_any_chat_gets_not_found_for_a_transcript(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_json_to({"type": "transcript", "email": "maija@example.fi"})

    error = await widget.receive_json_from(timeout=5)
    assert (error["code"], error["ref"]) == ("not_found", "transcript")
    await widget.disconnect()
