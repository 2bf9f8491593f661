"""Writing history: an e-mail held back is sent as of its own past moment, by the rules of a live attempt."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.mail import EmailMessage, get_connection

from outbox import services
from outbox.models import OutgoingEmail

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
THEN = NOW - dt.timedelta(days=20)


def held(settings) -> OutgoingEmail:
    """Store an e-mail written twenty days ago and held back from the workers."""
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 2
    message = EmailMessage(subject="Raportti", body="Hei!", to=["owner@kahvila.example"])
    return services.queue_email(message=message, kind="test", reference="test:1", send=services.BY_CALLER, now=THEN)


def smtp():
    return get_connection("django.core.mail.backends.smtp.EmailBackend")


def test_a_held_email_sent_as_of_its_moment_reaches_the_server_as_composed_and_is_recorded_then(
    settings, scripted_smtp, mailoutbox
):
    # given an e-mail held back
    email = held(settings)

    # when it is sent as of a few seconds after it was written, through the SMTP server
    sent = services.deliver_as_of(email, at=THEN + dt.timedelta(seconds=3), connection=smtp())

    # then the server has it with its own Message-ID, and it was sent then, at the first attempt
    assert scripted_smtp.message_ids() == [email.message_id]
    assert (sent.status, sent.sent_at, sent.attempts, sent.last_error) == (
        OutgoingEmail.Status.SENT,
        THEN + dt.timedelta(seconds=3),
        1,
        "",
    )


def test_a_refusal_for_good_fails_at_once_with_the_servers_answer(settings, scripted_smtp):
    # given an e-mail held back, and a server that refuses its message for good
    email = held(settings)
    scripted_smtp.data_replies = ["554 5.7.1 Message rejected"]

    # when it is sent as of its moment
    failed = services.deliver_as_of(email, at=THEN, connection=smtp())

    # then it failed at once, with the answer, and is never tried again
    assert (failed.status, failed.sent_at, failed.attempts) == (OutgoingEmail.Status.FAILED, None, 1)
    assert failed.last_error == "SMTPDataError: 554 5.7.1 Message rejected"
    assert services.deliver_as_of(failed, at=THEN + dt.timedelta(hours=1), connection=smtp()).attempts == 1


def test_a_refusal_for_now_waits_for_the_back_off_and_fails_after_the_last_attempt(settings, scripted_smtp):
    # given an e-mail held back, allowed two attempts, and a server busy twice
    email = held(settings)
    scripted_smtp.data_replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]

    # when it is sent as of its moment, and again when its next attempt is due
    first = services.deliver_as_of(email, at=THEN, connection=smtp())
    waiting = (first.status, first.next_attempt_at)
    last = services.deliver_as_of(first, at=first.next_attempt_at, connection=smtp())

    # then it waited for the back-off (30 s doubling, halved by the jitter at most) and then failed
    assert waiting[0] == OutgoingEmail.Status.QUEUED
    assert THEN + dt.timedelta(seconds=15) <= waiting[1] <= THEN + dt.timedelta(seconds=30)
    assert (last.status, last.attempts, last.sent_at) == (OutgoingEmail.Status.FAILED, 2, None)
    assert last.last_error.startswith("SMTPDataError: 451")
