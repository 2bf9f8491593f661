"""The outbox: an e-mail is stored with the business change, sent once after it, retried, and honest about crashes.

The clock stands at ``NOW``; "later" moments make retries and run-out leases due.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse

from outbox import selectors, services
from outbox.models import OutgoingEmail
from tests import factories

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
LATER = NOW + dt.timedelta(hours=2)
BODY = "Hei!\n.A line that starts with a dot\n..and one with two\nThe end."


def message(*, to=("owner@kahvila.example",), subject="Raportti") -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(subject=subject, body=BODY, to=list(to))
    email.attach_alternative("<p>Hei!</p>", "text/html")
    return email


def queue(captured, **changes) -> OutgoingEmail:
    """Queue an e-mail in a transaction of its own and run what its commit starts (the first attempt)."""
    with captured(execute=True):
        email = services.queue_email(message=message(**changes), kind="test", reference="test:1")
    email.refresh_from_db()
    return email


def abandoned(email: OutgoingEmail, *, handed_over: bool, crashes: int = 0) -> None:
    """Leave the e-mail as a sender that died holding its lease leaves it."""
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.SENDING,
        attempts=1,
        attempt_started_at=NOW - dt.timedelta(minutes=10),
        leased_until=NOW - dt.timedelta(minutes=1),
        handed_over_at=NOW - dt.timedelta(minutes=9) if handed_over else None,
        crashes_after_handover=crashes,
        crashed_after_handover_at=NOW - dt.timedelta(hours=1) if crashes else None,
    )


# --- Queued with the business change, sent after it ------------------------------------------------


def test_an_email_queued_in_a_transaction_that_rolls_back_leaves_nothing_and_sends_nothing(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # when the business transaction fails after queueing its e-mail
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.queue_email(message=message(), kind="test")
        raise RuntimeError("the business change failed")

    # then
    assert not OutgoingEmail.objects.exists()
    assert scripted_smtp.accepted == []


def test_a_queued_email_goes_out_once_after_commit_exactly_as_composed(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # when
    email = queue(django_capture_on_commit_callbacks)
    services.deliver(email.pk)
    services.deliver_due(now=LATER)

    # then the server got it once, with its Message-ID, both parts, and the lines starting with a dot intact
    assert scripted_smtp.message_ids() == [email.message_id]
    received = scripted_smtp.accepted[0]["message"]
    text = received.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert text.rstrip("\n") == BODY
    assert received.get_body(preferencelist=("html",)).get_content().strip() == "<p>Hei!</p>"
    assert (email.status, email.attempts, email.sent_at) == (OutgoingEmail.Status.SENT, 1, NOW)
    assert email.message_id.endswith("@127.0.0.1>")


def test_a_message_without_recipients_is_refused():
    with pytest.raises(ValueError):
        services.queue_email(message=message(to=()), kind="test")
    assert not OutgoingEmail.objects.exists()


def test_on_the_embedded_default_the_email_is_printed_inline_after_commit(
    settings, capsys, django_capture_on_commit_callbacks
):
    # given the console backend of the embedded default (Celery runs inline in tests, as there)
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    # when
    email = queue(django_capture_on_commit_callbacks, subject="Konsoli")

    # then it was written out once, with its Message-ID, and is marked sent
    printed = capsys.readouterr().out
    assert printed.count("Subject: Konsoli") == 1 and email.message_id in printed
    assert email.status == OutgoingEmail.Status.SENT


# --- Refusals and retries -------------------------------------------------------------------------


def test_a_temporary_refusal_waits_for_a_retry_and_a_permanent_one_fails_at_once_with_the_answer(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given the server refuses first for now (451), then for good (554)
    scripted_smtp.data_replies = ["451 4.3.0 Try again later", "554 5.7.1 Rejected as spam"]

    # when the first attempt is made
    email = queue(django_capture_on_commit_callbacks)

    # then it waits for a retry, after a pause, with the server's answer
    assert (email.status, email.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert "451" in email.last_error and "Try again later" in email.last_error
    assert NOW + dt.timedelta(seconds=15) <= email.next_attempt_at <= NOW + dt.timedelta(seconds=30)
    assert services.deliver_due(now=NOW) == 0

    # when the retry is due and refused for good
    services.deliver_due(now=LATER)

    # then it failed at once, saying why, and is not tried again by itself
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 2)
    assert "554" in email.last_error and "Rejected as spam" in email.last_error
    assert selectors.describe(email).text.startswith("Failed: ")
    assert services.deliver_due(now=LATER + dt.timedelta(days=1)) == 0
    assert scripted_smtp.accepted == []


def test_retry_pauses_double_from_the_first_up_to_the_longest_with_jitter(settings):
    # given
    settings.EMAIL_OUTBOX_RETRY_SECONDS, settings.EMAIL_OUTBOX_RETRY_MAX_SECONDS = 30, 1800
    ceilings = [30, 60, 120, 240, 480, 960, 1800, 1800]

    # when / then each pause lies between half and all of its ceiling, and they are spread
    for attempts, ceiling in enumerate(ceilings, start=1):
        pauses = {services.retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= pause <= ceiling for pause in pauses), attempts
        assert len(pauses) > 1


def test_recipients_the_server_refuses_do_not_stop_the_others_and_are_noted(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given
    scripted_smtp.refuse = {"gone@kahvila.example"}

    # when
    email = queue(django_capture_on_commit_callbacks, to=("owner@kahvila.example", "gone@kahvila.example"))

    # then
    assert [sent["to"] for sent in scripted_smtp.accepted] == [["owner@kahvila.example"]]
    assert email.status == OutgoingEmail.Status.SENT
    assert "gone@kahvila.example: 550" in email.refused_recipients
    assert "the mail server refused gone@kahvila.example" in selectors.describe(email).text


# --- A sender that dies ---------------------------------------------------------------------------


def test_a_sender_that_died_before_the_handover_is_replaced_once_its_lease_ran_out_with_no_copy_suspected(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given a sender took the lease and died before the end of the message went out
    with django_capture_on_commit_callbacks(execute=False):
        email = services.queue_email(message=message(), kind="test")
    abandoned(email, handed_over=False)
    assert selectors.describe(OutgoingEmail.objects.get(pk=email.pk)).text.startswith("Interrupted")

    # when the sweep runs
    services.deliver_due()

    # then it went out once, and nothing says it may have gone twice
    email.refresh_from_db()
    assert scripted_smtp.message_ids() == [email.message_id]
    assert (email.status, email.attempts, email.crashed_after_handover_at) == (OutgoingEmail.Status.SENT, 2, None)
    assert selectors.describe(email).tone == selectors.GOOD


def test_a_sender_that_died_after_the_handover_is_replaced_once_and_says_it_may_have_been_sent_twice(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given a sender died between handing the message over and recording the server's answer
    with django_capture_on_commit_callbacks(execute=False):
        email = services.queue_email(message=message(), kind="test")
    abandoned(email, handed_over=True)
    waiting = selectors.describe(OutgoingEmail.objects.get(pk=email.pk)).text
    assert waiting.startswith("May have been sent: the worker died at")

    # when the sweep runs (twice)
    services.deliver_due()
    services.deliver_due(now=LATER)

    # then it went again once, with the same Message-ID, and the row says a copy may have arrived before
    email.refresh_from_db()
    assert scripted_smtp.message_ids() == [email.message_id]
    assert email.status == OutgoingEmail.Status.SENT
    assert email.crashed_after_handover_at == NOW - dt.timedelta(minutes=9)
    assert "may have been sent twice" in selectors.describe(email).text


def test_a_second_death_after_the_handover_stops_at_may_have_been_sent_without_a_third_copy(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given the e-mail went again after one death past the handover, and that sender died there too
    with django_capture_on_commit_callbacks(execute=False):
        email = services.queue_email(message=message(), kind="test")
    abandoned(email, handed_over=True, crashes=1)

    # when the sweep runs
    services.deliver_due(now=LATER)

    # then nothing is sent, and the row says it may have been sent, for a person to decide
    email.refresh_from_db()
    assert scripted_smtp.accepted == []
    assert email.status == OutgoingEmail.Status.UNKNOWN
    state = selectors.describe(email)
    assert state.text.startswith("May have been sent") and state.tone == selectors.BAD

    # when an operations manager decides to try it again
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_now([email]) == 1

    # then it goes, once, with its Message-ID
    assert scripted_smtp.message_ids() == [email.message_id]


def test_a_connection_lost_after_the_end_of_data_counts_as_may_have_been_sent_and_goes_again_once(
    scripted_smtp, django_capture_on_commit_callbacks
):
    # given the server keeps the message but the connection drops before its answer
    scripted_smtp.data_replies = ["drop"]

    # when the first attempt is made, and the retry when it is due
    email = queue(django_capture_on_commit_callbacks)
    assert (email.status, email.crashes_after_handover) == (OutgoingEmail.Status.QUEUED, 1)
    services.deliver_due(now=LATER)

    # then the recipient has two copies with one Message-ID (at most one duplicate), and the row says so
    email.refresh_from_db()
    assert scripted_smtp.message_ids() == [email.message_id, email.message_id]
    assert email.status == OutgoingEmail.Status.SENT
    assert "may have been sent twice" in selectors.describe(email).text


def test_a_sender_whose_lease_ran_out_before_the_handover_stops_without_the_end_of_the_message(
    scripted_smtp, settings, django_capture_on_commit_callbacks
):
    # given leases that run out at once (as when a send takes longer than the lease)
    settings.EMAIL_OUTBOX_LEASE_SECONDS = 0

    # when a sender gets as far as the handover
    email = queue(django_capture_on_commit_callbacks)

    # then it stopped before the end of data: the server has nothing, the e-mail is still to be sent
    assert scripted_smtp.accepted == []
    assert email.status == OutgoingEmail.Status.SENDING and email.handed_over_at is None

    # when the next sender has a lease long enough
    settings.EMAIL_OUTBOX_LEASE_SECONDS = 300
    services.deliver_due(now=NOW + dt.timedelta(seconds=1))

    # then it went out once, with no copy suspected
    email.refresh_from_db()
    assert scripted_smtp.message_ids() == [email.message_id]
    assert (email.status, email.crashed_after_handover_at) == (OutgoingEmail.Status.SENT, None)


# --- In the admin ---------------------------------------------------------------------------------


def test_the_outbox_page_shows_each_emails_state_and_tries_a_failed_one_again_with_the_same_message_id(
    client, ops_manager, scripted_smtp, settings, django_capture_on_commit_callbacks
):
    # given one e-mail sent and one refused for good
    sent = queue(django_capture_on_commit_callbacks, subject="Lähti")
    scripted_smtp.data_replies = ["554 5.7.1 Rejected as spam"]
    failed = queue(django_capture_on_commit_callbacks, subject="Ei lähtenyt")
    client.force_login(ops_manager)
    changelist = reverse("admin:outbox_outgoingemail_changelist")

    # when the manager looks at the list, at the failed one, and tries it again
    listing = client.get(changelist).content.decode()
    detail = client.get(reverse("admin:outbox_outgoingemail_change", args=[failed.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "try_again_now", "_selected_action": [sent.pk, failed.pk]})

    # then the list said where each was, the page showed the text, and only the failed one went again
    assert "Sent " in listing and "Failed: SMTPDataError: 554 5.7.1 Rejected as spam" in listing
    assert "A line that starts with a dot" in detail
    assert response.status_code == 302
    assert scripted_smtp.message_ids() == [sent.message_id, failed.message_id]
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.SENT


def test_an_agent_cannot_open_the_outbox(client, tenant):
    # given
    agent = factories.make_agent(trained_for=[tenant])
    client.force_login(agent.user)

    # when
    response = client.get(reverse("admin:outbox_outgoingemail_changelist"))

    # then
    assert response.status_code == 302 and "/login/" in response["Location"]
