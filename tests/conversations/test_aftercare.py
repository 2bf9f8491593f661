"""After a chat: the visitor's 1–5 rating, and the transcript e-mailed once through a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts import roles
from conversations import aftercare, services
from conversations.models import Conversation, Message, Note, TranscriptRequest, Visitor
from outbox import services as outbox
from outbox import tasks as outbox_tasks
from outbox.models import OutgoingEmail
from tests import factories
from tests.conftest import free_port

# 10:15 UTC is 12:15 in Helsinki (EET, UTC+2) on this day.
STARTED = dt.datetime(2026, 11, 23, 10, 15, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(STARTED)]


@pytest.fixture
def shop(db):
    return factories.make_tenant(
        name="Kahvila <Oy>", language="fi", time_zone="Europe/Helsinki", widget_colour="#0f766e"
    )


def conversation_of(tenant, **fields) -> Conversation:
    visitor = Visitor.objects.create(tenant=tenant)
    return Conversation.objects.create(tenant=tenant, visitor=visitor, started_at=STARTED, **fields)


def closed_conversation(tenant) -> Conversation:
    conversation = conversation_of(tenant)
    return services.close_conversation(conversation=conversation, now=STARTED + dt.timedelta(minutes=5))


def line(conversation, sender, body, minute, *, agent=None, client_msg_id=""):
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    return Message.objects.create(
        tenant=conversation.tenant,
        conversation=conversation,
        seq=conversation.last_seq,
        sender=sender,
        agent=agent,
        body=body,
        client_msg_id=client_msg_id,
        created_at=STARTED + dt.timedelta(minutes=minute),
    )


# ---- rating ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 5])
def test_a_closed_chat_is_rated_from_1_to_5_with_a_comment(shop, rating):
    # given
    conversation = closed_conversation(shop)

    # when
    rated = aftercare.rate_conversation(conversation=conversation, rating=rating, comment="  Nopea vastaus!  ")

    # then
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (rating, "Nopea vastaus!")
    assert conversation.rated_at is not None
    assert rated.pk == conversation.pk


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.5, None])
def test_a_rating_outside_1_to_5_is_refused(shop, rating):
    conversation = closed_conversation(shop)

    with pytest.raises(ValidationError) as refused:
        aftercare.rate_conversation(conversation=conversation, rating=rating)

    assert refused.value.code == "bad_rating"
    conversation.refresh_from_db()
    assert conversation.rating is None


def test_an_open_chat_cannot_be_rated(shop):
    # given
    for status in (Conversation.Status.WAITING, Conversation.Status.ACTIVE):
        conversation = conversation_of(shop, status=status)

        # when / then
        with pytest.raises(ValidationError) as refused:
            aftercare.rate_conversation(conversation=conversation, rating=5)
        assert refused.value.code == "not_closed"
        conversation.refresh_from_db()
        assert conversation.rating is None


def test_a_comment_that_is_too_long_is_refused(shop):
    conversation = closed_conversation(shop)

    with pytest.raises(ValidationError) as refused:
        aftercare.rate_conversation(conversation=conversation, rating=4, comment="x" * 2001)

    assert refused.value.code == "too_long"


def test_a_second_rating_within_the_window_replaces_the_first_and_keeps_its_time(shop):
    # given
    conversation = closed_conversation(shop)
    first_at = timezone.now()
    aftercare.rate_conversation(conversation=conversation, rating=2, now=first_at)

    # when (a slip of the finger, corrected a moment later)
    later = first_at + aftercare.RATING_CHANGE_WINDOW
    aftercare.rate_conversation(conversation=conversation, rating=5, comment="Sorry, meant five", now=later)

    # then
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (5, "Sorry, meant five")
    assert conversation.rated_at == first_at


def test_a_star_alone_is_a_rating_and_the_comment_that_follows_updates_the_same_rating(shop):
    # given a closed chat
    conversation = closed_conversation(shop)
    clicked_at = timezone.now()

    # when the visitor clicks four stars and nothing else
    aftercare.rate_conversation(conversation=conversation, rating=4, now=clicked_at)

    # then the rating is stored without a comment
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment, conversation.rated_at) == (4, "", clicked_at)

    # when the comment follows a minute later
    aftercare.rate_conversation(
        conversation=conversation, rating=4, comment="Nopeaa!", now=clicked_at + dt.timedelta(minutes=1)
    )

    # then it is the same rating with the comment, dated at the click
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment, conversation.rated_at) == (4, "Nopeaa!", clicked_at)


def test_another_star_clicked_after_the_comment_keeps_the_comment(shop):
    # given a rating with a comment
    conversation = closed_conversation(shop)
    aftercare.rate_conversation(conversation=conversation, rating=2, comment="Hidas vastaus")

    # when the visitor clicks another star (no comment in that frame)
    aftercare.rate_conversation(conversation=conversation, rating=3)

    # then the stars change and the comment stays
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (3, "Hidas vastaus")


def test_a_second_rating_after_the_window_is_refused(shop):
    # given
    conversation = closed_conversation(shop)
    first_at = timezone.now()
    aftercare.rate_conversation(conversation=conversation, rating=2, comment="slow", now=first_at)

    # when / then
    with pytest.raises(ValidationError) as refused:
        aftercare.rate_conversation(
            conversation=conversation,
            rating=5,
            now=first_at + aftercare.RATING_CHANGE_WINDOW + dt.timedelta(seconds=1),
        )
    assert refused.value.code == "already_rated"
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (2, "slow")


# ---- requesting the transcript ----------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "   ", "maija", "maija@", "maija at example.fi", None, 42, "a" * 250 + "@x.fi"])
def test_a_transcript_request_needs_a_valid_email_address(shop, email):
    conversation = closed_conversation(shop)

    with pytest.raises(ValidationError) as refused:
        aftercare.request_transcript(conversation=conversation, email=email)

    assert refused.value.code == "bad_email"
    assert not TranscriptRequest.objects.exists()


def test_the_transcript_may_be_asked_for_during_the_chat(shop, mailoutbox, django_capture_on_commit_callbacks):
    # given
    conversation = conversation_of(shop, status=Conversation.Status.ACTIVE)
    line(conversation, Message.Sender.VISITOR, "Onko teillä gluteenitonta?", 1)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(conversation=conversation, email=" maija@example.fi ")

    # then the lines so far are sent
    assert request.email == "maija@example.fi"
    assert len(mailoutbox) == 1
    assert "Onko teillä gluteenitonta?" in mailoutbox[0].body


def test_asking_again_with_the_same_address_changes_nothing_and_sends_nothing_more(
    shop, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    conversation = closed_conversation(shop)
    with django_capture_on_commit_callbacks(execute=True):
        first = aftercare.request_transcript(conversation=conversation, email="maija@example.fi")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        again = aftercare.request_transcript(conversation=conversation, email="Maija@Example.fi")

    # then
    assert again.pk == first.pk
    assert TranscriptRequest.objects.count() == 1
    assert len(mailoutbox) == 1


def test_asking_for_the_transcript_at_another_address_is_refused(shop):
    # given
    conversation = closed_conversation(shop)
    aftercare.request_transcript(conversation=conversation, email="maija@example.fi")

    # when / then
    with pytest.raises(ValidationError) as refused:
        aftercare.request_transcript(conversation=conversation, email="someone.else@example.fi")
    assert refused.value.code == "other_address"
    assert TranscriptRequest.objects.get().email == "maija@example.fi"


# ---- the transcript e-mail -------------------------------------------------------------------


@pytest.fixture
def chat(shop):
    """A closed proactive chat: the invitation, the visitor, the agent, bookkeeping and a private note."""
    agent = factories.make_agent(trained_for=[shop], display_name="Anna")
    conversation = conversation_of(shop, origin=Conversation.Origin.PROACTIVE, agent=agent)
    line(conversation, Message.Sender.SYSTEM, "Moikka! Voinko auttaa?", 0, client_msg_id="invite:7")
    line(conversation, Message.Sender.VISITOR, "Onko <b>gluteenitonta</b> pullaa?\nEntä kahvia?", 1)
    line(conversation, Message.Sender.AGENT, "On! Tuoretta joka päivä.", 2, agent=agent)
    line(conversation, Message.Sender.SYSTEM, "Internal: forwarded to the kitchen", 3)
    Note.objects.create(tenant=shop, conversation=conversation, agent=agent, body="VIP, offer a discount")
    return services.close_conversation(conversation=conversation, now=STARTED + dt.timedelta(minutes=4))


def test_the_transcript_is_emailed_once_with_text_and_html_in_the_tenants_language_and_zone(
    shop, chat, smtp_server, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        aftercare.request_transcript(conversation=chat, email="maija@example.fi")

    # then one e-mail reached the visitor, with both parts
    assert len(smtp_server) == 1
    sent = smtp_server[0]
    assert sent["to"] == ["maija@example.fi"]
    email = sent["message"]
    assert "Kahvila <Oy>" in email["Subject"]
    assert email["Content-Language"] == "fi"
    text = email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = email.get_body(preferencelist=("html",)).get_content()

    # in the tenant's language (the catalogue's Finnish) and with Helsinki times (UTC+2)
    with translation.override("fi"):
        started = translation.gettext("Started %(time)s") % {"time": ""}
    assert started.strip() and started.strip() != "Started"
    assert started.strip() in text and started.strip() in html
    assert '<html lang="fi">' in html
    # Finnish times, under a heading that names the zone
    assert "[12.16] " in text and "[12.17] Anna:" in text
    assert "12.16" in html and "12.17" in html
    # the visitor's, the agent's and the invitation's lines, in order, as written
    assert text.index("Moikka! Voinko auttaa?") < text.index("Onko <b>gluteenitonta</b> pullaa?\nEntä kahvia?")
    assert text.index("Entä kahvia?") < text.index("On! Tuoretta joka päivä.")
    assert "[12.15] Kahvila <Oy>:" in text
    # escaped in the HTML, with the tenant's name and colour
    assert "Onko &lt;b&gt;gluteenitonta&lt;/b&gt; pullaa?<br>Entä kahvia?" in html
    assert "<b>gluteenitonta</b>" not in html
    assert "Kahvila &lt;Oy&gt;" in html
    assert "#0f766e" in html
    # and nothing for the team only
    for secret in ("VIP, offer a discount", "Internal: forwarded to the kitchen"):
        assert secret not in text and secret not in html

    # and the request's e-mail is marked sent
    sent_email = TranscriptRequest.objects.get(conversation=chat).outgoing
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.SENT, 1)
    assert sent_email.sent_at is not None


def test_a_chat_running_past_midnight_dates_the_lines_of_the_next_day(shop, mailoutbox):
    # given a chat started at 23:59 in Helsinki
    conversation = conversation_of(shop)
    Conversation.objects.filter(pk=conversation.pk).update(started_at=dt.datetime(2026, 11, 23, 21, 59, tzinfo=dt.UTC))
    conversation.refresh_from_db()
    line(conversation, Message.Sender.VISITOR, "before midnight", 0)
    Message.objects.filter(conversation=conversation).update(
        created_at=dt.datetime(2026, 11, 23, 21, 59, tzinfo=dt.UTC)
    )
    line(conversation, Message.Sender.VISITOR, "after midnight", 0)
    Message.objects.filter(conversation=conversation, seq=2).update(
        created_at=dt.datetime(2026, 11, 23, 22, 1, tzinfo=dt.UTC)
    )

    # when
    with translation.override("fi"):
        lines = aftercare.transcript_lines(conversation=conversation)

    # then
    assert lines[0].when == "23.59"
    assert lines[1].when == "24.11.2026 0.01"


def test_the_transcript_task_run_again_sends_nothing(shop, chat, smtp_server, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(conversation=chat, email="maija@example.fi")
    assert len(smtp_server) == 1

    # when the outbox's task is delivered again
    outbox_tasks.deliver_email.delay(request.outgoing_id)

    # then
    assert len(smtp_server) == 1
    request.outgoing.refresh_from_db()
    assert request.outgoing.attempts == 1


def test_a_transcript_smtp_refused_is_retried_and_the_last_attempt_leaves_it_failed_with_the_error(
    shop, chat, smtp_server, settings, django_capture_on_commit_callbacks
):
    # given the mail server is down, and three attempts are allowed
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 3

    # when the request is made
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(conversation=chat, email="maija@example.fi")

    # then the first attempt failed and waits for its retry, with the error recorded
    sent_email = TranscriptRequest.objects.get(pk=request.pk).outgoing
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert "ConnectionRefusedError" in sent_email.last_error

    # when the retries come, each once it is due
    for hours in (1, 2):
        outbox.deliver_due(now=STARTED + dt.timedelta(hours=hours))

    # then the request's e-mail ends failed, with every attempt counted and the error kept
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.FAILED, 3)
    assert "ConnectionRefusedError" in sent_email.last_error
    assert sent_email.sent_at is None
    assert smtp_server == []


def test_a_transcript_that_failed_once_is_sent_once_when_the_server_is_back(
    shop, chat, smtp_server, settings, django_capture_on_commit_callbacks
):
    # given a first attempt that failed
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(conversation=chat, email="maija@example.fi")
    sent_email = TranscriptRequest.objects.get(pk=request.pk).outgoing
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.QUEUED, 1)

    # when the server is back and the retry is due (the sweep runs twice, as two beats may overlap)
    settings.EMAIL_PORT = working_port
    later = STARTED + dt.timedelta(hours=1)
    outbox.deliver_due(now=later)
    outbox.deliver_due(now=later)

    # then
    assert len(smtp_server) == 1
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.attempts) == (OutgoingEmail.Status.SENT, 2)


# ---- the admin ---------------------------------------------------------------------------------


def test_a_failed_transcript_shows_in_the_admin_and_send_again_delivers_it_once(
    shop, chat, smtp_server, settings, client, django_capture_on_commit_callbacks
):
    # given a request whose sending failed for good
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        request = aftercare.request_transcript(conversation=chat, email="maija@example.fi")
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER, email="ops@staff.example")
    client.force_login(manager)
    changelist = reverse("admin:conversations_transcriptrequest_changelist")

    # then the list shows it failed, with the error
    page = client.get(changelist, {"email_status": "failed"}).content.decode()
    assert "maija@example.fi" in page
    assert "ConnectionRefusedError" in page

    # when the manager sends it again with the mail server back
    settings.EMAIL_PORT = working_port
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "send_again", "_selected_action": [request.pk]}, follow=True)

    # then it went out once and is marked sent
    assert response.status_code == 200
    assert "being sent again" in response.content.decode()
    assert len(smtp_server) == 1
    request.refresh_from_db()
    assert (request.outgoing.status, request.outgoing.last_error) == (OutgoingEmail.Status.SENT, "")


def test_an_agent_cannot_open_the_transcript_requests(client, shop):
    agent = factories.make_agent(trained_for=[shop], display_name="Anna")
    client.force_login(agent.user)
    response = client.get(reverse("admin:conversations_transcriptrequest_changelist"))
    assert response.status_code in (302, 403)
