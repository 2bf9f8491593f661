"""A mail server on loopback that answers as a test tells it to."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tests.conftest import free_port


class ScriptedServer:
    """Keep every message the server accepts; answer the end of DATA from a script, then with 250.

    ``data_replies``: one entry per message, in order: an SMTP reply ("451 …", "554 …"), or "drop" to
    keep the message (the server has it) but close the connection without an answer. ``refuse``:
    addresses refused at RCPT with 550.
    """

    def __init__(self) -> None:
        self.accepted: list = []
        self.data_replies: list[str] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.data_replies.pop(0) if self.data_replies else "250 Message accepted for delivery"
        if reply.startswith("250") or reply == "drop":
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.accepted.append({"to": list(envelope.rcpt_tos), "message": message})
        if reply == "drop":
            server.transport.close()
        return reply

    def message_ids(self) -> list[str]:
        return [sent["message"]["Message-ID"] for sent in self.accepted]


@pytest.fixture
def scripted_smtp(settings):
    """Run a ScriptedServer on loopback and point Django's SMTP backend at it; yield the server."""
    from aiosmtpd.controller import Controller

    handler = ScriptedServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()
