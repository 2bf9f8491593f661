"""A mail server on loopback that answers as a test tells it to."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tests.conftest import mail_server_on_loopback


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
    handler = ScriptedServer()
    settings.EMAIL_TIMEOUT = 5
    with mail_server_on_loopback(handler, settings):
        yield handler
