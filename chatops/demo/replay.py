"""Write a planned history through the services, each step at its moment, as real use would have written it.

A chat starts the way its visitor started it (the widget, an accepted invitation, the message form),
the agent who took it is assigned (the assignment alone: who was online then is history), its lines
are posted in order, the agent's tag and note are added, and it closes with its outcome, lead or
handoff report; then the rating and the transcript come. The e-mails the history sent (handoff
reports, transcripts, messages left outside service hours) are written to the outbox as real use
writes them, but held back from its workers: each is sent by the outbox as of its moment
(``outbox.deliver_as_of``) into a mail connection that delivers nothing, or, for the
report the tenant's mail server refused, one that answers with its refusal. The visitors' page
views are recorded last, in one batch per tenant.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Sequence

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

from chatops.demo.description import MailFailure
from chatops.demo.history import History, PlannedChat
from conversations import access, aftercare, invitations, offline, outcomes, routing, services, visits, workspace
from conversations.models import Conversation, Handoff, Message, Visitor, email_reference
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants.models import ProactiveRule, Tenant
from workforce.models import Agent

NOWHERE = "django.core.mail.backends.dummy.EmailBackend"
# Chats written between two refreshes of the database's planner statistics.
STATISTICS_EVERY = 500


class RefusingBackend(BaseEmailBackend):
    """A mail connection whose server refuses every message with the given SMTP error."""

    def __init__(self, *, error: smtplib.SMTPException, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def send_messages(self, email_messages: Sequence) -> int:
        raise self.error


def refusal(failure: MailFailure) -> smtplib.SMTPException:
    """Return the error smtplib raises for the failure: a refused recipient, or the message refused."""
    reply = failure.reply.encode()
    if failure.recipient:
        return smtplib.SMTPRecipientsRefused({failure.recipient: (failure.code, reply)})
    return smtplib.SMTPDataError(failure.code, reply)


class _Replay:
    """Write one tenant's chats, each from its start to its transcript."""

    def __init__(self, *, tenant: Tenant, agents: dict[str, Agent]):
        self.tenant, self.agents = tenant, agents
        self.rules = {rule.name: rule for rule in ProactiveRule.objects.for_tenant(tenant)}
        self.nowhere = get_connection(NOWHERE)

    def chat(self, chat: PlannedChat, visitor: Visitor) -> None:
        """Write one chat: started, assigned, its lines, the agent's note and tag, closed, rated, its transcript."""
        conversation, lines = self._start(chat, visitor)
        agent, assigned = self.agents.get(chat.agent), False
        for line in lines:
            if line.sender == Message.Sender.AGENT:
                if not assigned:
                    routing.assign_conversation(conversation=conversation, agent=agent, now=chat.assigned_at)
                    assigned = True
                services.post_agent_reply(agent=agent, conversation_id=conversation.pk, body=line.text, now=line.at)
            else:
                services.post_visitor_message(conversation=conversation, body=line.text, now=line.at)
        if chat.note:
            text, written = chat.note
            workspace.add_note(conversation=conversation, agent=agent, body=text, now=written)
        if chat.tag:
            workspace.set_tags(conversation=conversation, names=[chat.tag])
        conversation = self._close(chat, conversation, agent)
        if chat.rating:
            rating, comment, rated = chat.rating
            aftercare.rate_conversation(conversation=conversation, rating=rating, comment=comment, now=rated)
        if chat.transcript_requested_at:
            request = aftercare.request_transcript(
                conversation=conversation,
                email=chat.visitor.person.email,
                now=chat.transcript_requested_at,
                send_email=False,
            )
            outbox.deliver_as_of(request.outgoing, at=chat.transcript_sent_at, connection=self.nowhere)

    def _start(self, chat: PlannedChat, visitor: Visitor) -> tuple[Conversation, list]:
        """Start the conversation the way its visitor did; return it with the lines still to post."""
        tenant, now = self.tenant, chat.started_at
        if chat.origin == Conversation.Origin.OFFLINE_MESSAGE:
            question, *lines = chat.lines
            left = offline.leave_offline_message(
                tenant=tenant,
                token=access.issue_visitor_token(visitor),
                name=chat.offline_form.name,
                email=chat.offline_form.email,
                question=question.text,
                ip_address=None,
                now=now,
                route=False,
                send_email=False,
            )
            forwarded = OutgoingEmail.objects.get(
                reference=email_reference(left.conversation.pk), kind=offline.EMAIL_KIND
            )
            outbox.deliver_as_of(forwarded, at=chat.forwarded_at, connection=self.nowhere)
            return left.conversation, lines
        if chat.invitation:
            conversation, _line = invitations.accept_invitation(
                tenant=tenant,
                visitor=visitor,
                rule_id=self.rules[chat.invitation].pk,
                page_view=None,
                shown=True,
                now=now,
                route=False,
            )
            return conversation, chat.lines
        return services.start_conversation(tenant=tenant, visitor=visitor, now=now, route=False), chat.lines

    def _close(self, chat: PlannedChat, conversation: Conversation, agent: Agent | None) -> Conversation:
        """Close the chat as it ended: left by its visitor (the clock), or by its agent with its outcome."""
        if chat.outcome == Conversation.Outcome.VISITOR_LEFT:
            return self._visitor_left(chat, conversation)
        closed = outcomes.close_with_outcome(
            conversation=conversation,
            agent=agent,
            outcome=chat.outcome,
            summary=chat.summary,
            lead=chat.lead,
            handoff=chat.handoff,
            now=chat.closed_at,
            send_report=False,
        )
        if chat.handoff:
            report = Handoff.objects.for_tenant(self.tenant).select_related("outgoing").get(conversation=closed)
            if chat.report_failure is None:
                outbox.deliver_as_of(report.outgoing, at=chat.report_sent_at, connection=self.nowhere)
            else:
                refusing = RefusingBackend(error=refusal(chat.report_failure))
                outbox.deliver_as_of(report.outgoing, at=chat.report_attempted_at, connection=refusing)
        return closed

    def _visitor_left(self, chat: PlannedChat, conversation: Conversation) -> Conversation:
        """Follow the visitor's widget from the start until they left, then end the chat as the clock did."""
        services.visitor_arrived(conversation=conversation, now=chat.started_at)
        services.visitor_departed(conversation_id=conversation.pk, now=chat.visitor_left_at)
        away_since = chat.closed_at - dt.timedelta(minutes=self.tenant.abandoned_after_minutes)
        return services.close_abandoned_chat(conversation=conversation, away_since=away_since, now=chat.closed_at)


def refresh_statistics(*models) -> None:
    """Let PostgreSQL's planner see the tables as they are now (ANALYZE); nothing on other databases.

    The seeding writes thousands of rows in one transaction, which autovacuum never sees; planned with
    the statistics of empty tables, a lookup by visitor or conversation may scan a whole table.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def replay_history(*, tenant: Tenant, history: History, agents: dict[str, Agent], now: dt.datetime) -> None:
    """Write a live tenant's planned history through the services: its visitors, chats and page views."""
    visitors = visits.create_visitors(tenant=tenant, first_seen=[visitor.first_seen for visitor in history.visitors])
    replay = _Replay(tenant=tenant, agents=agents)
    for number, chat in enumerate(history.chats):
        if number % STATISTICS_EVERY == 0:
            refresh_statistics(Visitor, Conversation, Message)
        replay.chat(chat, visitors[chat.visitor.index])
    visits.record_page_views(
        tenant=tenant,
        views=[
            visits.PageOpened(visitor=visitors[page.visitor.index], url=page.url, title=page.title, at=page.at)
            for page in history.pages
        ],
        now=now,
    )
