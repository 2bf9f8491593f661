"""Hand one stored message to the mail server, telling the caller just before the end of the message goes out.

Django's SMTP backend sends a message in one call. Here the mail transaction is spelled out so the
outbox can record "handed over" under its lease right before the end of DATA (the moment after
which the server may accept the message) and "sent" right after the server's 250, before QUIT.
The connection itself is opened by Django's backend, with the EMAIL_* settings.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from contextlib import suppress

from django.core.mail.backends.smtp import EmailBackend

LINE_START_DOT = re.compile(rb"(?m)^\.")
END_OF_DATA = b".\r\n"


class HandoverRefused(Exception):
    """The caller may not send the message any more (its lease was lost); nothing was handed over."""


def _dot_stuffed(message: bytes) -> bytes:
    """Return the message as DATA carries it: a dot doubled at the start of a line, CRLF at the end."""
    stuffed = LINE_START_DOT.sub(b"..", message)
    return stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"


def _mail_transaction(
    connection: smtplib.SMTP, *, sender: str, recipients: list[str], message: bytes, on_handover: Callable[[], None]
) -> dict[str, tuple[int, bytes]]:
    """Run MAIL, RCPT and DATA; return the recipients the server refused while it took the others."""
    connection.ehlo_or_helo_if_needed()
    code, reply = connection.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = connection.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = connection.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    connection.send(_dot_stuffed(message))
    # Without the end of data the server keeps nothing: refusing here sends nothing.
    on_handover()
    connection.send(END_OF_DATA)
    code, reply = connection.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return refused


def send_message(
    *,
    sender: str,
    recipients: list[str],
    message: bytes,
    on_handover: Callable[[], None],
    on_accepted: Callable[[dict[str, tuple[int, bytes]]], None],
) -> None:
    """Send a stored message over SMTP; call ``on_handover`` before the end of data, ``on_accepted`` after the 250.

    ``on_handover`` may raise HandoverRefused to stop: the connection is then dropped without the end
    of data. ``on_accepted`` runs before QUIT, so a slow goodbye cannot delay recording the success;
    errors after it (QUIT) are ignored. SMTP and connection errors before it are raised.
    """
    backend = EmailBackend(fail_silently=False)
    backend.open()
    connection, clean = backend.connection, False
    try:
        refused = _mail_transaction(
            connection, sender=sender, recipients=recipients, message=message, on_handover=on_handover
        )
        clean = True
        on_accepted(refused)
    finally:
        if clean:
            with suppress(Exception):
                backend.close()
        else:
            # QUIT in the middle of DATA would become part of the message; just drop the connection.
            with suppress(Exception):
                connection.close()
            backend.connection = None
