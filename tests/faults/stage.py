"""The stage of a fault test: a tenant open now, agents on shift, the processes, the clients, and the checks.

The checks are the issue's (10): per message id, what is stored was shown on both sides (the visitor's
widget and the console of the chat's agent), in every conversation without a gap, none shown twice; what a
client sent was stored once or refused with a reason, never dropped; and no agent is online without a live
console.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.test import Client
from django.utils import timezone

from conversations.models import Conversation, Message
from tenants.models import ServiceHours
from tests import factories
from tests.faults.clients import ClientLoop, Console, Widget
from tests.processes import FRONT_DOOR, DaphneServer
from workforce.models import Agent
from workforce.services import plan_shift

SITE = "http://site.example"
# Clocks for the processes a fault test starts (seconds; the defaults are 20, 30, 2, 5, 30, 60, 5 and 150).
# Consoles ping every second here; the machine may be busy, so the windows leave a few seconds' room.
QUICK_CLOCKS = {
    "CHAT_CONSOLE_PROBE_AFTER": "3",
    "CHAT_CONSOLE_CLOSE_AFTER": "5",
    "CHAT_CONSOLE_WATCH_EVERY": "0.25",
    "CHAT_CONSOLE_TOUCH_EVERY": "0.5",
    "CHAT_CONSOLE_ALIVE_SECONDS": "5",
    "CHAT_AGENT_GRACE_SECONDS": "8",
    "CHAT_CLOCK_EVERY": "1",
    "CHAT_VISITOR_SOCKET_SILENCE_SECONDS": "5",
}
# Every visitor comes from 127.0.0.1 and writes fast: the widget's per-visitor and per-address limits
# are not what these tests attack.
NO_VISITOR_LIMITS = {"CHAT_MESSAGES_PER_VISITOR_PER_MINUTE": "100000", "CHAT_CONVERSATIONS_PER_IP_PER_HOUR": "100000"}


def eventually(check: Callable[[], Any], *, within: float, what: str) -> Any:
    """Return check()'s first truthy result, polling; raise AssertionError with its last answer after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        time.sleep(0.2)


@dataclass
class Stage:
    """One tenant, its agents and their consoles, its visitors' widgets, and the servers they reach."""

    loop: ClientLoop
    tenant: Any = None
    servers: list[DaphneServer] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)
    consoles: dict[int, Console] = field(default_factory=dict)  # agent id -> console
    ping_every: float = 1.0

    def live_urls(self) -> list[str]:
        """Where a reconnecting client goes: the servers still running, as a load balancer would."""
        return [server.ws_url for server in self.servers if server.process.poll() is None]

    def pinned(self, server: DaphneServer, *, only: bool = False) -> Callable[[], list[str]]:
        """Send a client to this server while it runs, then to the others (`only`: never to another)."""
        return lambda: [server.ws_url] if only or server.process.poll() is None else self.live_urls()

    def open_tenant(self) -> None:
        self.tenant = factories.make_tenant(name="Fault Oy", slug="fault", language="en", allowed_origins=SITE)
        # A slow first answer under attack must not send chats back to the queue: that is another clock.
        self.tenant.first_response_target_seconds = 600
        self.tenant.save(update_fields=["first_response_target_seconds"])
        for weekday in range(7):
            ServiceHours.objects.create(tenant=self.tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))

    def agent_on_shift(self, name: str, *, max_chats: int) -> Agent:
        agent = factories.make_agent(trained_for=[self.tenant], display_name=name, max_concurrent_chats=max_chats)
        now = timezone.now()
        with transaction.atomic():
            plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
        return agent

    def console(
        self, agent: Agent, *, servers: Callable[[], list[str]] | None = None, receive_buffer: int | None = None
    ) -> Console:
        """Open the agent's console (it goes online) on one of the servers and wait for its welcome.

        receive_buffer: the console's TCP receive buffer in bytes (small: what it does not read backs up soon).
        """
        client = Client()
        client.force_login(agent.user)
        console = Console(
            agent.display_name,
            servers or self.live_urls,
            cookie=f"sessionid={client.cookies['sessionid'].value}",
            origin=FRONT_DOOR,
            ping_every=self.ping_every,
        )
        console.receive_buffer = receive_buffer
        self.consoles[agent.pk] = console
        self.loop.start(console)
        eventually(lambda: self.loop.call(lambda: console.welcomed), within=15, what=f"{agent} welcomed")
        eventually(lambda: agent_presence(agent) == Agent.Presence.ONLINE, within=10, what=f"{agent} online")
        return console

    def widget(self, name: str, *, servers: Callable[[], list[str]] | None = None) -> Widget:
        widget = Widget(
            name, servers or self.live_urls, key=self.tenant.widget_key, origin=SITE, ping_every=self.ping_every
        )
        self.widgets.append(widget)
        self.loop.start(widget)
        return widget

    def write(self, widget: Widget, body: str) -> str:
        return self.loop.call(lambda: widget.write(body))

    def traffic(self, *, seconds: float, every: float, widgets: list[Widget] | None = None) -> Future:
        """Have each widget write a line every `every` seconds (spread) for `seconds`; return when it ends."""
        return asyncio.run_coroutine_threadsafe(self._chatter(widgets or self.widgets, seconds, every), self.loop.loop)

    async def _chatter(self, widgets: list[Widget], seconds: float, every: float) -> int:
        written, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            for widget in widgets:
                widget.write(f"line {written} from {widget.name}")
                written += 1
                await asyncio.sleep(every / len(widgets))
        return written

    def all_clients(self) -> list:
        return [*self.widgets, *self.consoles.values()]

    # --- the checks ---------------------------------------------------------------------------

    def differences(self, conversations: list[int] | None = None) -> list[str]:
        """Say what the clients show that differs from what is stored (empty: nothing lost, nothing twice).

        conversations: only these chats (and no widget's outbox), else all the tenant's.
        """
        stored = stored_messages(self.tenant)
        if conversations is not None:
            stored = {pk: messages for pk, messages in stored.items() if pk in conversations}
        owners = dict(Conversation.objects.for_tenant(self.tenant).values_list("pk", "agent_id"))
        return self.loop.call(lambda: self._differences(stored, owners, whole=conversations is None))

    def _differences(
        self, stored: dict[int, dict[int, tuple]], owners: dict[int, int | None], *, whole: bool
    ) -> list[str]:
        problems = []
        widget_of = {conversation: w for w in self.widgets for conversation in w.shown}
        for conversation, messages in stored.items():
            if list(messages) != list(range(1, len(messages) + 1)):
                problems.append(f"chat {conversation}: stored numbers have a gap: {sorted(messages)}")
            if owners.get(conversation) is None:
                problems.append(f"chat {conversation}: no agent has it")
            sides = {"widget": widget_of.get(conversation)}
            console = self.consoles.get(owners.get(conversation))
            sides["console"] = console.chats.get(conversation) if console is not None else None
            for side, client in sides.items():
                shown = getattr(client, "shown", None)
                if isinstance(shown, dict):  # a widget: its conversations
                    shown = shown.get(conversation)
                if shown is None:
                    problems.append(f"chat {conversation}: no {side} shows it")
                    continue
                seen = {seq: (m["sender"], m["body"]) for seq, m in shown.messages.items()}
                missing = sorted(set(messages) - set(seen))
                wrong = sorted(seq for seq in set(messages) & set(seen) if seen[seq] != messages[seq][:2])
                extra = sorted(set(seen) - set(messages))
                if missing or wrong or extra:
                    problems.append(f"chat {conversation} {side}: missing {missing}, wrong {wrong}, not stored {extra}")
                ids = [m["client_msg_id"] for m in shown.messages.values() if m["client_msg_id"]]
                if len(ids) != len(set(ids)):
                    problems.append(f"chat {conversation} {side}: a message id shown twice")
        stored_ids = [row[2] for messages in stored.values() for row in messages.values() if row[2]]
        if len(stored_ids) != len(set(stored_ids)):
            problems.append("a client message id stored twice")
        if not whole:
            return problems
        for widget in self.widgets:
            unsent = [cid for cid, _body in widget.outbox]
            if unsent:
                problems.append(f"widget {widget.name}: not acknowledged yet: {unsent[:5]}")
            not_stored = widget.sent - set(stored_ids)
            if not_stored:
                problems.append(f"widget {widget.name}: sent, not stored: {sorted(not_stored)[:5]}")
        for console in self.consoles.values():
            if console.outbox and console.connected:
                problems.append(f"console {console.name}: not acknowledged yet: {list(console.outbox)[:5]}")
        return problems

    def assert_all_delivered(self, *, within: float, conversations: list[int] | None = None) -> None:
        """Wait until every stored message shows on both sides, once, without gaps; fail with the differences.

        conversations: only these chats, else all the tenant's (see ``differences``).
        """
        last: list[str] = []

        def settled() -> bool:
            last[:] = self.differences(conversations)
            return not last

        try:
            eventually(settled, within=within, what="stored = shown on both sides")
        except AssertionError as error:
            errors = self.loop.call(lambda: sum((client.errors for client in self.all_clients()), Counter()))
            consoles = self.loop.call(lambda: "\n".join(console.describe() for console in self.consoles.values()))
            crashes = "".join(server_crashes(server) for server in self.servers)
            raise AssertionError(
                f"{error}:\n" + "\n".join(last[:30]) + f"\nclients' errors: {errors}\n{consoles}\n{crashes}"
            ) from None

    def agents_online_without_a_console(self) -> list[str]:
        """Name the agents the database has online whose console is not connected."""
        online = list(Agent.objects.filter(presence=Agent.Presence.ONLINE).values_list("pk", "display_name"))

        def without() -> list[str]:
            return [name for pk, name in online if pk not in self.consoles or not self.consoles[pk].connected]

        return self.loop.call(without)

    def counted(self, attribute: str) -> int:
        return self.loop.call(lambda: sum(getattr(client, attribute) for client in self.all_clients()))


def server_crashes(server: DaphneServer) -> str:
    """Return the last traceback a daphne process logged (what ended a connection), or nothing."""
    log = server.output()
    start = log.rfind("Traceback")
    return f"\n{server.url} logged:\n{log[start : start + 3000]}" if start >= 0 else ""


def stored_messages(tenant) -> dict[int, dict[int, tuple[str, str, str]]]:
    """Return every stored message of the tenant: conversation -> seq -> (sender, body, client_msg_id)."""
    stored: dict[int, dict[int, tuple[str, str, str]]] = {}
    rows = Message.objects.for_tenant(tenant).order_by("conversation_id", "seq")
    for conversation, seq, sender, body, client_msg_id in rows.values_list(
        "conversation_id", "seq", "sender", "body", "client_msg_id"
    ):
        stored.setdefault(conversation, {})[seq] = (sender, body, client_msg_id)
    return stored


def agent_presence(agent: Agent) -> str:
    return Agent.objects.filter(pk=agent.pk).values_list("presence", flat=True).get()


def chats_of(agent: Agent) -> list[int]:
    return list(
        Conversation.objects.filter(agent=agent, status=Conversation.Status.ACTIVE).values_list("pk", flat=True)
    )
