"""Writing history through the services: the write alone at a past moment, without the live policy or e-mail.

The demo (chatops/demo) replays weeks of chats through these; they are also what the live paths are
made of, so each keeps its rules: an assignment needs training by that day, a report held back is
sent later through the real sending code.
"""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend

from chatops.models import Agent, Qualification
from chatops.services import plan_shift
from conversations import access, aftercare, events, handoff, offline, outcomes, routing, services, workspace
from conversations.models import Conversation, Handoff, Message, Tag, TranscriptRequest, Visitor
from tenants import proactive
from tenants.models import ChangeNotice, ProactiveRule, ReportRecipient
from tests import factories

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(days=10)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
HANDOFF = {
    "visitor_name": "Maija Meikäläinen",
    "visitor_email": "maija@example.fi",
    "promise": "A call back about the refund.",
    "promised_by": "2026-11-17T16:00",
}


class Refusing(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"support@kahvila.example": (452, "4.2.2 Mailbox full")})


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
        forward=False,
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
    conversation, line = proactive.accept_invitation(
        tenant=tenant, visitor=visitor, rule_id=rule.pk, page_view=None, shown=True, now=NOW, route=False
    )

    # then it waits, proactive, with the invitation as its first line
    assert conversation.status == Conversation.Status.WAITING
    assert (conversation.origin, conversation.proactive_rule) == (Conversation.Origin.PROACTIVE, rule)
    assert (line.seq, line.body) == (1, "Can I help?")


def test_a_message_left_without_routing_or_forwarding_waits_and_queues_no_email(
    tenant, visitor, agent, contacts, mailoutbox, django_capture_on_commit_callbacks
):
    # given an agent who would take it now
    online_on_shift(agent, NOW)

    # when a question is left in the form, for the record
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        left = leave_question(tenant, visitor, route=False)

    # then it is the known visitor's waiting conversation, and (Celery running inline) nothing was sent at commit
    assert left.conversation.visitor == visitor
    assert left.conversation.status == Conversation.Status.WAITING
    assert callbacks
    assert mailoutbox == []
    assert not Message.objects.filter(conversation=left.conversation, sender=Message.Sender.SYSTEM).exists()


def test_a_question_is_forwarded_through_the_given_connection_at_the_given_moment(
    tenant, visitor, contacts, mailoutbox
):
    # given a question left without forwarding
    left = leave_question(tenant, visitor)
    connection = mail.get_connection("django.core.mail.backends.locmem.EmailBackend")
    sent = []
    connection.send_messages = lambda messages: sent.extend(messages) or len(messages)

    # when it is forwarded through a connection of the caller's
    got = offline.forward_offline_message(
        message_id=left.message.pk, now=EARLIER + dt.timedelta(seconds=3), connection=connection
    )

    # then that connection carried it (not the configured one) and the note has that moment
    assert got == 1
    assert [message.to for message in sent] == [["support@kahvila.example"]]
    assert mailoutbox == []
    note = Message.objects.get(conversation=left.conversation, sender=Message.Sender.SYSTEM)
    assert note.created_at == EARLIER + dt.timedelta(seconds=3)


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


def test_a_report_held_back_is_not_queued_and_is_sent_later_through_the_callers_connection(
    tenant, visitor, agent, contacts, nowhere, mailoutbox, django_capture_on_commit_callbacks
):
    # given an escalation closed at a past moment with its report held back
    conversation = answered_chat(tenant, visitor, agent)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcomes.close_with_outcome(
            conversation=conversation,
            agent=agent,
            outcome="escalated",
            summary="Broken coffee machine.",
            handoff=HANDOFF,
            now=EARLIER + dt.timedelta(minutes=3),
            send_report=False,
        )
    # (Celery runs inline: a queued report would have been sent at commit)
    report = Handoff.objects.get(conversation=conversation)
    assert callbacks
    assert report.status == Handoff.Status.PENDING
    assert mailoutbox == []

    # when it is sent a few seconds later through a connection that delivers nowhere
    sent_at = EARLIER + dt.timedelta(minutes=3, seconds=4)
    assert handoff.send_handoff_report(handoff_id=report.pk, now=sent_at, connection=nowhere) == 1

    # then it is recorded as sent then, to the escalation contacts, and nothing reached the configured backend
    report.refresh_from_db()
    assert (report.status, report.sent_at, report.recipients, report.attempts) == (
        Handoff.Status.SENT,
        sent_at,
        "support@kahvila.example",
        1,
    )
    assert mailoutbox == []


def test_a_report_refused_at_every_try_ends_failed_with_the_servers_answer(tenant, visitor, agent, contacts):
    # given a held-back report
    conversation = answered_chat(tenant, visitor, agent)
    outcomes.close_with_outcome(
        conversation=conversation, agent=agent, outcome="escalated", summary="Refund.", handoff=HANDOFF, now=EARLIER,
        send_report=False,
    )  # fmt: skip
    report = Handoff.objects.get(conversation=conversation)

    # when the mail server refuses it twice, the second time being the last try
    for final in (False, True):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            handoff.send_handoff_report(handoff_id=report.pk, final_attempt=final, connection=Refusing())

    # then it failed after two attempts with the refusal, and went to nobody
    report.refresh_from_db()
    assert (report.status, report.attempts, report.sent_at, report.recipients) == (Handoff.Status.FAILED, 2, None, "")
    assert report.last_error.startswith("SMTPRecipientsRefused: {'support@kahvila.example': (452")


def test_a_transcript_held_back_is_not_queued_and_is_sent_through_the_callers_connection(
    tenant, visitor, agent, nowhere, mailoutbox, django_capture_on_commit_callbacks
):
    # given a closed chat
    conversation = answered_chat(tenant, visitor, agent)
    services.close_conversation(conversation=conversation, now=EARLIER + dt.timedelta(minutes=2))

    # when the visitor asks for the transcript, for the record
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request = aftercare.request_transcript(
            conversation=conversation, email="maija@example.fi", now=EARLIER + dt.timedelta(minutes=3), send=False
        )

    # then nothing is queued; sent through the caller's connection it is recorded as sent then
    assert callbacks == []
    request.refresh_from_db()
    assert request.status == TranscriptRequest.Status.PENDING
    sent_at = EARLIER + dt.timedelta(minutes=3, seconds=2)
    assert aftercare.send_transcript(request_id=request.pk, now=sent_at, connection=nowhere)
    request.refresh_from_db()
    assert (request.status, request.sent_at, request.attempts) == (TranscriptRequest.Status.SENT, sent_at, 1)
    assert mailoutbox == []


# ---- beside the chat, at a past moment -----------------------------------------------------------


def test_a_note_and_an_acknowledgement_keep_the_moment_they_were_written(tenant, visitor, agent):
    # given a chat and a change notice posted earlier
    conversation = answered_chat(tenant, visitor, agent)
    notice = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="…", created_at=EARLIER)

    # when the agent wrote a note and read the notice then, and reads the notice again now
    note = workspace.add_note(conversation=conversation, agent=agent, body="Regular.", now=EARLIER)
    first = workspace.acknowledge_notice(notice=notice, agent=agent, now=EARLIER + dt.timedelta(hours=2))
    again = workspace.acknowledge_notice(notice=notice, agent=agent)

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
