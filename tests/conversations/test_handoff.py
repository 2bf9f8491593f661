"""The handoff report: e-mailed once to the tenant's escalation contacts, in its language; watched in the admin."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import WARNING
from django.urls import reverse

from conversations import access, services
from conversations.models import Handoff, Lead, Note, Tag, Visitor
from conversations.outcomes import close_with_outcome
from outbox import services as outbox
from outbox import tasks as outbox_tasks
from outbox.models import OutgoingEmail
from tenants.models import ReportRecipient
from tests.conftest import free_port

HELSINKI = dt.timezone(dt.timedelta(hours=2))  # Europe/Helsinki in December
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=HELSINKI)
pytestmark = pytest.mark.frozen_time(NOW)
HANDOFF = {
    "summary": "Wants a refund for a broken coffee machine, order 1234.",
    "visitor_name": "Maija Meikäläinen",
    "visitor_email": "maija@example.fi",
    "visitor_phone": "+358 40 123 4567",
    "promise": "A call back about the refund.",
    "promised_by": "2026-12-18T16:00",
}
CONTACTS = ["owner@kahvila.example", "support@kahvila.example"]


@pytest.fixture
def escalation_contacts(tenant, other_tenant):
    for email in CONTACTS:
        ReportRecipient.objects.create(tenant=tenant, email=email, escalations=True, weekly=False)
    ReportRecipient.objects.create(tenant=tenant, email="ceo@kahvila.example", escalations=False, weekly=True)
    ReportRecipient.objects.create(tenant=other_tenant, email="boss@silownia.example", escalations=True)
    return CONTACTS


@pytest.fixture
def conversation(tenant, agent):
    visitor = Visitor.objects.create(tenant=tenant)
    earlier = NOW - dt.timedelta(minutes=5)
    access.record_page_view(tenant=tenant, visitor=visitor, url="https://kahvila.example/huolto", now=earlier)
    access.record_page_view(tenant=tenant, visitor=visitor, url="https://kahvila.example/keittimet", now=NOW)
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW)
    services.post_visitor_message(
        conversation=conversation, body="Hei, <b>kahvinkeitin</b> on rikki.\nTilaus 1234.", now=NOW
    )
    services.post_agent_message(
        conversation=conversation, agent=agent, body="Selvitän asian.", now=NOW + dt.timedelta(minutes=2)
    )
    return conversation


def escalate(conversation, agent, captured, **changes):
    with captured(execute=True):
        close_with_outcome(
            conversation=conversation, agent=agent, outcome="escalated", handoff={**HANDOFF, **changes}, now=NOW
        )
    return Handoff.objects.get(conversation=conversation)


def parts(email) -> tuple[str, str]:
    plain = email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = email.get_body(preferencelist=("html",)).get_content()
    return plain, html


# ---- the e-mail ---------------------------------------------------------------------------------


def test_the_report_reaches_the_escalation_contacts_in_the_tenants_language_with_the_whole_chat(
    conversation, agent, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # when the agent escalates
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)

    # then one e-mail went through the SMTP server to the tenant's escalation contacts only (not the other tenant's)
    assert len(smtp_server) == 1
    sent = smtp_server[0]
    assert sorted(sent["to"]) == CONTACTS
    email = sent["message"]
    assert "Kahvila Oy" in email["Subject"] and f"#{conversation.pk}" in email["Subject"]
    assert "Maija Meikäläinen" in email["Subject"]
    assert email["Reply-To"] == "maija@example.fi"
    assert email["Content-Language"] == "fi"
    plain, html = parts(email)

    # and the plain text has the summary, the contact, the promise (Finnish date, Helsinki time) and the transcript
    assert HANDOFF["summary"] in plain
    assert "A call back about the refund." in plain
    assert "18. joulukuuta 2026 kello 16.00 EET (perjantai) (Europe/Helsinki)" in plain
    assert "Nimi: Maija Meikäläinen" in plain
    assert "Sähköposti: maija@example.fi" in plain
    assert "+358 40 123 4567" in plain
    assert "Sivu: https://kahvila.example/keittimet" in plain
    assert "Asiakaspalvelija: Anna" in plain
    assert "15. joulukuuta 2026\n" in plain
    assert "10.00 EET Maija Meikäläinen: Hei, <b>kahvinkeitin</b> on rikki.\nTilaus 1234." in plain
    assert "10.02 EET Anna: Selvitän asian." in plain
    assert "10.00 EET Järjestelmä: Välitämme pyyntösi yritykselle Kahvila Oy." in plain

    # and the HTML part has the same, with what the visitor typed escaped
    assert "&lt;b&gt;kahvinkeitin&lt;/b&gt; on rikki.<br>Tilaus 1234." in html
    assert "<b>kahvinkeitin</b>" not in html
    assert "Selvitän asian." in html and "Järjestelmä" in html
    assert "18. joulukuuta 2026 kello 16.00 EET (perjantai)" in html
    assert HANDOFF["summary"] in html

    # and the report's e-mail in the outbox records where and when it went, under the Message-ID it carried
    handoff.refresh_from_db()
    sent_email = handoff.outgoing
    assert sent_email.status == OutgoingEmail.Status.SENT
    assert sent_email.recipient_list() == CONTACTS
    assert sent_email.sent_at is not None
    assert (sent_email.attempts, sent_email.last_error) == (1, "")
    assert email["Message-ID"] == sent_email.message_id


def test_the_report_is_sent_once_however_often_the_task_runs(
    conversation, agent, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # given
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)
    assert len(smtp_server) == 1

    # when the outbox's task is delivered again, twice, and the sweep for due e-mails runs
    for _ in range(2):
        outbox_tasks.deliver_email.delay(handoff.outgoing_id)
    outbox_tasks.deliver_due.delay()

    # then
    assert len(smtp_server) == 1
    handoff.outgoing.refresh_from_db()
    assert handoff.outgoing.attempts == 1


def test_a_report_the_mail_server_refused_is_retried_ends_failed_with_the_error_and_is_sent_once_on_purpose(
    conversation, agent, escalation_contacts, smtp_server, settings, django_capture_on_commit_callbacks
):
    # given the mail server is down when the agent escalates, and two attempts are allowed
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 2

    # when (the first attempt runs inline in tests)
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)

    # then the chat is closed, nothing was sent, and the report waits for its retry with the error
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert smtp_server == []
    sent_email = OutgoingEmail.objects.get(pk=handoff.outgoing_id)
    assert (sent_email.status, sent_email.attempts, sent_email.sent_at) == (OutgoingEmail.Status.QUEUED, 1, None)
    assert "ConnectionRefusedError" in sent_email.last_error
    assert sent_email.next_attempt_at > NOW

    # when the retry is due and fails too
    assert outbox.deliver_due(now=NOW) == 0
    assert outbox.deliver_due(now=NOW + dt.timedelta(hours=1)) == 1

    # then the report is failed, with the error, and nothing retries it by itself
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.FAILED, 2)
    assert "ConnectionRefusedError" in sent_email.last_error
    assert outbox.deliver_due(now=NOW + dt.timedelta(days=1)) == 0

    # when the server is back and an operations manager tries it again (twice over)
    settings.EMAIL_PORT = working_port
    with django_capture_on_commit_callbacks(execute=True):
        outbox.retry_now([sent_email])
    outbox.deliver_due(now=NOW + dt.timedelta(days=1))

    # then it went out once, with the Message-ID it always had
    assert len(smtp_server) == 1
    assert smtp_server[0]["message"]["Message-ID"] == sent_email.message_id
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.attempts, sent_email.last_error) == (OutgoingEmail.Status.SENT, 3, "")


def test_without_an_escalation_contact_nothing_is_queued_and_the_report_says_so(
    conversation, agent, smtp_server, django_capture_on_commit_callbacks
):
    # when the agent escalates a chat of a tenant without escalation contacts
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)

    # then no e-mail exists for it
    assert smtp_server == []
    assert handoff.outgoing is None
    assert not OutgoingEmail.objects.exists()


def test_a_report_for_a_visitor_known_by_phone_only_has_no_reply_to(
    conversation, agent, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # when
    escalate(conversation, agent, django_capture_on_commit_callbacks, visitor_email="", visitor_name="")

    # then
    email = smtp_server[0]["message"]
    assert email["Reply-To"] is None
    assert "+358 40 123 4567" in email["Subject"]
    plain, _html = parts(email)
    assert "10.00 EET Kävijä: Hei" in plain


# ---- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


def admin_url(model, view, *args):
    return reverse(f"admin:conversations_{model._meta.model_name}_{view}", args=args)


def test_the_report_list_shows_tenant_chat_agent_status_recipients_attempts_and_error(
    manager_client, conversation, agent, escalation_contacts, smtp_server, settings, django_capture_on_commit_callbacks
):
    # given one report sent and one that the mail server refused (waiting for its retry)
    sent = escalate(conversation, agent, django_capture_on_commit_callbacks)
    settings.EMAIL_PORT = free_port()
    other_visitor = Visitor.objects.create(tenant=conversation.tenant)
    other = services.start_conversation(tenant=conversation.tenant, visitor=other_visitor, now=NOW)
    retrying = escalate(other, agent, django_capture_on_commit_callbacks)

    # when
    page = manager_client.get(admin_url(Handoff, "changelist"))
    waiting_only = manager_client.get(admin_url(Handoff, "changelist"), {"email_status": "queued"})

    # then
    content = page.content.decode()
    assert page.status_code == 200
    assert "Kahvila Oy" in content and "Anna" in content
    assert f'href="{admin_url(type(conversation), "change", conversation.pk)}"' in content
    assert "Sent " in content and "owner@kahvila.example, support@kahvila.example" in content
    assert "Waiting to retry at" in content and "ConnectionRefusedError" in content
    assert list(waiting_only.context["cl"].result_list) == [retrying]
    assert sent.pk != retrying.pk


def test_a_report_opens_read_only_with_what_was_typed_escaped(
    manager_client, conversation, agent, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # given
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks, summary="<script>x()</script>")

    # when
    page = manager_client.get(admin_url(Handoff, "change", handoff.pk))
    added = manager_client.post(admin_url(Handoff, "add"), {"summary": "made up"})

    # then
    content = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;x()&lt;/script&gt;" in content and "<script>x()</script>" not in content
    assert 'name="_save"' not in content
    assert added.status_code == 403


def test_send_again_sends_a_sent_report_once_more_and_records_who_did_it(
    manager_client,
    ops_manager,
    conversation,
    agent,
    escalation_contacts,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    # given a report that went out
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)
    assert len(smtp_server) == 1

    # when the manager sends it again
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            admin_url(Handoff, "changelist"),
            {"action": "send_again", "_selected_action": [handoff.pk]},
            follow=True,
        )

    # then it went out once more, as a new e-mail (a Message-ID of its own), and the admin history says so
    assert response.status_code == 200
    assert len(smtp_server) == 2
    first, again = (sent["message"]["Message-ID"] for sent in smtp_server)
    assert first != again
    handoff.refresh_from_db()
    assert (handoff.outgoing.status, handoff.outgoing.message_id) == (OutgoingEmail.Status.SENT, again)
    page = manager_client.get(admin_url(Handoff, "change", handoff.pk)).content.decode()
    assert first.strip("<>") in page and again.strip("<>") in page
    entry = LogEntry.objects.get(object_id=str(handoff.pk))
    assert entry.user == ops_manager
    assert "owner@kahvila.example" in entry.get_change_message()
    assert "being sent again" in response.content.decode()


def test_send_again_for_a_tenant_without_escalation_contacts_says_what_to_do_and_sends_nothing(
    manager_client, conversation, agent, smtp_server, django_capture_on_commit_callbacks
):
    # given
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)
    assert handoff.outgoing is None

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            admin_url(Handoff, "changelist"),
            {"action": "send_again", "_selected_action": [handoff.pk]},
            follow=True,
        )

    # then
    assert smtp_server == []
    warnings = [m for m in response.context["messages"] if m.level == WARNING]
    assert len(warnings) == 1 and "no escalation contact" in warnings[0].message
    assert not LogEntry.objects.exists()
    assert (
        "Not sent: the tenant has no escalation contact"
        in manager_client.get(admin_url(Handoff, "changelist")).content.decode()
    )


def test_an_agent_cannot_open_the_reports(client, agent):
    # given
    client.force_login(agent.user)

    # when
    response = client.get(admin_url(Handoff, "changelist"))

    # then
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_leads_are_listed_searchable_and_download_as_a_spreadsheet_safe_csv(
    manager_client, conversation, agent, other_tenant
):
    # given a lead at each tenant, one typed like a formula
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="lead",
        lead={"name": "=HYPERLINK(1)", "email": "maija@example.fi", "phone": "+358 40 123 4567", "wants": "Catering"},
        now=NOW,
    )
    other = services.start_conversation(
        tenant=other_tenant, visitor=Visitor.objects.create(tenant=other_tenant), now=NOW
    )
    close_with_outcome(
        conversation=other, agent=None, outcome="lead", lead={"email": "jan@example.pl", "wants": "A gym pass"}, now=NOW
    )

    # when
    listed = manager_client.get(admin_url(Lead, "changelist"))
    found = manager_client.get(admin_url(Lead, "changelist"), {"q": "jan@example.pl"})
    only_kahvila = manager_client.get(admin_url(Lead, "changelist"), {"tenant__id__exact": conversation.tenant_id})
    download = manager_client.post(
        admin_url(Lead, "changelist"),
        {"action": "download_csv", "_selected_action": [lead.pk for lead in Lead.objects.all()]},
    )

    # then
    assert listed.status_code == 200
    assert "Catering" in listed.content.decode() and "A gym pass" in listed.content.decode()
    assert [lead.email for lead in found.context["cl"].result_list] == ["jan@example.pl"]
    assert [lead.email for lead in only_kahvila.context["cl"].result_list] == ["maija@example.fi"]
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["recorded", "tenant", "name", "e-mail", "phone", "what they want"]
    kahvila = next(row for row in rows if row[1] == "Kahvila Oy")
    assert kahvila[1:8] == [
        "Kahvila Oy",
        "'=HYPERLINK(1)",
        "maija@example.fi",
        "+358 40 123 4567",
        "Catering",
        str(conversation.pk),
        "Anna",
    ]
    assert kahvila[0] == "2026-12-15 10:00"


def test_a_conversation_page_shows_its_lead_handoff_notes_and_tags_read_only(
    manager_client, conversation, agent, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # given
    Note.objects.create(tenant=conversation.tenant, conversation=conversation, agent=agent, body="VIP <customer>")
    conversation.tags.add(Tag.objects.create(tenant=conversation.tenant, name="warranty-claim"))
    handoff = escalate(conversation, agent, django_capture_on_commit_callbacks)

    # when
    page = manager_client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    # then
    content = page.content.decode()
    assert page.status_code == 200
    assert "VIP &lt;customer&gt;" in content
    assert "warranty-claim" in content
    assert HANDOFF["summary"] in content and "A call back about the refund." in content
    assert f'href="{admin_url(Handoff, "change", handoff.pk)}"' in content
    assert "owner@kahvila.example" in content
    assert 'name="_save"' not in content


def test_a_conversation_page_shows_its_lead(manager_client, conversation, agent):
    # given
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="lead",
        lead={"name": "Maija", "email": "maija@example.fi", "wants": "Catering for 40"},
        now=NOW,
    )

    # when
    page = manager_client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    # then
    content = page.content.decode()
    assert "Catering for 40" in content and "maija@example.fi" in content
