"""Every time shown to a person is in the zone it is labelled with, in the reader's language's format.

One moment, 04:40 UTC on Monday 7 December 2026, is 06:40 in Helsinki (EET) and 05:40 in Warsaw (CET).
Each place that shows a time — the e-mails, the admin's lists and pages, the live pages — is rendered
in English, Finnish and Polish, and must show that hour on the labelled zone's clock, written as the
language writes it (no "a.m." in Finnish or Polish, no 07-12-2026 in Polish).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from conversations import aftercare, handoff, offline, services
from conversations.models import Conversation, Handoff, Lead, TranscriptRequest, Visitor
from moments.formatting import show_moment
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants import onboarding
from tenants.models import ChangeNotice, OnboardingItem, ReportRecipient, Tenant
from tests import factories
from workforce.models import ChangeNoticeAcknowledgement, Shift
from workforce.services import plan_shift

MOMENT = dt.datetime(2026, 12, 7, 4, 40, tzinfo=dt.UTC)
LATER = MOMENT + dt.timedelta(days=3, hours=4, minutes=20)  # 11.00 in Helsinki
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(MOMENT)]
LANGUAGES = ["en", "fi", "pl"]

# The moment as each language writes it in Helsinki, by hand: the short form and the time alone.
SHORT = {"en": "12/07/2026 6:40 a.m. EET", "fi": "7.12.2026 6.40 EET", "pl": "07.12.2026 06:40 EET"}
TIME = {"en": "6:40 a.m. EET", "fi": "6.40 EET", "pl": "06:40 EET"}
WEEKDAY = {"en": "Mon 12/07/2026 6:40 a.m. EET", "fi": "ma 7.12.2026 6.40 EET", "pl": "pon 07.12.2026 06:40 EET"}
LONG = {"en": "Dec. 7, 2026 6:40 a.m. EET", "fi": "7. joulukuuta 2026 6.40 EET", "pl": "7 grudnia 2026 06:40 EET"}
# Django's admin shows a date-time field in its long format, on the server's clock (here Helsinki's).
ADMIN_FIELD = {
    "en": "Dec. 7, 2026, 6:40 a.m. EET",
    "fi": "7. joulukuuta 2026 kello 6.40 EET",
    "pl": "7 grudnia 2026 06:40 EET",
}
# What must never appear: the UTC hour, a clock foreign to the language, Polish dates with dashes.
UTC_HOUR = re.compile(r"\b0?4[:.]40\b")
FOREIGN = {
    "en": re.compile(r"\b\d{1,2}\.\d{2}\.\d{4}\b"),
    "fi": re.compile(r"[ap]\.m\.|\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{1,2}:\d{2}\b"),
    "pl": re.compile(r"[ap]\.m\.|\b\d{2}-\d{2}-\d{4}\b|\b\d{1,2}/\d{1,2}/\d{4}\b"),
}


def assert_written_for(text: str, language: str, *expected: str) -> None:
    # machine-readable moments (a <time>'s datetime, a page's JSON for its scripts) are not shown
    text = re.sub(r'datetime="[^"]*"|<script[^>]*>.*?</script>', "", text, flags=re.S)
    for shown in expected:
        assert shown in text, f"{shown!r} not in the {language} text"
    utc = UTC_HOUR.search(text)
    assert utc is None, f"the UTC hour is shown in the {language} text: {text[utc.start() - 80 : utc.end() + 20]!r}"
    foreign = FOREIGN[language].search(text)
    assert foreign is None, f"{text[foreign.start() - 80 : foreign.end() + 20]!r}: not how {language} writes a moment"


@pytest.fixture(autouse=True)
def helsinki_server(settings):
    """The operations team's server runs on Helsinki time: the admin's own times are labelled EET."""
    settings.TIME_ZONE = "Europe/Helsinki"
    timezone.deactivate()
    yield
    # a request in Finnish or Polish leaves its language active in this thread: the next test starts afresh
    translation.deactivate()


def chat_in(tenant, agent) -> Conversation:
    visitor = Visitor.objects.create(tenant=tenant, name="Maija", email="maija@example.fi")
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=MOMENT, route=False)
    services.post_visitor_message(conversation=conversation, body="Hei!", now=MOMENT)
    return conversation


def handoff_of(conversation: Conversation, agent) -> Handoff:
    return Handoff.objects.create(
        tenant=conversation.tenant,
        conversation=conversation,
        agent=agent,
        summary="Refund",
        visitor_email="maija@example.fi",
        promised_by=LATER,
    )


def admin_page(client, manager, url: str, language: str) -> str:
    client.force_login(manager)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


# ---- the helper itself ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_helper_writes_the_moment_on_the_named_zones_clock_in_each_language(language):
    with translation.override(language):
        assert show_moment(MOMENT, "Europe/Helsinki") == SHORT[language]
        assert show_moment(MOMENT, "Europe/Helsinki", style="time") == TIME[language]
        assert show_moment(MOMENT, "Europe/Helsinki", style="weekday") == WEEKDAY[language]
        assert show_moment(MOMENT, "Europe/Helsinki", style="long") == LONG[language]
        warsaw = show_moment(MOMENT, "Europe/Warsaw", style="time")
    assert warsaw == {"en": "5:40 a.m. CET", "fi": "5.40 CET", "pl": "05:40 CET"}[language]


# ---- e-mails, in the tenant's language and zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "zone", "sent"),
    [
        ("en", "Europe/Helsinki", LONG["en"]),
        ("fi", "Europe/Helsinki", LONG["fi"]),
        ("pl", "Europe/Warsaw", "7 grudnia 2026 05:40 CET"),
    ],
)
def test_an_offline_message_email_shows_when_it_was_left_on_the_tenants_clock(
    language, zone, sent, mailoutbox, django_capture_on_commit_callbacks
):
    # given a tenant with an escalation contact
    tenant = factories.make_tenant(language=language, time_zone=zone)
    ReportRecipient.objects.create(tenant=tenant, email="owner@example.com", escalations=True)

    # when a visitor leaves a message at 06:40 Helsinki (05:40 Warsaw)
    with django_capture_on_commit_callbacks(execute=True):
        offline.leave_offline_message(
            tenant=tenant, token=None, name="Maija", email="maija@example.fi", question="Hei?", ip_address=None
        )

    # then the e-mail says so, labelled with the zone
    (email,) = mailoutbox
    assert_written_for(email.body, language, f"{sent} ({zone})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_transcript_and_the_handoff_report_show_the_lines_on_the_tenants_clock(language, agent, tenant):
    # given a chat in Helsinki at 06:40
    tenant.language = language
    tenant.save(update_fields=["language"])
    conversation = chat_in(tenant, agent)
    services.close_conversation(conversation=conversation)

    # when the transcript and a handoff report of it are built
    request = TranscriptRequest.objects.create(tenant=tenant, conversation=conversation, email="maija@example.fi")
    transcript = aftercare.transcript_email(request=request)
    report = handoff_of(conversation, agent)
    handoff_email = handoff.build_handoff_email(report, recipients=["owner@example.com"])

    # then the transcript's lines show the time under a heading naming the zone, the report's lines with it
    clock = TIME[language].removesuffix(" EET")
    assert_written_for(transcript.body, language, f"[{clock}]", "(Europe/Helsinki)")
    assert_written_for(handoff_email.body, language, f"{TIME[language]} ")


# ---- the admin, in the reader's language, the server's (Helsinki) zone or the tenant's ---------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_lists_and_pages_show_times_on_the_labelled_clock_in_the_readers_format(
    client, ops_manager, agent, tenant, language
):
    # given a chat, a lead, a handoff, a shift, a checklist step, a read notice and an e-mail, all at 06:40
    conversation = chat_in(tenant, agent)
    Lead.objects.create(tenant=tenant, conversation=conversation, name="Maija", email="maija@example.fi")
    report = handoff_of(conversation, agent)
    outbox.queue_email(
        message=handoff.build_handoff_email(report, recipients=["owner@example.com"]),
        kind="handoff report",
        reference=f"conversation:{conversation.pk}",
        send=outbox.BY_CALLER,
    )
    OutgoingEmail.objects.update(status=OutgoingEmail.Status.SENT, sent_at=MOMENT)
    plan_shift(agent=agent, starts_at=MOMENT, ends_at=MOMENT + dt.timedelta(hours=8))
    onboarding.schedule_checklist(tenant)
    OnboardingItem.objects.filter(tenant=tenant).update(done_at=MOMENT, done_by=ops_manager)
    notice = ChangeNotice.objects.create(tenant=tenant, title="Closed", body="…", created_by=ops_manager)
    ChangeNoticeAcknowledgement.objects.create(notice=notice, agent=agent, acknowledged_at=MOMENT)

    # when the manager opens each page in their language
    def page(name: str, *args) -> str:
        return admin_page(client, ops_manager, reverse(f"admin:{name}", args=args), language)

    # then every time is on the Helsinki clock, labelled, written as the language writes it
    assert_written_for(page("conversations_conversation_changelist"), language, ADMIN_FIELD[language])
    assert_written_for(page("conversations_lead_changelist"), language, ADMIN_FIELD[language])
    assert_written_for(page("conversations_handoff_changelist"), language, ADMIN_FIELD[language])
    assert_written_for(page("conversations_handoff_change", report.pk), language, WEEKDAY[language])
    assert_written_for(page("workforce_shift_changelist"), language, WEEKDAY[language])
    assert Shift.objects.count() == 1
    assert_written_for(page("tenants_tenant_change", tenant.pk), language, SHORT[language])
    assert_written_for(page("tenants_changenotice_change", notice.pk), language, SHORT[language])
    assert_written_for(page("outbox_outgoingemail_changelist"), language, ADMIN_FIELD[language], SHORT[language])


# ---- the live pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wall_of_fame_and_the_boards_email_line_show_times_on_the_labelled_clock(
    client, ops_manager, agent, tenant, language
):
    # given a five-star chat at 06:40 and an e-mail waiting since then
    conversation = chat_in(tenant, agent)
    services.post_agent_message(conversation=conversation, agent=agent, body="Moi!", now=MOMENT)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.CLOSED, closed_at=MOMENT, rating=5, rating_comment="Kiitos", agent=agent
    )
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.LIVE)
    report = handoff_of(conversation, agent)
    outbox.queue_email(
        message=handoff.build_handoff_email(report, recipients=["owner@example.com"]),
        kind="handoff report",
        reference=f"conversation:{conversation.pk}",
        send=outbox.BY_CALLER,
    )
    assert OutgoingEmail.objects.count() == 1

    # when the agent opens the wall of fame and the manager the board, each in their language
    client.force_login(agent.user)
    fame = client.get(reverse("wall-of-fame"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    board = admin_page(client, ops_manager, "/operations/board/", language)

    # then
    assert_written_for(fame, language, SHORT[language])
    assert_written_for(board, language, TIME[language])
