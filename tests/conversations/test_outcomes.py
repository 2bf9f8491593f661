"""Closing a chat with its outcome: required, validated per outcome, stored with its lead or handoff."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import connections

from conversations import outcomes, services
from conversations.models import Conversation, Handoff, Lead, Message, Visitor
from conversations.outcomes import CloseRefused, close_with_outcome
from outbox.models import OutgoingEmail
from tenants.models import ReportRecipient
from tests import factories
from tests.conversations.test_consumers import agent_socket, hello, ready_agent, receive_until, visitor_socket

HELSINKI = dt.timezone(dt.timedelta(hours=2))  # Europe/Helsinki in December
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=HELSINKI)  # a Tuesday
pytestmark = pytest.mark.frozen_time(NOW)

LEAD = {"name": "Maija Meikäläinen", "email": "maija@example.fi", "phone": "+358 40 123 4567", "wants": "Catering"}
HANDOFF = {
    "summary": "Wants a refund for a broken coffee machine, order 1234.",
    "visitor_name": "Maija Meikäläinen",
    "visitor_email": "maija@example.fi",
    "visitor_phone": "",
    "promise": "A call back about the refund.",
    "promised_by": "2026-12-18T16:00",
}


@pytest.fixture
def conversation(tenant, agent):
    visitor = Visitor.objects.create(tenant=tenant)
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW)
    services.post_visitor_message(conversation=conversation, body="Hei, kahvinkeitin on rikki.", now=NOW)
    services.post_agent_message(conversation=conversation, agent=agent, body="Hei! Selvitetään.", now=NOW)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def escalation_contact(tenant):
    return ReportRecipient.objects.create(tenant=tenant, email="owner@kahvila.example", escalations=True, weekly=False)


def refusal_of(**kwargs) -> CloseRefused:
    with pytest.raises(CloseRefused) as refusal:
        close_with_outcome(now=NOW, **kwargs)
    return refusal.value


def codes(refusal: ValidationError) -> dict[str, str]:
    return {key: errors[0].code for key, errors in refusal.error_dict.items()}


# ---- outcome ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [None, "", "   "])
def test_a_chat_cannot_be_closed_without_an_outcome(conversation, agent, outcome):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome=outcome)

    # then
    assert refusal.code == "outcome_required"
    assert refusal.message_dict == {"outcome": [str(outcomes.ERROR_OUTCOME_REQUIRED)]}
    conversation.refresh_from_db()
    assert (conversation.status, conversation.outcome) == (Conversation.Status.ACTIVE, "")


def test_an_unknown_outcome_is_refused_beside_the_outcome_field(conversation, agent):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="happy")

    # then
    assert refusal.code == "invalid_close"
    assert codes(refusal) == {"outcome": "invalid_choice"}
    assert "“happy”" in refusal.message_dict["outcome"][0]


def test_an_agent_cannot_close_a_chat_as_visitor_left_which_only_the_clock_does(conversation, agent):
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="visitor_left")

    assert codes(refusal) == {"outcome": "invalid_choice"}
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE


@pytest.mark.parametrize("outcome", ["resolved", "booking", "sale", "spam"])
def test_a_plain_outcome_closes_the_chat_with_the_summary_only(conversation, agent, outcome):
    # when
    closed = close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome=outcome,
        summary="  Table for four on Friday.  ",
        lead=LEAD,
        handoff=HANDOFF,
        now=NOW,
    )

    # then the details of other outcomes are ignored
    closed.refresh_from_db()
    assert (closed.status, closed.outcome, closed.summary) == ("closed", outcome, "Table for four on Friday.")
    assert closed.closed_at == NOW
    assert not Lead.objects.exists() and not Handoff.objects.exists()


def test_the_summary_has_a_limit(conversation, agent):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="resolved", summary="x" * 4001)

    # then
    assert codes(refusal) == {"summary": "too_long"}
    assert "4000" in refusal.message_dict["summary"][0]


def test_a_closed_chat_cannot_be_closed_again(conversation, agent):
    # given
    close_with_outcome(conversation=conversation, agent=agent, outcome="resolved", now=NOW)

    # when
    with pytest.raises(ValidationError) as refusal:
        close_with_outcome(conversation=conversation, agent=agent, outcome="spam", now=NOW)

    # then
    assert refusal.value.code == "closed"
    conversation.refresh_from_db()
    assert conversation.outcome == "resolved"


def test_an_agent_cannot_close_a_colleagues_chat(conversation, tenant):
    # given
    colleague = factories.make_agent(trained_for=[tenant], display_name="Bea")

    # when
    with pytest.raises(ValidationError) as refusal:
        close_with_outcome(conversation=conversation, agent=colleague, outcome="resolved", now=NOW)

    # then
    assert refusal.value.code == "not_yours"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE


def test_the_plain_close_service_still_closes_for_its_other_callers(conversation):
    # when
    closed = services.close_conversation(conversation=conversation, now=NOW)

    # then
    assert (closed.status, closed.outcome) == ("closed", "resolved")


# ---- lead ---------------------------------------------------------------------------------------


def test_a_lead_is_stored_with_its_contact_and_fills_what_was_unknown_of_the_visitor(conversation, agent):
    # given a visitor whose phone number is already known
    Visitor.objects.filter(pk=conversation.visitor_id).update(phone="+358 9 555 0101")

    # when
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="lead",
        summary="Catering for 40 people.",
        lead={**LEAD, "name": "  Maija \n Meikäläinen "},
        now=NOW,
    )

    # then
    lead = Lead.objects.get()
    assert (lead.tenant, lead.conversation) == (conversation.tenant, conversation)
    assert (lead.name, lead.email, lead.phone, lead.wants) == (
        "Maija Meikäläinen",
        "maija@example.fi",
        "+358 40 123 4567",
        "Catering",
    )
    assert lead.created_at == NOW
    visitor = Visitor.objects.get(pk=conversation.visitor_id)
    assert (visitor.name, visitor.email, visitor.phone) == ("Maija Meikäläinen", "maija@example.fi", "+358 9 555 0101")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.outcome) == ("closed", "lead")


def test_a_lead_without_contact_fields_takes_what_the_visitor_gave_before(conversation, agent):
    # given
    Visitor.objects.filter(pk=conversation.visitor_id).update(email="known@example.fi")

    # when
    close_with_outcome(conversation=conversation, agent=agent, outcome="lead", lead={"wants": "A quote"}, now=NOW)

    # then
    assert Lead.objects.get().email == "known@example.fi"


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (None, {"lead.email": "contact_required", "lead.phone": "contact_required", "lead.wants": "required"}),
        ({**LEAD, "wants": "  "}, {"lead.wants": "required"}),
        ({**LEAD, "email": "", "phone": ""}, {"lead.email": "contact_required", "lead.phone": "contact_required"}),
        ({**LEAD, "email": "maija at example"}, {"lead.email": "invalid"}),
        ({**LEAD, "phone": "call me"}, {"lead.phone": "invalid"}),
        ({**LEAD, "phone": "+358 1"}, {"lead.phone": "invalid"}),
        ({**LEAD, "name": "N" * 121}, {"lead.name": "too_long"}),
        ({**LEAD, "wants": ["not", "text"]}, {"lead.wants": "not_text"}),
    ],
    ids=["missing", "no-wants", "no-contact", "bad-email", "bad-phone", "short-phone", "long-name", "not-text"],
)
def test_a_lead_with_missing_or_bad_details_is_refused_field_by_field_and_nothing_is_stored(
    conversation, agent, lead, expected
):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="lead", lead=lead)

    # then
    assert refusal.code == "invalid_close"
    assert codes(refusal) == expected
    assert not Lead.objects.exists()
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE
    assert Visitor.objects.get(pk=conversation.visitor_id).email == ""


def test_lead_messages_say_what_to_fix(conversation, agent):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="lead", lead={"email": "x@"})

    # then
    assert refusal.message_dict == {
        "lead.email": [str(outcomes.ERROR_EMAIL_INVALID)],
        "lead.wants": [str(outcomes.ERROR_LEAD_WANTS_REQUIRED)],
    }


# ---- escalation ---------------------------------------------------------------------------------


def test_an_escalation_stores_the_handoff_and_tells_the_visitor_who_contacts_them_how_and_by_when(
    conversation, agent, escalation_contact, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        close_with_outcome(conversation=conversation, agent=agent, outcome="escalated", handoff=HANDOFF, now=NOW)

    # then the handoff is stored with the agent and the promise in the tenant's time zone
    handoff = Handoff.objects.get()
    assert (handoff.tenant, handoff.conversation, handoff.agent) == (conversation.tenant, conversation, agent)
    assert handoff.summary == HANDOFF["summary"]
    assert (handoff.visitor_name, handoff.visitor_email, handoff.visitor_phone) == (
        "Maija Meikäläinen",
        "maija@example.fi",
        "",
    )
    assert handoff.promise == "A call back about the refund."
    assert handoff.promised_by == dt.datetime(2026, 12, 18, 16, 0, tzinfo=HELSINKI)
    # and the chat is closed with the handoff's summary as its own
    conversation.refresh_from_db()
    assert (conversation.status, conversation.outcome, conversation.summary) == (
        "closed",
        "escalated",
        HANDOFF["summary"],
    )
    # and the visitor is told, in the tenant's language (Finnish dates) and time zone, before the chat closes
    note = conversation.messages.get(sender=Message.Sender.SYSTEM)
    assert note.body == (
        "Välitämme pyyntösi yritykselle Kahvila Oy. Sinuun otetaan yhteyttä viimeistään 18. joulukuuta 2026 "
        "kello 16.00 EET (perjantai) sähköpostitse osoitteeseen maija@example.fi."
    )
    assert note.seq == conversation.last_seq == 3
    # and the report went out after commit, once
    assert len(mailoutbox) == 1
    handoff.refresh_from_db()
    assert handoff.outgoing.status == OutgoingEmail.Status.SENT


def test_the_visitor_is_told_of_phone_and_email_and_a_promise_by_a_day_reads_as_the_day(
    conversation, agent, escalation_contact
):
    # when
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="escalated",
        handoff={**HANDOFF, "visitor_phone": "040 123 4567", "promised_by": "2026-12-18"},
        now=NOW,
    )

    # then
    handoff = Handoff.objects.get()
    assert handoff.promised_by == dt.datetime(2026, 12, 18, 23, 59, 59, tzinfo=HELSINKI)
    note = conversation.messages.get(sender=Message.Sender.SYSTEM).body
    assert note.endswith(
        "viimeistään 18. joulukuuta 2026 (perjantai) sähköpostitse osoitteeseen maija@example.fi "
        "tai puhelimitse numeroon 040 123 4567."
    )


def test_an_english_tenant_gets_english_dates(db):
    # given
    tenant = factories.make_tenant(name="Bakery Ltd", language="en", time_zone="Europe/London")
    visitor = Visitor.objects.create(tenant=tenant, phone="+44 20 7946 0000")
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW)

    # when
    close_with_outcome(
        conversation=conversation,
        agent=None,
        outcome="escalated",
        handoff={**HANDOFF, "visitor_email": "", "promised_by": "2026-12-18T09:30"},
        now=NOW,
    )

    # then the visitor's known phone is used, and the time is London's
    note = conversation.messages.get(sender=Message.Sender.SYSTEM).body
    assert note == (
        "We are passing your request on to Bakery Ltd. By Friday Dec. 18, 2026, 9:30 a.m. GMT they will contact you "
        "by phone at +44 20 7946 0000."
    )
    assert Handoff.objects.get().promised_by == dt.datetime(2026, 12, 18, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("changes", "summary", "expected"),
    [
        ({"summary": ""}, "", {"handoff.summary": "required"}),
        ({"promise": " "}, "", {"handoff.promise": "required"}),
        (
            {"visitor_email": "", "visitor_phone": ""},
            "",
            {"handoff.visitor_email": "contact_required", "handoff.visitor_phone": "contact_required"},
        ),
        ({"visitor_email": "maija@"}, "", {"handoff.visitor_email": "invalid"}),
        ({"promised_by": ""}, "", {"handoff.promised_by": "required"}),
        ({"promised_by": "next Friday"}, "", {"handoff.promised_by": "invalid"}),
        ({"promised_by": "2026-13-01"}, "", {"handoff.promised_by": "invalid"}),
        ({"promised_by": "2026-12-15T09:59"}, "", {"handoff.promised_by": "past"}),
        ({"promised_by": "2026-12-14"}, "", {"handoff.promised_by": "past"}),
        ({"promise": "p" * 1001}, "", {"handoff.promise": "too_long"}),
    ],
    ids=[
        "no-summary",
        "no-promise",
        "no-contact",
        "bad-email",
        "no-deadline",
        "words",
        "no-such-month",
        "an-hour-ago",
        "yesterday",
        "long-promise",
    ],
)
def test_an_escalation_with_missing_or_bad_details_is_refused_and_nothing_is_stored_or_said(
    conversation, agent, escalation_contact, mailoutbox, django_capture_on_commit_callbacks, changes, summary, expected
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        refusal = refusal_of(
            conversation=conversation,
            agent=agent,
            outcome="escalated",
            summary=summary,
            handoff={**HANDOFF, **changes},
        )

    # then
    assert refusal.code == "invalid_close"
    assert codes(refusal) == expected
    assert not Handoff.objects.exists()
    assert not conversation.messages.filter(sender=Message.Sender.SYSTEM).exists()
    assert mailoutbox == []
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE


def test_an_escalation_without_handoff_details_names_every_missing_field(conversation, agent):
    # when
    refusal = refusal_of(conversation=conversation, agent=agent, outcome="escalated")

    # then in the order of the form, so the headline is the first field
    assert list(refusal.message_dict) == [
        "handoff.summary",
        "handoff.visitor_email",
        "handoff.visitor_phone",
        "handoff.promise",
        "handoff.promised_by",
    ]
    assert refusal.messages[0] == str(outcomes.ERROR_HANDOFF_SUMMARY_REQUIRED)


def test_the_chats_summary_stands_in_for_a_missing_handoff_summary(conversation, agent):
    # when
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="escalated",
        summary="Refund for order 1234.",
        handoff={**HANDOFF, "summary": ""},
        now=NOW,
    )

    # then
    assert Handoff.objects.get().summary == "Refund for order 1234."


def test_an_escalation_at_a_tenant_without_escalation_contacts_is_kept_as_a_problem_not_dropped(
    conversation, agent, mailoutbox, django_capture_on_commit_callbacks
):
    # given only a weekly-report recipient
    ReportRecipient.objects.create(tenant=conversation.tenant, email="ceo@kahvila.example", escalations=False)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        close_with_outcome(conversation=conversation, agent=agent, outcome="escalated", handoff=HANDOFF, now=NOW)

    # then
    handoff = Handoff.objects.get()
    assert handoff.outgoing is None
    assert mailoutbox == []
    assert conversation.messages.filter(sender=Message.Sender.SYSTEM).count() == 1


# ---- the close frame ----------------------------------------------------------------------------


@pytest.fixture
async def close_consumer_thread_connections():
    """Close the connection the consumers' database thread opened, so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


async def chat_in_console(tenant):
    """Start a chat with a visitor and an agent on duty; return the agent, both sockets and the chat."""
    agent = await database_sync_to_async(ready_agent)(tenant)
    console = await agent_socket(agent)
    widget = await visitor_socket(tenant)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Rikki on.", "client_msg_id": "v1"})
    await receive_until(widget, "ack")
    conversation = await database_sync_to_async(Conversation.objects.unscoped().get)(tenant=tenant)
    return agent, console, widget, conversation


@pytest.fixture
def shop(db):
    return factories.make_tenant(
        name="Kahvila Oy", slug="shop", language="fi", allowed_origins="https://client1.example"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_consumer_thread_connections")
async def test_a_close_frame_without_an_outcome_is_answered_with_outcome_required(shop):
    # given
    _agent, console, widget, conversation = await chat_in_console(shop)

    # when
    await console.send_json_to({"type": "close", "conversation": conversation.pk, "summary": "Done"})

    # then
    error = await receive_until(console, "error")
    assert error == {
        "type": "error",
        "code": "outcome_required",
        "message": str(outcomes.ERROR_OUTCOME_REQUIRED),
        "fields": {"outcome": str(outcomes.ERROR_OUTCOME_REQUIRED)},
        "ref": "close",
    }
    assert (await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation.pk)).status == "active"
    await widget.disconnect()
    await console.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_consumer_thread_connections")
async def test_a_close_frame_with_bad_lead_details_says_which_fields_and_closes_nothing(shop):
    # given
    _agent, console, widget, conversation = await chat_in_console(shop)

    # when
    await console.send_json_to(
        {
            "type": "close",
            "conversation": conversation.pk,
            "outcome": "lead",
            "lead": {"name": "Maija", "email": "maija at example", "phone": "", "wants": ""},
        }
    )

    # then
    error = await receive_until(console, "error")
    assert (error["code"], error["ref"]) == ("invalid_close", "close")
    assert error["fields"] == {
        "lead.email": str(outcomes.ERROR_EMAIL_INVALID),
        "lead.wants": str(outcomes.ERROR_LEAD_WANTS_REQUIRED),
    }
    assert error["message"] == error["fields"]["lead.email"]
    assert not await database_sync_to_async(Lead.objects.unscoped().exists)()
    assert (await database_sync_to_async(Conversation.objects.unscoped().get)(pk=conversation.pk)).status == "active"
    await widget.disconnect()
    await console.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_consumer_thread_connections")
async def test_an_escalating_close_frame_closes_the_chat_and_the_visitor_reads_what_happens_next(shop, mailoutbox):
    # given
    await database_sync_to_async(ReportRecipient.objects.unscoped().create)(
        tenant=shop, email="owner@kahvila.example", escalations=True
    )
    _agent, console, widget, conversation = await chat_in_console(shop)
    promised_by = (dt.date.today() + dt.timedelta(days=3)).isoformat()

    # when
    await console.send_json_to(
        {
            "type": "close",
            "conversation": conversation.pk,
            "outcome": "escalated",
            "summary": "Refund",
            "handoff": {**HANDOFF, "promised_by": promised_by},
        }
    )

    # then the agent's console gets its new state
    await receive_until(console, "state")
    # and the visitor first reads who will contact them, then that the chat is closed
    note = await receive_until(widget, "message")
    while note["sender"] != "system":
        note = await receive_until(widget, "message")
    assert note["seq"] == 2
    assert note["body"].startswith("Välitämme pyyntösi yritykselle Kahvila Oy.")
    assert "maija@example.fi" in note["body"]
    closed = await receive_until(widget, "closed")
    assert closed["status"] == "closed"
    # and the handoff is stored and its report sent
    handoff = await database_sync_to_async(Handoff.objects.select_related("outgoing").get)(conversation=conversation)
    assert handoff.outgoing.status == OutgoingEmail.Status.SENT
    assert len(mailoutbox) == 1
    await widget.disconnect()
    await console.disconnect()
