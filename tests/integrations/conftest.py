"""A client's webhook receiver on loopback: http.server in a thread, verifying with the documented snippet."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conversations import services
from conversations.models import Visitor
from integrations.models import EventType, WebhookEndpoint

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_snippet(language: str) -> str:
    """Return the receiver's code block of the language from docs/webhooks.md."""
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == 1, f"docs/webhooks.md should hold one {language} snippet"
    return blocks[0]


def documented_python_verifier() -> dict:
    """Run the documented Python snippet; return its names (verify_webhook, WebhookRefused)."""
    names: dict = {}
    exec(compile(documented_snippet("python"), str(DOCS), "exec"), names)  # noqa: S102 (our own documentation)
    return names


@dataclass
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    status: int
    refusal: str = ""
    event: dict | None = None


@dataclass
class Receiver:
    """What the client's receiver knows (its secret) and how it answers (codes and delays, in order)."""

    secret: str
    port: int = 0
    answers: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chatops"

    def accepted(self) -> list[Received]:
        return [request for request in self.received if 200 <= request.status < 300]

    def answer(self, headers, body: bytes) -> Received:
        verifier = documented_python_verifier()
        with self.lock:
            delay = self.delays.pop(0) if self.delays else 0
        time.sleep(delay)
        try:
            event = verifier["verify_webhook"](body=body, headers=headers, secret=self.secret)
        except verifier["WebhookRefused"] as refusal:
            received = Received(dict(headers.items()), body, 400, refusal=str(refusal))
        else:
            with self.lock:
                status = self.answers.pop(0) if self.answers else 204
            received = Received(dict(headers.items()), body, status, event=event)
        with self.lock:
            self.received.append(received)
        return received


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received = receiver.answer(self.headers, body)
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout) leaves a broken pipe: expected here


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    """Start a receiver on a free loopback port (its secret is set by the test); stop it after.

    Webhooks go to loopback and over plain http only where allowed: here, on purpose.
    """
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["127.0.0.1"]
    receiver = Receiver(secret="")
    server = QuietServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def endpoint(tenant, receiver) -> WebhookEndpoint:
    """An active endpoint of the tenant that wants every event, with the receiver knowing its secret."""
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant, name="CRM", url=receiver.url, events=list(EventType.values), active=True
    )
    receiver.secret = endpoint.secret
    return endpoint


@pytest.fixture
def running_chat(tenant, agent):
    visitor = Visitor.objects.create(tenant=tenant, name="Maija", email="maija@example.fi")
    conversation = services.start_conversation(tenant=tenant, visitor=visitor)
    services.post_visitor_message(conversation=conversation, body="Hei, voinko tilata catering-palvelun?")
    services.post_agent_message(conversation=conversation, agent=agent, body="Hei! Kerro lisää.")
    conversation.refresh_from_db()
    return conversation


LEAD = {"name": "Maija Meikäläinen", "email": "maija@example.fi", "phone": "", "wants": "Catering for 40"}
