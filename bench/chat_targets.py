"""The two systems `bench/chat_load.py` drives: the product (daphne) and the bare relay, each behind an adapter.

An adapter starts and stops its server processes, writes the frames of its protocol and reads the server's
frames into the load client's events (`load_client.Event`, `Reaction`), and answers the accounting: the rows
stored per message id and the SQL statements its processes ran. The protocol lives only here, so a change
of the product's frames is a change of `Product` alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import http.client
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from load_client import Delivery, Event, Reaction

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
ORIGIN = "http://bench.example"
CONSOLE_ORIGIN = "http://127.0.0.1"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def _die_with_parent() -> None:
    # A server outlives a bench killed outright (SIGKILL) unless the kernel ends it with its parent.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def rss_kib(pid: int) -> int:
    """Return a process's resident memory in KiB (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used, in seconds (0 once it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        # Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


class Target:
    """Server processes on loopback ports, started from the event loop's thread (see `_die_with_parent`)."""

    name = ""
    stats_path = ""
    # Seconds between the clients' periodic frames (heartbeats, sync requests); 0: none.
    tick_seconds = 0.0

    def __init__(self, *, database_url: str, redis_url: str, log_dir: Path) -> None:
        self.database_url, self.redis_url, self.log_dir = database_url, redis_url, log_dir
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen | None] = []

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    async def start_servers(self, ports: list[int]) -> None:
        self.ports, self.processes = list(ports), [None] * len(ports)
        for index in range(len(ports)):
            await self.start_server(index)

    async def start_server(self, index: int) -> None:
        port = self.ports[index]
        log = (self.log_dir / f"{self.name}-{port}.log").open("ab")
        self.processes[index] = subprocess.Popen(
            self.command(port),
            cwd=ROOT,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Started from the event loop's (main) thread only: the death signal follows the starting thread.
            preexec_fn=_die_with_parent,
        )
        log.close()
        await self._until_answering(index)

    async def _until_answering(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        while loop.time() < deadline:
            if self.processes[index].poll() is not None:
                raise RuntimeError(f"{self.name} on port {self.ports[index]} exited: {self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if (await asyncio.to_thread(http_get, self.ports[index], self.stats_path, 2.0))[0] == 200:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} on port {self.ports[index]} did not answer: {self.log_tail()}")

    def log_tail(self) -> str:
        logs = sorted(self.log_dir.glob(f"{self.name}-*.log"))
        return "\n".join(log.read_text(errors="replace")[-1500:] for log in logs[-2:])

    async def stop_server(self, index: int) -> None:
        process = self.processes[index]
        if process is None or process.poll() is not None:
            return
        process.terminate()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT
        while process.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    async def stop_servers(self) -> None:
        for index in range(len(self.processes)):
            await self.stop_server(index)

    def kill(self) -> None:
        """Stop every server at once (the bench's last resort on failure or Ctrl-C)."""
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=5)

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process is not None]

    def rss_kib(self) -> list[int]:
        return [rss_kib(pid) for pid in self.pids()]

    def cpu_seconds(self) -> float:
        """Return the CPU time all server processes have used so far (the load client's is not in it)."""
        return sum(cpu_seconds(pid) for pid in self.pids())

    async def statement_counts(self) -> dict[str, int]:
        """Return the SQL statements all server processes have run, by text, summed."""
        total: dict[str, int] = {}
        for port in self.ports:
            status, body = await asyncio.to_thread(http_get, port, self.stats_path)
            if status != 200:
                raise RuntimeError(f"{self.name} on port {port} answered {status} for its statement counts")
            for statement, count in json.loads(body)["statements"].items():
                total[statement] = total.get(statement, 0) + count
        return total

    async def stored(self, prefix: str) -> dict[str, int]:
        """Return the rows stored per message id starting with the prefix."""
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as connection:
            rows = await connection.execute(*self.stored_query(prefix))
            return {cid: count async for cid, count in rows}

    def stored_query(self, prefix: str) -> tuple[str, list]:
        raise NotImplementedError

    def visitor_tick(self, link) -> list[dict[str, Any]]:
        """Return the frames a visitor sends every `tick_seconds`."""
        return []

    def console_tick(self, console) -> Reaction:
        """Return what a console sends every `tick_seconds`."""
        return Reaction()

    def port_of_visitor(self, link) -> int:
        # Visitors and consoles start on different processes, so with two a message crosses Redis.
        return self.ports[(link.index + 1) % len(self.ports)]

    def port_of_console(self, console) -> int:
        return self.ports[console.index % len(self.ports)]


@dataclass
class ChatView:
    """What one console holds of a chat: the numbers it has, and up to which they run without a gap."""

    through: int = 0
    above: set[int] = field(default_factory=set)
    loaded: bool = False
    resyncing: bool = False

    def note(self, seq: int) -> None:
        if seq > self.through:
            self.above.add(seq)
        while self.through + 1 in self.above:
            self.above.remove(self.through + 1)
            self.through += 1


class Product(Target):
    """chatops as deployed: daphne processes on one Redis channel layer, the widget's and console's frames."""

    name = "product"
    stats_path = "/bench/sql-counts/"

    def __init__(self, *, agents: int, chats_per_agent: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.agents, self.chats_per_agent = agents, chats_per_agent
        self.widget_key, self.cookies, self.tenant_id = "", [], 0

    def prepare(self) -> None:
        """Create the bench tenant and its agents (online, on shift, trained), each with a session cookie."""
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone

        from accounts import roles
        from tenants.models import ServiceHours, Tenant
        from workforce.models import Agent, Qualification, Shift

        Tenant.objects.filter(slug="bench").delete()
        get_user_model().objects.filter(username__startswith="bench-agent-").delete()
        tenant = Tenant.objects.create(name="Bench", slug="bench", allowed_origins=ORIGIN, status=Tenant.Status.LIVE)
        for weekday in range(7):
            ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))
        now = timezone.now()
        self.cookies = []
        for n in range(self.agents):
            user = get_user_model().objects.create_user(username=f"bench-agent-{n}")
            roles.grant_role(user, roles.AGENT)
            agent = Agent.objects.create(
                user=user,
                display_name=f"Bench {n}",
                max_concurrent_chats=self.chats_per_agent,
                presence=Agent.Presence.ONLINE,
                last_seen_at=now,
            )
            Qualification.objects.create(
                agent=agent, tenant=tenant, training_started_on=now.date(), training_completed_on=now.date()
            )
            Shift.objects.create(
                agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=8)
            )
            session = SessionStore()
            # The backend that loads users (the first one, django-axes', only refuses locked-out sign-ins).
            session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[-1]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            self.cookies.append(f"sessionid={session.session_key}")
        self.widget_key, self.tenant_id = tenant.widget_key, tenant.pk

    def reset(self) -> None:
        """Remove the previous session's visitors (their conversations and messages go with them)."""
        from conversations.models import Visitor
        from tenants.models import Tenant

        Visitor.objects.for_tenant(Tenant.objects.get(pk=self.tenant_id)).delete()

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatops.asgi:application"]

    def environment(self) -> dict[str, str]:
        from django.conf import settings

        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.counting_settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # The consoles' session cookies were made with this process's key.
            "SECRET_KEY": settings.SECRET_KEY,
            "SECURE_SSL_REDIRECT": "0",
            "CONN_MAX_AGE": "60",
            # The limits stay in the path (their queries run); the bench only must not reach them.
            "CHAT_CONVERSATIONS_PER_IP_PER_HOUR": "1000000000",
            "CHAT_MESSAGES_PER_VISITOR_PER_MINUTE": "1000000000",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The consoles' origin (console_options): their sockets are let in only from chatops' own origins.
            "OWN_ORIGINS": CONSOLE_ORIGIN,
            "PYTHONUNBUFFERED": "1",
        }

    def stored_query(self, prefix: str) -> tuple[str, list]:
        return (
            "SELECT client_msg_id, count(*) FROM conversations_message"
            " WHERE tenant_id = %s AND starts_with(client_msg_id, %s) GROUP BY client_msg_id",
            [self.tenant_id, prefix],
        )

    # The widget's side. Like widget.js: it keeps the number up to which it has every message of its chat
    # and resumes from that; it pings every 20 s and fetches what a pong shows it missed; `overloaded`
    # keeps the message and sends it again after `retry_after`.
    tick_seconds = 10.0  # the console's ping; the widget pings every other tick

    def _view(self, link, conversation: int | None = None) -> ChatView:
        """Return the visitor's view of its chat (a new one when the chat is another)."""
        memo = link.memo
        if conversation and memo.get("conversation") != conversation:
            memo["conversation"], memo["view"] = conversation, ChatView(loaded=True)
        return memo.setdefault("view", ChatView(loaded=True))

    def visitor_url(self, link) -> str:
        return f"ws://127.0.0.1:{self.port_of_visitor(link)}/ws/widget/{self.widget_key}/"

    def visitor_options(self, link) -> dict[str, Any]:
        return {"origin": ORIGIN}

    def visitor_hello(self, link) -> list[dict[str, Any]]:
        """Return the frames a widget sends on every new socket: the first page's hello, or one that resumes."""
        if not link.token:
            return [{"type": "hello", "url": f"{ORIGIN}/pricing", "title": "Pricing"}]
        view = self._view(link)
        view.resyncing = False
        return [{"type": "hello", "token": link.token, "last_seq": view.through}]

    def visitor_tick(self, link) -> list[dict[str, Any]]:
        link.memo["ticks"] = link.memo.get("ticks", 0) + 1
        return [{"type": "ping"}] if link.memo["ticks"] % 2 == 0 else []

    def visitor_message(self, link, cid: str, body: str) -> dict[str, Any]:
        return {"type": "message", "body": body, "client_msg_id": cid}

    def _noted(self, link, conversation: int, seqs) -> ChatView:
        view = self._view(link, conversation)
        for seq in seqs:
            view.note(seq)
        return view

    def visitor_event(self, link, frame: dict[str, Any]) -> Event | None:
        kind = frame.get("type")
        if kind == "welcome":
            conversation = (frame.get("conversation") or {}).get("id", 0)
            view = self._noted(link, conversation, (message["seq"] for message in frame.get("messages", [])))
            return Event("welcome", token=frame["token"], conversation=conversation, seq=view.through)
        if kind == "conversation":
            self._view(link, frame["conversation"]["id"])
            return Event("conversation", conversation=frame["conversation"]["id"])
        if kind == "ack":
            self._noted(link, link.conversation, [frame["seq"]])
            return Event("ack", cid=frame["client_msg_id"], seq=frame["seq"])
        if kind == "error":
            if frame.get("code") == "overloaded" and frame.get("client_msg_id"):
                return Event("retry", cid=frame["client_msg_id"], after=float(frame.get("retry_after") or 2))
            if frame.get("client_msg_id"):
                return Event("refused", cid=frame["client_msg_id"], code=frame["code"])
            return Event("error", code=frame["code"])
        if kind == "message":
            self._noted(link, frame["conversation"], [frame["seq"]])
            if frame.get("sender") == "visitor":
                return Event("echo", cid=frame.get("client_msg_id", ""), seq=frame["seq"])
            return Event("seen", seq=frame["seq"])
        if kind == "history" and frame.get("conversation"):
            view = self._noted(link, frame["conversation"], (message["seq"] for message in frame["messages"]))
            view.resyncing = False
            return Event("seen", seq=view.through)
        if kind == "pong":
            return self._visitor_pong(link, frame.get("conversation"))
        return None

    def _visitor_pong(self, link, state: dict[str, Any] | None) -> Event | None:
        """Fetch a lost tail (resume), or say hello again when the pong names another chat."""
        if state is None:
            return None
        if state["id"] != link.conversation:
            return Event("seen", replies=tuple(self.visitor_hello(link)))
        view = self._view(link, state["id"])
        if state["last_seq"] > view.through and not view.resyncing:
            view.resyncing = True
            return Event("seen", replies=({"type": "resume", "last_seq": view.through},))
        return None

    # The console's side: open every chat of one's own, take the waiting chats this console owns.
    def console_url(self, console) -> str:
        return f"ws://127.0.0.1:{self.port_of_console(console)}/ws/console/"

    def console_options(self, console) -> dict[str, Any]:
        return {"origin": CONSOLE_ORIGIN, "additional_headers": {"Cookie": self.cookies[console.index]}}

    def console_hello(self, console) -> Reaction:
        # Like the console page, keep what was loaded across a reconnect and open the chats again from there.
        console.memo.setdefault("chats", {})
        console.memo["opened"] = set()
        console.memo["refreshing"] = False
        for chat in console.memo["chats"].values():
            chat.resyncing = False
        return Reaction(replies=[{"type": "hello"}])

    def _open(self, console, conversation: int, *, again: bool = False) -> list[dict[str, Any]]:
        if conversation in console.memo["opened"] and not again:
            return []
        console.memo["opened"].add(conversation)
        chat = console.memo["chats"].setdefault(conversation, ChatView())
        return [{"type": "open", "conversation": conversation, "last_seq": chat.through if chat.loaded else 0}]

    def console_tick(self, console) -> Reaction:
        return Reaction(replies=[{"type": "ping"}])

    def _listed(self, console, frame: dict[str, Any]) -> None:
        """Keep the lists the console shows (its chats, the queue) as the frames change them."""
        kind, conversation = frame["type"], frame.get("conversation")
        mine, queue = console.memo.setdefault("mine", set()), console.memo.setdefault("queue", set())
        if kind in ("welcome", "state"):
            mine.clear()
            mine.update(chat["conversation"] for chat in frame["chats"])
            queue.clear()
            queue.update(chat["conversation"] for chat in frame["queue"])
            console.memo["refreshing"] = False
            return
        if kind != "queue":  # a queue frame says nothing of whose the chat is
            ours = kind == "assigned" and frame.get("agent") == console.memo.get("agent")
            (mine.add if ours else mine.discard)(conversation)
        waiting = kind == "requeued" or (kind == "queue" and frame.get("status") == "waiting")
        (queue.add if waiting else queue.discard)(conversation)

    def _console_pong(self, console, frame: dict[str, Any], reaction: Reaction) -> None:
        """Fetch each lost tail the pong shows; ask for the whole state when its lists differ from ours."""
        for key, last in frame["conversations"].items():
            chat = console.memo["chats"].get(int(key))
            if chat is not None and chat.loaded and not chat.resyncing and last > chat.through:
                chat.resyncing = True
                reaction.replies += self._open(console, int(key), again=True)
        differ = set(frame["chats"]) != console.memo["mine"] or set(frame["queue"]) != console.memo["queue"]
        if differ and not console.memo["refreshing"]:
            console.memo["refreshing"] = True
            reaction.replies.append({"type": "hello"})

    def _take_if_owned(self, console, chat: dict[str, Any]) -> list[dict[str, Any]]:
        owned = chat["conversation"] % self.agents == console.index
        return [{"type": "take", "conversation": chat["conversation"]}] if owned and chat["status"] == "waiting" else []

    def _live(self, console, frame: dict[str, Any], reaction: Reaction) -> None:
        """Note a pushed message; a skipped number means one was missed: fetch from the gap, as the console does."""
        conversation = frame["conversation"]
        chat = console.memo["chats"].setdefault(conversation, ChatView())
        chat.note(frame["seq"])
        if chat.loaded and not chat.resyncing and frame["seq"] > chat.through + 1:
            chat.resyncing = True
            reaction.replies += self._open(console, conversation, again=True)
        if frame.get("sender") == "visitor":
            reaction.deliveries.append(Delivery(frame["type"], frame["body"]))

    def console_event(self, console, frame: dict[str, Any]) -> Reaction:
        kind, reaction = frame.get("type"), Reaction()
        if kind in ("welcome", "state", "assigned", "withdrawn", "closed", "requeued", "queue"):
            self._listed(console, frame)
        if kind in ("welcome", "state"):
            console.memo["agent"] = frame["agent"]["id"]
            for chat in frame["chats"]:
                reaction.replies += self._open(console, chat["conversation"])
            for chat in frame["queue"]:
                reaction.replies += self._take_if_owned(console, chat)
            reaction.ready = kind == "welcome"
        elif kind == "assigned" and frame.get("agent") == console.memo.get("agent"):
            reaction.replies += self._open(console, frame["conversation"])
        elif kind == "queue":
            reaction.replies += self._take_if_owned(console, frame)
        elif kind == "withdrawn":
            console.memo["opened"].discard(frame["conversation"])
        elif kind == "history":
            conversation = frame["conversation"]["conversation"]
            chat = console.memo["chats"].setdefault(conversation, ChatView())
            chat.loaded, chat.resyncing = True, False
            reaction.followed.append(conversation)
            for message in frame["messages"]:
                chat.note(message["seq"])
                if message["sender"] == "visitor":
                    reaction.deliveries.append(Delivery("history", message["body"], live=False))
        elif kind in ("message", "activity"):
            self._live(console, frame, reaction)
        elif kind == "pong":
            self._console_pong(console, frame, reaction)
        elif kind == "probe":
            reaction.replies.append({"type": "ping"})
        elif kind == "error":
            reaction.error = frame.get("code", "error")
        return reaction

    def follow(self, console, conversation: int) -> list[dict[str, Any]]:
        return []  # the product routes chats itself; consoles open what they are given


class BareRelay(Target):
    """The baseline: `bench/bare_relay.py` processes on the same PostgreSQL and Redis."""

    name = "baseline"
    stats_path = "/stats"

    def prepare(self) -> None:
        """Create the relay's two tables (before its processes start, so two never race to create them)."""
        from bare_relay import TABLES

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            for statement in TABLES:
                connection.execute(statement)

    def reset(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute("TRUNCATE bare_message, bare_conversation")

    def command(self, port: int) -> list[str]:
        return [
            sys.executable,
            str(BENCH / "bare_relay.py"),
            f"--port={port}",
            f"--database-url={self.database_url}",
            f"--redis-url={self.redis_url}",
        ]

    def stored_query(self, prefix: str) -> tuple[str, list]:
        return "SELECT client_msg_id, count(*) FROM bare_message WHERE starts_with(client_msg_id, %s) GROUP BY 1", [
            prefix
        ]

    def visitor_url(self, link) -> str:
        return f"ws://127.0.0.1:{self.port_of_visitor(link)}/visitor"

    def visitor_options(self, link) -> dict[str, Any]:
        return {}

    def visitor_hello(self, link) -> list[dict[str, Any]]:
        return [{"type": "hello", "conversation": link.conversation, "last_seq": link.last_seq}]

    def visitor_message(self, link, cid: str, body: str) -> dict[str, Any]:
        return {"type": "message", "body": body, "client_msg_id": cid}

    def visitor_event(self, link, frame: dict[str, Any]) -> Event | None:
        if frame["type"] == "welcome":
            seqs = [message["seq"] for message in frame["messages"]]
            return Event("welcome", conversation=frame["conversation"], seq=max(seqs, default=0))
        if frame["type"] == "ack":
            return Event("ack", cid=frame["client_msg_id"], seq=frame["seq"])
        return None

    def console_url(self, console) -> str:
        return f"ws://127.0.0.1:{self.port_of_console(console)}/agent"

    def console_options(self, console) -> dict[str, Any]:
        return {}

    def console_hello(self, console) -> Reaction:
        # After a reconnect, follow again what this console followed before.
        following = console.memo.setdefault("following", set())
        return Reaction(replies=[{"type": "follow", "conversation": c} for c in sorted(following)], ready=True)

    def console_event(self, console, frame: dict[str, Any]) -> Reaction:
        if frame["type"] == "following":
            return Reaction(followed=[frame["conversation"]])
        if frame["type"] == "message":
            return Reaction(deliveries=[Delivery("message", frame["body"])])
        return Reaction()

    def follow(self, console, conversation: int) -> list[dict[str, Any]]:
        console.memo.setdefault("following", set()).add(conversation)
        return [{"type": "follow", "conversation": conversation}]
