"""The open-loop load client of `bench/chat_load.py`: sockets, the send schedule and the per-id ledger.

It speaks no protocol of its own: a target (`bench/chat_targets.py`) writes the frames and reads the
server's frames into events and deliveries. Visitors send on a schedule fixed in advance; a send never
waits for an acknowledgement, and each socket has its own outbox, so a slow socket delays only itself.
Like the widget, a visitor whose socket drops reconnects (with its token or conversation) and sends again
what was not acknowledged. Consoles follow their chats and note every arrival of every message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

# Give up a connection attempt after this long (a server that is starting or saturated answers late).
OPEN_TIMEOUT = 10.0


def now_ns() -> int:
    return time.monotonic_ns()


class Histogram:
    """Latencies in milliseconds, in logarithmic buckets 1 % wide; the maximum is kept exactly."""

    SMALLEST = 0.01
    GROWTH = math.log(1.01)

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.max = 0.0

    def add(self, ms: float) -> None:
        ms = max(ms, 0.0)
        index = 0 if ms <= self.SMALLEST else math.ceil(math.log(ms / self.SMALLEST) / self.GROWTH)
        self.buckets[index] += 1
        self.count += 1
        self.max = max(self.max, ms)

    def percentile(self, share: float) -> float:
        """Return the upper edge of the bucket holding the given share of the values (NaN when empty)."""
        if not self.count:
            return math.nan
        rank, seen = max(1, math.ceil(share * self.count)), 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(self.max, self.SMALLEST * math.exp(index * self.GROWTH))
        return self.max

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50": self.percentile(0.5),
            "p90": self.percentile(0.9),
            "p99": self.percentile(0.99),
            "max": self.max if self.count else math.nan,
        }


class Event(NamedTuple):
    """What a visitor's frame means to the client; the target makes them from its protocol's frames.

    kinds: welcome (conversation, token), conversation, ack (cid, seq), refused (cid, code: not stored, do not
    send again), retry (cid, after: the server asks to send again later), echo (cid: the visitor's own message
    sent back), seen (seq), error (code). Any of them may carry replies: frames the visitor sends in answer
    (a resume after a pong that names a higher number, a hello after one that names another conversation).
    """

    kind: str
    cid: str = ""
    conversation: int = 0
    token: str = ""
    seq: int = 0
    code: str = ""
    after: float = 0.0
    replies: tuple[dict[str, Any], ...] = ()


class Delivery(NamedTuple):
    """A visitor message as it reached a console: live (pushed) or fetched (history, resume, sync)."""

    kind: str
    body: str
    live: bool = True


@dataclass
class Reaction:
    """What a console does about a frame: messages it received, chats it now follows, frames to answer."""

    deliveries: list[Delivery] = field(default_factory=list)
    followed: list[int] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    ready: bool = False
    error: str = ""


def body_of(cid: str, due: int) -> str:
    """Return a message body carrying its id and its send time (monotonic ns, this process).

    The time is written as ``ns<digits>``: a bare run of 13 or more digits that passes the Luhn check
    is a card number to the product, which masks it before storing (one body in ten, once the clock
    has 13 digits: after 17 minutes of uptime), and the masked body no longer names its send time.
    """
    return json.dumps({"id": cid, "t": f"ns{due}"})


def read_body(body: str) -> tuple[str, int] | None:
    """Return (id, send time) from a bench message body, or None for any other text."""
    try:
        data = json.loads(body)
        return str(data["id"]), int(str(data["t"]).removeprefix("ns"))
    except (ValueError, TypeError, KeyError):
        return None


@dataclass
class Ledger:
    """Per message id: when it was due and sent, its ack or refusal, and every arrival at a console."""

    due: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    resent: Counter[str] = field(default_factory=Counter)
    acked: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    # id -> [(console, delivery kind, live, arrival ns, latency ms from the body's send time)]
    arrivals: defaultdict[str, list[tuple[int, str, bool, int, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    echoes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def arrive(self, console: int, delivery: Delivery, at: int) -> None:
        parsed = read_body(delivery.body)
        if parsed is not None:
            cid, sent_at = parsed
            self.arrivals[cid].append((console, delivery.kind, delivery.live, at, (at - sent_at) / 1e6))

    def outstanding(self, ids: Iterable[str]) -> int:
        """Count the ids still waiting for an answer from the server or for a console to receive them."""
        return sum(1 for cid in ids if cid not in self.refused and (cid not in self.acked or cid not in self.arrivals))


async def _pause_before_reconnect() -> None:
    # Spread a crowd of reconnecting sockets out, as the widget does, but retry soon: the bench measures
    # how fast the server takes them back, not the widget's backoff.
    await asyncio.sleep(random.uniform(0.5, 1.0))


class _Link:
    """A client socket that connects, talks until it drops, and connects again until closed."""

    kind = ""
    closing = False
    socket = None

    def address(self) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    async def _talk(self, socket) -> None:
        raise NotImplementedError

    def until_next_tick(self) -> float:
        """Return the seconds to this client's next tick. Like the pages' `setInterval`, a client ticks on a
        clock of its own that started when its page loaded (a random moment within the last two ticks, the
        same for every run) and runs on across reconnects: a thousand pages opened over an evening do not
        ping in step, even when their sockets all come back in the same second."""
        period = self.target.tick_seconds
        if not hasattr(self, "page_loaded"):
            phase = random.Random(f"{self.kind}-{self.index}").uniform(0, 2 * period)
            self.page_loaded = time.monotonic() - phase
        wait = period - (time.monotonic() - self.page_loaded) % period
        return wait if wait > period / 10 else wait + period  # a sleep that woke early must not tick twice

    async def run(self) -> None:
        while not self.closing:
            url, options = self.address()
            try:
                async with websockets.connect(
                    url, open_timeout=OPEN_TIMEOUT, ping_interval=None, max_queue=None, **options
                ) as socket:
                    await self._talk(socket)
            # A frame the target cannot read (ValueError, KeyError …) is counted like a dropped socket.
            except (OSError, TimeoutError, WebSocketException, ValueError, KeyError, TypeError) as error:
                if not self.closing:
                    self.ledger.errors[f"{self.kind} socket: {type(error).__name__}"] += 1
            if not self.closing:
                await _pause_before_reconnect()

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            await self.socket.close()


class VisitorLink(_Link):
    """One widget: a socket that says hello, sends its outbox in order and reconnects when dropped."""

    kind = "visitor"

    def __init__(self, index: int, target, ledger: Ledger) -> None:
        self.index, self.target, self.ledger = index, target, ledger
        self.conversation = 0
        self.token = ""
        self.last_seq = 0
        self.welcomes = 0
        self.welcomed = asyncio.Event()
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.unacked: dict[str, str] = {}  # id -> frame, in the order posted
        self.retries: set[asyncio.Future] = set()
        self.memo: dict[str, Any] = {}  # the target's own bookkeeping for this visitor
        self.closing = False
        self.socket = None

    def post(self, cid: str, due: int) -> None:
        """Queue a message due at `due` (monotonic ns); the writer sends it as soon as it can."""
        self.ledger.due[cid] = due
        self.unacked[cid] = json.dumps(self.target.visitor_message(self, cid, body_of(cid, due)))
        self.outbox.put_nowait(cid)

    def address(self) -> tuple[str, dict[str, Any]]:
        return self.target.visitor_url(self), self.target.visitor_options(self)

    async def _talk(self, socket) -> None:
        self.socket = socket
        for frame in self.target.visitor_hello(self):
            await socket.send(json.dumps(frame))
        helpers = [asyncio.create_task(self._write(socket)), asyncio.create_task(self._tick(socket))]
        try:
            async for raw in socket:
                event = self.target.visitor_event(self, json.loads(raw))
                self._on_event(event)
                for reply in event.replies if event is not None else ():
                    await socket.send(json.dumps(reply))
        finally:
            for helper in helpers:
                helper.cancel()
            self.socket = None
            self.welcomed.clear()

    async def _write(self, socket) -> None:
        await self.welcomed.wait()
        with contextlib.suppress(ConnectionClosed):  # what it was writing goes again on the next socket
            # What an earlier socket wrote and nobody acknowledged goes again first (the server stores it once).
            for cid in [cid for cid in self.unacked if cid in self.ledger.sent]:
                self.ledger.resent[cid] += 1
                await socket.send(self.unacked[cid])
            while True:
                cid = await self.outbox.get()
                if cid in self.unacked and cid not in self.ledger.sent:
                    self.ledger.sent[cid] = now_ns()
                    await socket.send(self.unacked[cid])

    async def _tick(self, socket) -> None:
        with contextlib.suppress(ConnectionClosed):
            while self.target.tick_seconds:
                await asyncio.sleep(self.until_next_tick())
                for frame in self.target.visitor_tick(self):
                    await socket.send(json.dumps(frame))

    def _on_event(self, event: Event | None) -> None:
        if event is None:
            return
        self.last_seq = max(self.last_seq, event.seq)
        if event.kind == "welcome":
            self.token = event.token or self.token
            self.conversation = event.conversation or self.conversation
            self.welcomes += 1
            self.welcomed.set()
        elif event.kind == "conversation":
            self.conversation = event.conversation
        elif event.kind == "ack":
            self.ledger.acked.setdefault(event.cid, now_ns())
            self.unacked.pop(event.cid, None)
        elif event.kind == "refused":
            self.ledger.refused.setdefault(event.cid, event.code)
            self.unacked.pop(event.cid, None)
        elif event.kind == "retry":
            self.ledger.resent[event.cid] += 1
            asyncio.get_running_loop().call_later(event.after, self._send_again, event.cid)
        elif event.kind == "echo":
            self.ledger.echoes[event.cid] += 1
        elif event.kind == "error":
            self.ledger.errors[f"visitor error: {event.code}"] += 1

    def _send_again(self, cid: str) -> None:
        if cid in self.unacked and self.socket is not None:
            self.retries.add(task := asyncio.ensure_future(self.socket.send(self.unacked[cid])))
            task.add_done_callback(self.retries.discard)


class ConsoleLink(_Link):
    """One agent's console: follows its chats and notes every visitor message that reaches it."""

    kind = "console"

    def __init__(self, index: int, target, ledger: Ledger) -> None:
        self.index, self.target, self.ledger = index, target, ledger
        self.followed: set[int] = set()
        self.memo: dict[str, Any] = {}  # the target's own bookkeeping for this console
        self.ready = asyncio.Event()
        self.closing = False
        self.socket = None

    def address(self) -> tuple[str, dict[str, Any]]:
        return self.target.console_url(self), self.target.console_options(self)

    async def _talk(self, socket) -> None:
        self.socket = socket
        ticker = asyncio.create_task(self._tick(socket))
        try:
            await self._answer(socket, self.target.console_hello(self))
            async for raw in socket:
                await self._answer(socket, self.target.console_event(self, json.loads(raw)))
        finally:
            ticker.cancel()
            self.socket = None
            self.ready.clear()
            self.followed.clear()

    async def _answer(self, socket, reaction: Reaction) -> None:
        at = now_ns()
        for delivery in reaction.deliveries:
            self.ledger.arrive(self.index, delivery, at)
        self.followed.update(reaction.followed)
        if reaction.error:
            self.ledger.errors[f"console error: {reaction.error}"] += 1
        for reply in reaction.replies:
            await socket.send(json.dumps(reply))
        if reaction.ready:
            self.ready.set()

    async def _tick(self, socket) -> None:
        with contextlib.suppress(ConnectionClosed):
            while self.target.tick_seconds:
                await asyncio.sleep(self.until_next_tick())
                await self._answer(socket, self.target.console_tick(self))

    async def follow(self, conversation: int) -> None:
        """Ask to follow a chat the client assigns itself (targets whose server routes send nothing)."""
        if self.socket is not None:
            for frame in self.target.follow(self, conversation):
                await self.socket.send(json.dumps(frame))


async def offer(visitors: list[VisitorLink], *, rate: float, seconds: float, tag: str) -> list[str]:
    """Post rate * seconds messages round the visitors at a constant rate; return their ids.

    The schedule is fixed before the first send: message k is due at start + k / rate whatever the server
    does, and its latency counts from then, so a slow server cannot slow the offered load down.
    """
    total = max(1, round(rate * seconds))
    interval = 1e9 / rate
    start = now_ns() + 100_000_000
    ids = [f"{tag}{k}" for k in range(total)]
    for k, cid in enumerate(ids):
        due = start + round(k * interval)
        await asyncio.sleep(max(0.0, (due - now_ns()) / 1e9))
        visitors[k % len(visitors)].post(cid, due)
    return ids


async def settle(ledger: Ledger, ids: list[str], *, drain: float) -> float:
    """Wait until every id is answered and delivered, or the drain period ends; return the seconds waited."""
    started = now_ns()
    deadline = started + drain * 1e9
    while ledger.outstanding(ids) and now_ns() < deadline:
        await asyncio.sleep(0.1)
    # Late copies of what already arrived would show as doubled: give them a moment.
    await asyncio.sleep(0.3)
    return (now_ns() - started) / 1e9


def account(ledger: Ledger, ids: list[str], stored: dict[str, int]) -> dict[str, Any]:
    """Return the per-id accounting of a run: what was sent, stored, delivered, lost, doubled, and how fast."""
    latency, ack, lag = Histogram(), Histogram(), Histogram()
    kinds: Counter[str] = Counter()
    delivered, doubled, fetched_only = set(), set(), set()
    for cid in ids:
        arrivals = ledger.arrivals.get(cid, [])
        if arrivals:
            delivered.add(cid)
            latency.add(min(arrival[4] for arrival in arrivals))
            streams = Counter((console, kind) for console, kind, _live, _at, _ms in arrivals)
            if max(streams.values()) > 1:
                doubled.add(cid)
            if not any(live for _console, _kind, live, _at, _ms in arrivals):
                fetched_only.add(cid)
            kinds.update(kind for _console, kind, _live, _at, _ms in arrivals)
        if cid in ledger.acked:
            ack.add((ledger.acked[cid] - ledger.due[cid]) / 1e6)
        if cid in ledger.sent:
            lag.add((ledger.sent[cid] - ledger.due[cid]) / 1e6)
    wanted = set(ids)
    stored_ids = {cid for cid, rows in stored.items() if rows and cid in wanted}
    sent = [cid for cid in ids if cid in ledger.sent]
    answered = set(ledger.acked) | set(ledger.refused)
    return {
        "offered": len(ids),
        "sent": len(sent),
        "acked": sum(1 for cid in ids if cid in ledger.acked),
        "refused": dict(Counter(ledger.refused[cid] for cid in ids if cid in ledger.refused)),
        "unanswered": sum(1 for cid in sent if cid not in answered),
        "stored": len(stored_ids),
        "stored_twice": sum(1 for cid, rows in stored.items() if rows > 1 and cid in wanted),
        "acked_not_stored": sum(1 for cid in ids if cid in ledger.acked and cid not in stored_ids),
        "delivered": len(delivered),
        "fetched_only": len(fetched_only),
        "undelivered": len(stored_ids - delivered),
        "doubled": len(doubled),
        "resent": sum(ledger.resent[cid] for cid in ids),
        "latency_ms": latency.summary(),
        "ack_ms": ack.summary(),
        "send_lag_ms": lag.summary(),
        "frames_per_delivered": {kind: n / len(delivered) for kind, n in sorted(kinds.items())} if delivered else {},
        "echoes_per_sent": sum(ledger.echoes[cid] for cid in ids) / len(sent) if sent else 0.0,
    }
