"""Writing history through the services: the write alone at a past moment, without the live policy or e-mail.

The demo (chatops/demo) replays weeks of chats through these; they are also what the live paths are
made of, so each keeps its rules: an assignment needs training by that day, an e-mail held back is
stored in the outbox as real use stores it and sent later as of its own moment.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from conversations import access, aftercare, events, invitations, offline, outcomes, routing, services, workspace
from conversations.models import Conversation, Handoff, Message, Tag, Visitor, email_reference
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants.models import ChangeNotice, ProactiveRule, ReportRecipient
from tests import factories
from workforce.models import Agent, Qualification
from workforce.services import acknowledge_notice, plan_shift

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(days=10)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
HANDOFF = {
    "visitor_name": "Maija Meikäläinen",
    "visitor_email": "maija@example.fi",
    "promise": "A call back about the refund.",
    "promised_by": "2026-11-17T16:00",
}


@pytest.fixture
def nowhere():
    return mail.get_connection("django.core.mail.backends.dummy.EmailBackend")


@pytest.fixture
def visitor(tenant):
    return Visitor.objects.create(tenant=tenant, first_seen_at=EARLIER, last_seen_at=EARLIER)


@pytest.fixture
def contacts(tenant):
    ReportRecipient.objects.create(tenant=tenant, email="support@kahvila.example", escalations=True, weekly=False)


def online_on_shift(agent: Agent, around: dt.datetime) -> Agent:
    agent.presence = Agent.Presence.ONLINE
    agent.last_seen_at = around
    agent.save()
    plan_shift(agent=agent, starts_at=around - dt.timedelta(hours=1), ends_at=around + dt.timedelta(hours=1))
    return agent


def answered_chat(tenant, visitor, agent, at=EARLIER) -> Conversation:
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=at, route=False)
    services.post_visitor_message(conversation=conversation, body="Hei!", now=at + dt.timedelta(seconds=5))
    routing.assign_conversation(conversation=conversation, agent=agent, now=at + dt.timedelta(seconds=7))
    services.post_agent_message(conversation=conversation, agent=agent, body="Moi!", now=at + dt.timedelta(seconds=9))
    return conversation


def leave_question(tenant, visitor, *, route: bool = True) -> offline.LeftMessage:
    """Leave a question in the widget's form for the record: its e-mail is not queued."""
    return offline.leave_offline_message(
        tenant=tenant,
        token=access.issue_visitor_token(visitor),
        name="Maija",
        email="maija@example.fi",
        question="Onko teillä gluteenitonta?",
        ip_address=None,
        now=EARLIER,
        route=route,
        send_email=False,
    )


# ---- starting without the live routing policy ----------------------------------------------------


def test_a_chat_started_without_routing_waits_even_with_an_eligible_agent_online(tenant, visitor, agent):
    # given an agent who would take it now
    online_on_shift(agent, NOW)

    # when the chat is started for the record, not routed
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW, route=False)

    # then it waits for whoever assigns it, and routed it would have gone to her
    assert (conversation.status, conversation.agent_id) == (Conversation.Status.WAITING, None)
    routed = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), now=NOW)
    assert routed.agent == agent


def test_an_invitation_accepted_without_routing_waits_with_its_line(tenant, visitor, agent):
    # given an agent who would take it now, and an invitation shown to the visitor
    online_on_shift(agent, NOW)
    rule = ProactiveRule.objects.create(tenant=tenant, name="Pricing", url_pattern="*", message="Can I help?")

    # when the visitor accepts it, for the record
    conversation, line = invitations.accept_invitation(
        tenant=tenant, visitor=visitor, rule_id=rule.pk, page_view=None, shown=True, now=NOW, route=False
    )

    # then it waits, proactive, with the invitation as its first line
    assert conversation.status == Conversation.Status.WAITING
    assert (conversation.origin, conversation.proactive_rule) == (Conversation.Origin.PROACTIVE, rule)
    assert (line.seq, line.body) == (1, "Can I help?")


def test_a_message_left_without_routing_or_sending_waits_and_its_email_is_held(
    tenant, visitor, agent, contacts, mailoutbox, django_capture_on_commit_callbacks
):
    # given an agent who would take it now
    online_on_shift(agent, NOW)

    # when a question is left in the form, for the record, and the commit's work runs (inline, as in tests)
    with django_capture_on_commit_callbacks(execute=True):
        left = leave_question(tenant, visitor, route=False)

    # then it is the known visitor's waiting conversation, noted as forwarded, its e-mail stored and held
    assert left.conversation.visitor == visitor
    assert left.conversation.status == Conversation.Status.WAITING
    assert Message.objects.filter(conversation=left.conversation, sender=Message.Sender.SYSTEM).exists()
    email = OutgoingEmail.objects.get(reference=email_reference(left.conversation.pk))
    assert (email.status, email.attempts, email.created_at) == (OutgoingEmail.Status.QUEUED, 0, EARLIER)
    assert mailoutbox == []


# ---- the assignment alone ------------------------------------------------------------------------


def test_a_waiting_chat_is_assigned_to_a_trained_agent_at_a_past_moment_whoever_is_online(
    tenant, visitor, agent, django_capture_on_commit_callbacks
):
    # given a waiting chat, and an agent who is neither online nor on shift now
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=EARLIER, route=False)

    # when it is assigned to her then
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assigned = routing.assign_conversation(conversation=conversation, agent=agent, now=EARLIER)

    # then it is hers since that moment, and her console and the visitor are told after commit
    assert (assigned.agent, assigned.status, assigned.assigned_at) == (agent, Conversation.Status.ACTIVE, EARLIER)
    assert len(callbacks) == 3


@pytest.mark.parametrize("training", ["none", "other_tenant", "unfinished", "finished_later"])
def test_an_agent_not_trained_for_the_tenant_by_that_day_cannot_be_assigned(tenant, other_tenant, visitor, training):
    # given an agent whose training does not cover the chat's tenant on its day
    agent = factories.make_agent(trained_for=[other_tenant] if training == "other_tenant" else [])
    if training in ("unfinished", "finished_later"):
        completed = EARLIER.date() + dt.timedelta(days=1) if training == "finished_later" else None
        Qualification.objects.create(
            agent=agent, tenant=tenant, training_started_on=dt.date(2026, 11, 1), training_completed_on=completed
        )
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=EARLIER, route=False)

    # when / then
    with pytest.raises(ValidationError) as refused:
        routing.assign_conversation(conversation=conversation, agent=agent, now=EARLIER)
    assert refused.value.code == "not_trained"
    conversation.refresh_from_db()
    assert conversation.agent_id is None


def test_a_chat_that_is_not_waiting_cannot_be_assigned(tenant, visitor, agent):
    conversation = answered_chat(tenant, visitor, agent)

    with pytest.raises(ValidationError) as refused:
        routing.assign_conversation(conversation=conversation, agent=factories.make_agent(trained_for=[tenant]))

    assert refused.value.code == "not_waiting"


# ---- e-mails held back and sent by the caller ----------------------------------------------------


def test_a_report_held_back_is_stored_unsent_and_sent_later_as_of_its_moment(
    tenant, visitor, agent, contacts, nowhere, mailoutbox, django_capture_on_commit_callbacks
):
    # given an escalation closed at a past moment with its report held back, and the commit's work run
    conversation = answered_chat(tenant, visitor, agent)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.close_with_outcome(
            conversation=conversation,
            agent=agent,
            outcome="escalated",
            summary="Broken coffee machine.",
            handoff=HANDOFF,
            now=EARLIER + dt.timedelta(minutes=3),
            send_report=False,
        )
    report = Handoff.objects.select_related("outgoing").get(conversation=conversation)
    assert report.outgoing.status == OutgoingEmail.Status.QUEUED
    assert report.outgoing.recipient_list() == ["support@kahvila.example"]
    assert mailoutbox == []

    # when the outbox sends it as of a few seconds later, through a connection that delivers nowhere
    sent_at = EARLIER + dt.timedelta(minutes=3, seconds=4)
    email = outbox.deliver_as_of(report.outgoing, at=sent_at, connection=nowhere)

    # then it is recorded as sent then, once, and nothing reached the configured backend
    assert (email.status, email.sent_at, email.attempts, email.last_error) == (
        OutgoingEmail.Status.SENT,
        sent_at,
        1,
        "",
    )
    assert mailoutbox == []


def test_a_transcript_held_back_is_stored_unsent_and_sent_later_as_of_its_moment(
    tenant, visitor, agent, nowhere, mailoutbox, django_capture_on_commit_callbacks
):
    # given a closed chat
    conversation = answered_chat(tenant, visitor, agent)
    services.close_conversation(conversation=conversation, now=EARLIER + dt.timedelta(minutes=2))

    # when the visitor asks for the transcript, for the record, and the commit's work runs
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(
            conversation=conversation, email="maija@example.fi", now=EARLIER + dt.timedelta(minutes=3), send_email=False
        )

    # then its e-mail waits unsent; sent as of a moment later it is recorded as sent then
    assert request.outgoing.status == OutgoingEmail.Status.QUEUED
    assert mailoutbox == []
    sent_at = EARLIER + dt.timedelta(minutes=3, seconds=2)
    email = outbox.deliver_as_of(request.outgoing, at=sent_at, connection=nowhere)
    assert (email.status, email.sent_at, email.recipient_list()) == (
        OutgoingEmail.Status.SENT,
        sent_at,
        ["maija@example.fi"],
    )


# ---- beside the chat, at a past moment -----------------------------------------------------------


def test_a_note_and_an_acknowledgement_keep_the_moment_they_were_written(tenant, visitor, agent):
    # given a chat and a change notice posted earlier
    conversation = answered_chat(tenant, visitor, agent)
    notice = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="…", created_at=EARLIER)

    # when the agent wrote a note and read the notice then, and reads the notice again now
    note = workspace.add_note(conversation=conversation, agent=agent, body="Regular.", now=EARLIER)
    first = acknowledge_notice(notice=notice, agent=agent, now=EARLIER + dt.timedelta(hours=2))
    again = acknowledge_notice(notice=notice, agent=agent)

    # then both have their moments, and the second reading keeps the first time
    assert note.created_at == EARLIER
    assert first.acknowledged_at == again.acknowledged_at == EARLIER + dt.timedelta(hours=2)


def test_a_tenants_tags_are_defined_once_ignoring_case_and_never_for_another_tenant(tenant, other_tenant):
    # given a tag the tenant has, and the same name at another tenant
    existing = Tag.objects.create(tenant=tenant, name="Delivery")
    Tag.objects.create(tenant=other_tenant, name="returns")

    # when the tenant's tags are defined
    tags = workspace.define_tags(tenant=tenant, names=["delivery", " #returns ", "Returns"])

    # then the existing one is kept and the new one is the tenant's own
    assert tags[0] == existing
    assert [(tag.tenant_id, tag.name) for tag in tags[1:]] == [(tenant.pk, "returns")]
    assert Tag.objects.for_tenant(tenant).count() == 2


# ---- silence --------------------------------------------------------------------------------------


def test_nothing_is_published_while_silenced_and_everything_again_afterwards(
    tenant, visitor, agent, django_capture_on_commit_callbacks
):
    # when a chat is written while silenced
    with django_capture_on_commit_callbacks(execute=False) as silent, events.silenced():
        answered_chat(tenant, visitor, agent)

    # and another one afterwards
    with django_capture_on_commit_callbacks(execute=False) as loud:
        answered_chat(tenant, Visitor.objects.create(tenant=tenant), agent, at=NOW)

    # then only the second one told anybody
    assert silent == []
    assert len(loud) >= 4
