"""Widgets and consoles that speak the live-chat protocol as widget.js and the console's modules do.

What each does is conversations/protocol.py: a widget says hello with its token and the number up to which
it has every message, sends one message at a time (the next after the previous one's ack), acknowledges
the agent's messages it showed, pings, fetches from the first missing number when a message skips one or a
pong names a higher last number, and sends again what the server called overloaded after retry_after. A
console says hello, follows every chat of its agent's and the waiting ones with open and its number, pings
and answers probes, resyncs the same way, asks for the whole state when the lists change, replies to
every visitor message in its own chats, and flushes its outbox after a reconnect. Both show a message once
per number (the clients' dedupe) and note when a number came twice.

They run in one event loop of their own (ClientLoop) so that the test itself stays synchronous and reads
the database between steps. A client reconnects, like the real ones, to whichever server the test's
`servers()` names now: a load balancer that has noticed a dead process sends no one there.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import socket as socket_module
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

RECONNECT_AFTER = (0.2, 0.6)  # seconds, spread; the real clients back off from 0.5 s
OVERLOADED = "overloaded"
_ids = itertools.count(1)


class ClientLoop:
    """An event loop in a thread of its own, where every client of a test runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine, timeout: float = 30) -> Any:
        """Run a coroutine in the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], Any], timeout: float = 10) -> Any:
        """Call a function inside the loop (where the clients' state changes) and return its result."""

        async def inside():
            return function()

        return self.run(inside(), timeout)

    def start(self, client: _Client) -> None:
        self.loop.call_soon_threadsafe(client.begin)

    def close(self, clients: list[_Client]) -> None:
        async def stop_all() -> None:
            # gather inside the loop: called from the test's thread it bound the clients' stops to another loop,
            # run_coroutine_threadsafe refused its future, and no client was ever stopped
            await asyncio.gather(*(client.stop() for client in clients), return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(stop_all(), timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class Shown:
    """The messages one client shows in one conversation, one per number, and the copies it dropped."""

    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    copies: int = 0

    def add(self, message: dict[str, Any]) -> bool:
        """Show a message unless its number is here already; return whether it was new."""
        seq = message["seq"]
        if seq in self.messages:
            self.copies += 1
            return False
        self.messages[seq] = {key: message.get(key) for key in ("seq", "sender", "body", "client_msg_id")}
        self.messages[seq]["at"] = time.monotonic()
        return True

    def through(self, start: int = 0) -> int:
        """Return the number up to which every message is here, counting on from `start`."""
        seq = start
        while seq + 1 in self.messages:
            seq += 1
        return seq


class _Client:
    """A socket that connects, talks until it drops, and connects again (to a live server) until stopped."""

    path = ""

    def __init__(self, name: str, servers: Callable[[], list[str]], *, ping_every: float) -> None:
        self.name, self.servers, self.ping_every = name, servers, ping_every
        self.socket = None
        self.task: asyncio.Task | None = None
        self.stopping = False
        self.frozen = False
        self.connects = 0
        self.errors: Counter[str] = Counter()
        self.overloaded = 0
        self.server = ""
        self.pinged_at = self.closed_at = 0.0
        self.background: set[asyncio.Future] = set()
        # A client that stops reading its socket (not its script: it still sends) and one whose TCP
        # receive buffer is this small (bytes), so that what the server writes to it backs up at once.
        self.deaf = False
        self.receive_buffer: int | None = None

    def begin(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def headers(self) -> dict[str, str]:
        return {}

    @property
    def connected(self) -> bool:
        return self.socket is not None

    async def _run(self) -> None:
        # A frozen page runs no script: it does not reconnect either.
        while not self.stopping and not self.frozen:
            self.server = random.choice(self.servers())
            try:
                async with websockets.connect(
                    self.server + self.path,
                    open_timeout=10,
                    ping_interval=None,
                    additional_headers=self.headers(),
                    sock=self._socket(),
                ) as socket:
                    self.socket = socket
                    self.connects += 1
                    await self._talk(socket)
            except (OSError, TimeoutError, WebSocketException) as error:
                self.errors[f"socket: {type(error).__name__}"] += 1
            finally:
                self.socket = None
                self.closed_at = time.monotonic()
                self.deaf = False  # the stuck connection is gone; the next one reads again
                self.lost()
            await asyncio.sleep(random.uniform(*RECONNECT_AFTER))

    def _socket(self) -> socket_module.socket | None:
        """Return a connected TCP socket with the small receive buffer asked for, or None (websockets makes one)."""
        if self.receive_buffer is None:
            return None
        host, port = self.server.removeprefix("ws://").split(":")
        sock = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_STREAM)
        # Set before connecting: the window the client offers is fixed at the handshake.
        sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, self.receive_buffer)
        sock.settimeout(10)
        sock.connect((host, int(port)))
        sock.setblocking(False)
        return sock

    async def _talk(self, socket) -> None:
        pinger = asyncio.get_running_loop().create_task(self._ping_now_and_then())
        try:
            await self.opened()
            async for raw in socket:
                if self.deaf:
                    # Read no further: websockets stops reading the socket once a few frames wait, the
                    # kernel's buffer fills, and what the server sends backs up; pings still go out.
                    await socket.wait_closed()
                    break
                if not self.frozen:
                    await self.on_frame(json.loads(raw))
        finally:
            pinger.cancel()

    async def _ping_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.ping_every)
            await self.ping()

    async def ping(self) -> None:
        if not self.frozen:
            self.pinged_at = time.monotonic()
            await self.send({"type": "ping"})

    async def send(self, frame: dict[str, Any]) -> None:
        if self.socket is not None and not self.frozen:
            with contextlib.suppress(ConnectionClosed):
                await self.socket.send(json.dumps(frame))

    def later(self, seconds: float, coroutine_function: Callable[[], Coroutine]) -> None:
        asyncio.get_running_loop().call_later(seconds, self.soon, coroutine_function)

    def soon(self, coroutine_function: Callable[[], Coroutine]) -> None:
        self.background.add(task := asyncio.ensure_future(coroutine_function()))
        task.add_done_callback(self.background.discard)

    async def drop(self) -> None:
        """Lose the connection as a network failure does (no close handshake); the client reconnects."""
        if self.socket is not None:
            self.socket.transport.abort()

    async def stop(self) -> None:
        """Stop for good at the test's end: drop the connection (no close handshake to wait for), no reconnect."""
        self.stopping = True
        if self.socket is not None:
            self.socket.transport.abort()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def opened(self) -> None:
        raise NotImplementedError

    def lost(self) -> None:
        """Forget what belonged to the connection that ended."""

    async def on_frame(self, frame: dict[str, Any]) -> None:
        handler = getattr(self, f"on_{frame['type']}", None)
        if handler is not None:
            await handler(frame)

    async def on_error(self, frame: dict[str, Any]) -> None:
        self.errors[f"error: {frame.get('code')}"] += 1


class Widget(_Client):
    """A visitor's widget on one page, as widget.js: its token, its outbox and what it shows."""

    def __init__(self, name: str, servers: Callable[[], list[str]], *, key: str, origin: str, ping_every: float):
        super().__init__(name, servers, ping_every=ping_every)
        self.path, self.origin = f"/ws/widget/{key}/", origin
        self.token = ""
        self.conversation: int | None = None
        self.saved_seq = 0  # every message of the conversation up to this number is here
        self.shown: dict[int, Shown] = {}
        self.outbox: list[tuple[str, str]] = []  # (client_msg_id, body), not acknowledged yet
        self.sent: set[str] = set()
        self.written_at: dict[str, float] = {}  # client_msg_id -> when the visitor pressed Enter
        self.inflight: str | None = None
        self.ready = self.resuming = False
        self.first_hello = True
        self.agent_seq = self.acked_seq = 0

    def headers(self) -> dict[str, str]:
        return {"Origin": self.origin}

    def lost(self) -> None:
        self.ready = self.resuming = False
        self.inflight = None

    def write(self, body: str) -> str:
        """Type a message and press Enter: it waits in the outbox until it is acknowledged."""
        client_msg_id = f"{self.name}-{next(_ids)}"
        self.outbox.append((client_msg_id, body))
        self.sent.add(client_msg_id)
        self.written_at[client_msg_id] = time.monotonic()
        self.background.add(task := asyncio.ensure_future(self._type_and_pump()))
        task.add_done_callback(self.background.discard)
        return client_msg_id

    async def _type_and_pump(self) -> None:
        if self.ready and self.conversation is not None:
            await self.send({"type": "typing", "active": True})
        await self.pump()

    async def opened(self) -> None:
        await self.send(
            {"type": "hello", "token": self.token, "last_seq": self.saved_seq}
            | ({"url": "http://site.example/", "title": "Shop"} if self.first_hello else {})
        )
        self.first_hello = False

    async def pump(self) -> None:
        """One message at a time, in order: the next goes when the previous is acknowledged."""
        if not self.ready or self.inflight or not self.outbox:
            return
        self.inflight, body = self.outbox[0]
        await self.send({"type": "message", "body": body, "client_msg_id": self.inflight})

    def follow(self, state: dict | None) -> None:
        conversation = state["id"] if state and state.get("status") != "closed" else None
        if conversation != self.conversation:
            self.conversation, self.saved_seq, self.agent_seq, self.acked_seq = conversation, 0, 0, 0
        if conversation is not None:
            self.shown.setdefault(conversation, Shown())

    async def on_welcome(self, frame: dict[str, Any]) -> None:
        self.token = frame["token"]
        state = frame["conversation"]
        asked_after = self.saved_seq
        if (state and state["id"]) != self.conversation and state and asked_after:
            # We asked for the messages after a number in another conversation: ask for all of this one.
            self.follow(state)
            await self.opened()
            return
        self.follow(state)
        for message in frame["messages"]:
            await self.stored(message)
        self.ready = True
        await self.ack()
        await self.pump()

    async def on_conversation(self, frame: dict[str, Any]) -> None:
        self.follow(frame["conversation"])

    async def on_ack(self, frame: dict[str, Any]) -> None:
        if self.inflight == frame["client_msg_id"]:
            body = next(body for cid, body in self.outbox if cid == self.inflight)
            message = {"seq": frame["seq"], "sender": "visitor", "body": body, "client_msg_id": self.inflight}
            self.inflight = None
            await self.stored(message)
        self.outbox = [(cid, body) for cid, body in self.outbox if cid != frame["client_msg_id"]]
        await self.pump()

    async def on_message(self, frame: dict[str, Any]) -> None:
        if self.conversation is None or frame["conversation"] == self.conversation:
            await self.stored(frame)

    async def on_history(self, frame: dict[str, Any]) -> None:
        if self.conversation is not None and frame["conversation"] == self.conversation:
            for message in frame["messages"]:
                await self.stored(message)
        self.resuming = False

    async def on_pong(self, frame: dict[str, Any]) -> None:
        state = frame["conversation"]
        if state and state["id"] != self.conversation:
            await self.opened()  # a chat this page does not show: start over
            return
        if state:
            await self.resume(state["last_seq"])

    async def on_closed(self, frame: dict[str, Any]) -> None:
        if frame["conversation"] == self.conversation:
            self.follow(None)

    async def on_error(self, frame: dict[str, Any]) -> None:
        await super().on_error(frame)
        item, self.inflight = self.inflight, None
        if item and frame["code"] in ("rate_limited", "closed", OVERLOADED):
            self.overloaded += frame["code"] == OVERLOADED
            self.later(frame.get("retry_after") or 5, self.pump)
        elif item:  # refused for good
            self.outbox = [(cid, body) for cid, body in self.outbox if cid != item]
            await self.pump()

    async def resume(self, last: int) -> None:
        if not self.ready or self.resuming or last <= self.saved_seq:
            return
        self.resuming = True
        await self.send({"type": "resume", "last_seq": self.saved_seq})

    async def stored(self, message: dict[str, Any]) -> None:
        if self.conversation is None:
            return
        shown = self.shown[self.conversation]
        if not shown.add(message):
            return
        if message["sender"] == "visitor":
            self.outbox = [(cid, body) for cid, body in self.outbox if cid != message.get("client_msg_id")]
        self.saved_seq = shown.through(self.saved_seq)
        await self.resume(message["seq"])
        if message["sender"] == "agent" and message["seq"] > self.agent_seq:
            self.agent_seq = message["seq"]
            await self.ack()

    async def ack(self) -> None:
        if self.ready and self.agent_seq > self.acked_seq:
            self.acked_seq = self.agent_seq
            await self.send({"type": "ack", "seq": self.acked_seq})


@dataclass
class Chat:
    """A chat as one console knows it."""

    shown: Shown = field(default_factory=Shown)
    loaded: bool = False
    loaded_through: int = 0
    resyncing: bool = False


class Console(_Client):
    """An agent's console, as the console's modules (connection, sync, outbox, frames) behave."""

    path = "/ws/console/"

    def __init__(self, name: str, servers: Callable[[], list[str]], *, cookie: str, origin: str, ping_every: float):
        super().__init__(name, servers, ping_every=ping_every)
        self.cookie, self.origin = cookie, origin
        self.chats: dict[int, Chat] = {}
        self.mine: list[int] = []
        self.queue: list[int] = []
        self.subscribed: set[int] = set()
        self.outbox: dict[str, tuple[int, str]] = {}  # client_msg_id -> (conversation, body)
        self.replied: set[str] = set()
        self.refused: dict[str, str] = {}
        self.welcomed = False
        self.mark = 0  # the last mark (pong, probe) read on this connection
        self.flush_needed = False
        self.refreshing = False

    def headers(self) -> dict[str, str]:
        return {"Origin": self.origin, "Cookie": self.cookie}

    def lost(self) -> None:
        self.welcomed = False
        self.subscribed.clear()
        self.mark = 0

    async def ping(self) -> None:
        # Say the last mark read: the server tells a console that reads from one that only pings.
        if not self.frozen:
            self.pinged_at = time.monotonic()
            await self.send({"type": "ping", "mark": self.mark})

    async def opened(self) -> None:
        self.flush_needed = True
        await self.send({"type": "hello"})

    def describe(self) -> str:
        """Say what this console knows, for a failing test's message."""
        unloaded = sorted(pk for pk, chat in self.chats.items() if not chat.loaded)
        resyncing = sorted(pk for pk, chat in self.chats.items() if chat.resyncing)
        return (
            f"console {self.name}: connects {self.connects}, connected {self.connected}, mine {sorted(self.mine)}, "
            f"not loaded {unloaded}, resyncing {resyncing}, subscribed {sorted(self.subscribed)}, "
            f"refreshing {self.refreshing}, outbox {len(self.outbox)}, errors {dict(self.errors)}"
        )

    async def on_probe(self, frame: dict[str, Any]) -> None:
        self.mark = frame["mark"]
        await self.ping()

    async def on_welcome(self, frame: dict[str, Any]) -> None:
        await self.on_state(frame)
        self.welcomed = True
        if frame["agent"]["presence"] != "online":
            await self.send({"type": "presence", "presence": "online"})
        if self.flush_needed:
            self.flush_needed = False
            for client_msg_id in list(self.outbox):
                await self.send_item(client_msg_id)

    async def on_state(self, frame: dict[str, Any]) -> None:
        self.refreshing = False
        self.mine = [chat["conversation"] for chat in frame["chats"]]
        self.queue = [chat["conversation"] for chat in frame["queue"]]
        for chat in frame["chats"] + frame["queue"]:
            self.chats.setdefault(chat["conversation"], Chat())
        for conversation in self.mine + self.queue[:25]:
            await self.follow(conversation)
        await self.reply_to_visitors()

    async def follow(self, conversation: int) -> None:
        if self.welcomed is False and self.socket is None:
            return
        if conversation in self.subscribed:
            return
        chat = self.chats.setdefault(conversation, Chat())
        self.subscribed.add(conversation)
        await self.send(
            {"type": "open", "conversation": conversation, "last_seq": chat.loaded_through if chat.loaded else 0}
        )

    async def resync(self, conversation: int) -> None:
        chat = self.chats[conversation]
        if chat.resyncing:
            return
        chat.resyncing = True
        self.subscribed.discard(conversation)
        await self.follow(conversation)

    async def on_history(self, frame: dict[str, Any]) -> None:
        payload = frame["conversation"]
        chat = self.chats.setdefault(payload["conversation"], Chat())
        for message in frame["messages"]:
            self.show(chat, message)
        chat.loaded, chat.resyncing = True, False
        chat.loaded_through = chat.shown.through(max(chat.loaded_through, payload.get("last_seq") or 0))
        await self.reply_to_visitors()

    def show(self, chat: Chat, message: dict[str, Any]) -> bool:
        added = chat.shown.add(message)
        if added and message["sender"] == "agent":
            self.outbox.pop(message.get("client_msg_id"), None)
        return added

    async def on_message(self, frame: dict[str, Any]) -> None:
        chat = self.chats.setdefault(frame["conversation"], Chat())
        if not self.show(chat, frame):
            return
        if chat.loaded and frame["seq"] > chat.loaded_through + 1:
            await self.resync(frame["conversation"])
        elif chat.loaded:
            chat.loaded_through = chat.shown.through(chat.loaded_through)
        if frame["conversation"] not in self.mine + self.queue:
            await self.refresh()
        await self.reply_to_visitors()

    on_activity = on_message

    async def on_ack(self, frame: dict[str, Any]) -> None:
        item = self.outbox.pop(frame["client_msg_id"], None)
        if item is not None:
            message = {"seq": frame["seq"], "sender": "agent", "body": item[1], "client_msg_id": frame["client_msg_id"]}
            chat = self.chats.setdefault(item[0], Chat())
            chat.shown.add(message)
            chat.loaded_through = chat.shown.through(chat.loaded_through)

    async def on_pong(self, frame: dict[str, Any]) -> None:
        self.mark = frame["mark"]
        for key, last in frame["conversations"].items():
            chat = self.chats.get(int(key))
            if chat is not None and chat.loaded and last > chat.loaded_through:
                await self.resync(int(key))
        if sorted(frame["chats"]) != sorted(self.mine) or sorted(frame["queue"]) != sorted(self.queue):
            await self.refresh()

    async def refresh(self) -> None:
        if not self.refreshing:
            self.refreshing = True
            await self.send({"type": "hello"})

    async def on_assigned(self, frame: dict[str, Any]) -> None:
        await self.refresh()

    on_queue = on_requeued = on_withdrawn = on_closed = on_assigned

    async def on_error(self, frame: dict[str, Any]) -> None:
        await super().on_error(frame)
        client_msg_id = frame.get("client_msg_id")
        if frame["code"] == OVERLOADED and client_msg_id in self.outbox:
            self.overloaded += 1
            delay = (frame.get("retry_after") or 2) * (1 + random.random() * 0.5)
            self.later(delay, lambda: self.send_item(client_msg_id))
        elif client_msg_id in self.outbox:  # refused for good (the chat is no longer this agent's)
            self.refused[client_msg_id] = frame["code"]
            self.outbox.pop(client_msg_id)

    async def reply_to_visitors(self) -> None:
        """Answer every visitor message in the agent's own chats, once."""
        for conversation in self.mine:
            for message in list(self.chats.get(conversation, Chat()).shown.messages.values()):
                asked = message.get("client_msg_id")
                if message["sender"] == "visitor" and asked and asked not in self.replied:
                    self.replied.add(asked)
                    client_msg_id = f"{self.name}-{next(_ids)}"
                    self.outbox[client_msg_id] = (conversation, f"re: {asked}")
                    await self.send_item(client_msg_id)

    async def send_item(self, client_msg_id: str) -> None:
        item = self.outbox.get(client_msg_id)
        if item is not None and self.welcomed:
            await self.send(
                {"type": "message", "conversation": item[0], "body": item[1], "client_msg_id": client_msg_id}
            )
