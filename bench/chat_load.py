"""Load the live chat with an open-loop client and measure it against a bare relay of the same durability.

Two systems, driven by the same client in the same invocation, taking turns (product, baseline, product,
baseline … per scenario, so a passing load on this shared machine touches both alike):
- product: real daphne processes (`bench.counting_settings`: the product's settings plus a statement
  counter) sharing one Redis channel layer, agent consoles logged in with session cookies (online, on
  shift, trained) that open the chats routed to them and take waiting ones;
- baseline: `bench/bare_relay.py` (one SQL statement and one Redis PUBLISH per message) on the same
  PostgreSQL and Redis.

Visitors send on a schedule fixed in advance (a constant offered rate over all conversations; a send never
waits for an ack). Every message has its own client_msg_id and its send time in the body; the client
records per id: sent, acked, delivered to a console (and how often), and at the end counts the stored rows
per id. Scenarios:
- fixed: N conversations at R msg/s for S s: latency visitor→agent (p50/p90/p99/max from a histogram),
  ack latency, sent / stored / delivered / undelivered / doubled, and per message the SQL statements and
  Redis commands (INFO commandstats deltas; the product's statements from its counting backend);
- sweep: the same conversations at rising rates; the highest rate with p99 < 100 ms and every message
  stored and delivered (stops at the first step that fails);
- idle: memory per idle visitor socket that has said hello (server RSS before/after), and the time for
  all of them to be back with a welcome after the server process is restarted.

    .venv/bin/python bench/chat_load.py                       # everything: 2 rounds, about 15-25 minutes
    .venv/bin/python bench/chat_load.py --quick               # everything at small numbers, about 2 minutes
    .venv/bin/python bench/chat_load.py --scenarios fixed --conversations 200 --rate 100 --duration 20
    .venv/bin/python bench/chat_load.py --scenarios sweep --sweep-rates 25,50,100,200,400,800 --rounds 1
    .venv/bin/python bench/chat_load.py --scenarios idle --idle-visitors 2000 --systems product
    .venv/bin/python bench/chat_load.py --quick --json /tmp/chat_load.json   # also write the figures as JSON

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/chatops_bench; created and
migrated if missing; the bench tenant and the relay's tables are replaced) and `redis-server` on the PATH:
the bench starts a Redis of its own on a free port, so its command counts are its own. Every server it
starts listens on 127.0.0.1 and is stopped at the end, also on Ctrl-C or failure; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from benchdb import use_database
from chat_targets import BareRelay, Product, Target
from load_client import ConsoleLink, Ledger, VisitorLink, account, now_ns, offer, settle

SCENARIOS = ("fixed", "sweep", "idle")
SYSTEMS = ("product", "baseline")
P99_LIMIT_MS = 100.0
FULL = {
    "conversations": 200,
    "rate": 100.0,
    "duration": 20.0,
    "drain": 15.0,
    "sweep_rates": "25,35,50,70,100,140,200,280,400,560,800,1100,1600",
    "step_seconds": 10.0,
    "idle_visitors": 2000,
    "rounds": 2,
}
QUICK = {
    "conversations": 20,
    "rate": 20.0,
    "duration": 3.0,
    "drain": 5.0,
    "sweep_rates": "20,40,80",
    "step_seconds": 3.0,
    "idle_visitors": 100,
    "rounds": 1,
}
CHATS_PER_AGENT = 10  # the product's largest concurrency limit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- Redis of the bench's own ------------------------------------------------------------------


class RedisServer:
    """A redis-server child on a free loopback port, without persistence."""

    def __init__(self, work_dir: Path) -> None:
        if not shutil.which("redis-server"):
            raise SystemExit("The bench needs redis-server on the PATH (apt-get install redis-server).")
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=work_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if self.client.ping():
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def clear(self) -> None:
        self.client.flushall()
        self.client.config_resetstat()

    def command_counts(self) -> dict[str, int]:
        """Return the calls per command so far (commands run inside Lua scripts included), without INFO itself."""
        stats = self.client.info("commandstats")
        return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items() if name != "cmdstat_info"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


# --- per-message costs -------------------------------------------------------------------------

TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def statement_label(sql: str) -> str:
    """Name a statement by its verb, its tables and what makes it special (COUNT, FOR UPDATE, LIMIT 1 …)."""
    text = " ".join(sql.split())
    upper = text.upper()
    for word in sorted(TRANSACTION_WORDS, key=len, reverse=True):
        if upper.startswith(word):
            return word
    tables, named = [], set(re.findall(r"(?:WITH|,)\s*(\w+)\s+AS\s*\(", text, flags=re.IGNORECASE))
    for name in re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"?(\w+)"?', text, flags=re.IGNORECASE):
        if name not in tables and name not in named and name.upper() not in ("SELECT", "LATERAL"):
            tables.append(name)
    marks = [mark for mark in ("COUNT(", "FOR UPDATE", "LIMIT 1", "ON CONFLICT", "RETURNING") if mark in upper]
    verb = upper.split(" ", 1)[0]
    return f"{verb} {'+'.join(tables)}" + (f" [{', '.join(m.rstrip('(') for m in marks)}]" if marks else "")


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after.get(key, 0) - before.get(key, 0) for key in after if after.get(key, 0) != before.get(key, 0)}


def per_message(before: dict[str, Any], after: dict[str, Any], messages: int) -> dict[str, Any]:
    """Return the SQL statements and Redis commands of a run divided by the messages sent, with a breakdown."""
    statements, commands = _delta(before["sql"], after["sql"]), _delta(before["redis"], after["redis"])
    labelled: dict[str, float] = {}
    for sql, count in statements.items():
        label = statement_label(sql)
        labelled[label] = labelled.get(label, 0) + count / messages
    transaction = {label: n for label, n in labelled.items() if label in TRANSACTION_WORDS}
    return {
        "sql_statements": sum(n for label, n in labelled.items() if label not in TRANSACTION_WORDS),
        "sql_begin_commit": sum(transaction.values()),
        "sql": dict(sorted(labelled.items(), key=lambda item: -item[1])),
        "sql_texts": {sql: count / messages for sql, count in sorted(statements.items(), key=lambda i: -i[1])},
        "redis_commands": sum(commands.values()) / messages,
        "redis": {name: count / messages for name, count in sorted(commands.items(), key=lambda item: -item[1])},
    }


# --- sessions ----------------------------------------------------------------------------------


async def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def open_visitors(visitors: list[VisitorLink], tasks: list, *, batch: int, timeout: float) -> float:
    """Connect the visitors a batch at a time, each saying hello; return the seconds until all were welcomed."""
    started = time.monotonic()
    for first in range(0, len(visitors), batch):
        group = visitors[first : first + batch]
        tasks += [asyncio.create_task(link.run()) for link in group]
        await wait_until(lambda g=group: all(v.welcomes for v in g), timeout=timeout, what="visitors' welcomes")
    return time.monotonic() - started


async def warm_up(
    target: Target, visitors: list[VisitorLink], consoles: list[ConsoleLink], *, rate: float, tag: str
) -> None:
    """Start every conversation with one message (not measured) and wait until a console follows each."""
    await offer(visitors, rate=rate, seconds=len(visitors) / rate, tag=f"{tag}w")
    await wait_until(lambda: all(v.conversation and not v.unacked for v in visitors), timeout=120, what="chats")
    for link in visitors:
        await consoles[link.index % len(consoles)].follow(link.conversation)

    def followed() -> bool:
        following = set().union(*(console.followed for console in consoles))
        return all(link.conversation in following for link in visitors)

    await wait_until(followed, timeout=120, what="consoles to follow every chat")


async def snapshot(target: Target, redis_server: RedisServer) -> dict[str, Any]:
    return {"sql": await target.statement_counts(), "redis": redis_server.command_counts()}


def held(result: dict[str, Any]) -> bool:
    """Say whether a run kept its promise: everything sent was stored once and delivered, p99 under 100 ms."""
    return (
        result["sent"] == result["offered"]
        and result["stored"] == result["sent"] == result["acked"]
        and not result["refused"]
        and result["stored_twice"] == 0
        and result["undelivered"] == 0
        and result["delivered"] == result["stored"]
        and result["latency_ms"]["p99"] < P99_LIMIT_MS
    )


async def _close(links: list, tasks: list) -> None:
    await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def load_session(
    target: Target, redis_server: RedisServer, args: argparse.Namespace, steps: list[tuple[float, float]], tag: str
) -> list[dict[str, Any]]:
    """Start the servers, connect consoles and visitors, then run each (rate, seconds) step; stop at a failing
    step when there are several. Returns one result per step run."""
    ledger, tasks, results = Ledger(), [], []
    consoles = [ConsoleLink(n, target, ledger) for n in range(args.agents)]
    visitors = [VisitorLink(n, target, ledger) for n in range(args.conversations)]
    await target.start_servers([free_port() for _ in range(args.processes)])
    try:
        tasks += [asyncio.create_task(console.run()) for console in consoles]
        await wait_until(lambda: all(c.ready.is_set() for c in consoles), timeout=60, what=f"consoles {ledger.errors}")
        await open_visitors(visitors, tasks, batch=50, timeout=120)
        await warm_up(target, visitors, consoles, rate=args.warm_up_rate, tag=tag)
        await asyncio.sleep(1.0)
        # On this shared machine one stall of another process can spoil a step's p99: a sweep step fails only
        # when every try fails.
        tries = args.step_tries if len(steps) > 1 else 1
        for number, (rate, seconds) in enumerate(steps, start=1):
            for attempt in range(1, tries + 1):
                prefix = f"{tag}s{number}t{attempt}-"
                result = await measured_step(target, redis_server, visitors, ledger, rate, seconds, args, prefix)
                results.append(result | {"try": attempt})
                if result["held"]:
                    break
            if len(steps) > 1 and not results[-1]["held"]:
                break
    finally:
        await _close(visitors + consoles, tasks)
        await target.stop_servers()
    return results


async def measured_step(
    target: Target,
    redis_server: RedisServer,
    visitors: list[VisitorLink],
    ledger: Ledger,
    rate: float,
    seconds: float,
    args: argparse.Namespace,
    prefix: str,
) -> dict[str, Any]:
    load_before = load_average()
    before = await snapshot(target, redis_server)
    cpu_before = target.cpu_seconds()
    started = now_ns()
    ids = await offer(visitors, rate=rate, seconds=seconds, tag=prefix)
    offered_for = (now_ns() - started) / 1e9
    drained = await settle(ledger, ids, drain=args.drain)
    after = await snapshot(target, redis_server)
    cpu_used = target.cpu_seconds() - cpu_before
    stored = await target.stored(prefix)
    result = account(ledger, ids, stored)
    result |= {
        "rate": rate,
        "seconds": seconds,
        "offered_for_seconds": offered_for,
        "drained_seconds": drained,
        "load_before": load_before,
        "load_after": load_average(),
        "rss_kib": target.rss_kib(),
        # The servers' CPU per message sent (pings and drain included): steadier than latency on a busy machine.
        "server_cpu_ms_per_message": cpu_used * 1000 / max(1, result["sent"]),
        "errors": dict(ledger.errors),
        "per_message": per_message(before, after, max(1, result["sent"])),
    }
    result["held"] = held(result)
    return result


async def idle_session(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Measure the server's memory per idle visitor socket, then restart it and time the visitors' return."""
    ledger, tasks = Ledger(), []
    await target.start_servers([free_port()])
    try:
        warm = [VisitorLink(n, target, ledger) for n in range(20)]
        await open_visitors(warm, tasks, batch=20, timeout=60)
        await _close(warm, tasks)
        tasks.clear()
        await asyncio.sleep(1.0)
        rss_before = target.rss_kib()[0]
        visitors = [VisitorLink(n, target, ledger) for n in range(args.idle_visitors)]
        opened = await open_visitors(visitors, tasks, batch=100, timeout=120)
        await asyncio.sleep(2.0)
        rss_after = target.rss_kib()[0]
        restarted = time.monotonic()
        await target.stop_server(0)
        stopped = time.monotonic()
        await target.start_server(0)
        answering = time.monotonic()
        back = 0
        with contextlib.suppress(RuntimeError):
            await wait_until(
                lambda: all(v.welcomes >= 2 for v in visitors), timeout=args.restart_timeout, what="reconnects"
            )
        back = sum(1 for v in visitors if v.welcomes >= 2)
        finished = time.monotonic()
        await _close(visitors, tasks)
    finally:
        await target.stop_servers()
    return {
        "visitors": len(visitors),
        "open_seconds": opened,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "kib_per_visitor": (rss_after - rss_before) / len(visitors),
        "stop_seconds": stopped - restarted,
        "start_seconds": answering - stopped,
        "back": back,
        "back_after_answering_seconds": finished - answering,
        "back_after_restart_seconds": finished - restarted,
        "errors": dict(ledger.errors),
    }


# --- printing ------------------------------------------------------------------------------------


def _ms(summary: dict[str, float]) -> str:
    return " ".join(f"{key} {summary[key]:.1f}" for key in ("p50", "p90", "p99", "max"))


def print_step(result: dict[str, Any]) -> None:
    verdict = ("held" if result["held"] else "NOT held") + (
        f", try {result['try']}" if result.get("try", 1) > 1 else ""
    )
    print(
        f"  {result['rate']:g} msg/s for {result['seconds']:g} s ({verdict}; load {result['load_before']} → "
        f"{result['load_after']}; RSS {', '.join(f'{kib / 1024:.0f}' for kib in result['rss_kib'])} MiB; "
        f"server CPU {result['server_cpu_ms_per_message']:.2f} ms per message)"
    )
    print(
        f"    sent {result['sent']}/{result['offered']}  acked {result['acked']}  stored {result['stored']}  "
        f"delivered {result['delivered']}  undelivered {result['undelivered']}  doubled {result['doubled']}  "
        f"refused {sum(result['refused'].values())} {result['refused'] or ''}  unanswered {result['unanswered']}  "
        f"stored twice {result['stored_twice']}  acked not stored {result['acked_not_stored']}  "
        f"only fetched {result['fetched_only']}  resent {result['resent']}"
    )
    print(f"    visitor→agent ms {_ms(result['latency_ms'])}   ack ms {_ms(result['ack_ms'])}")
    lag = result["send_lag_ms"]
    frames = ", ".join(f"{kind} {n:.2f}" for kind, n in result["frames_per_delivered"].items())
    print(
        f"    client send lag ms p99 {lag['p99']:.1f} max {lag['max']:.1f}   frames at consoles per delivered "
        f"message: {frames or '-'}   echoes to the sender per message {result['echoes_per_sent']:.2f}"
    )
    cost = result["per_message"]
    print(
        f"    per message: SQL {cost['sql_statements']:.2f} statements + {cost['sql_begin_commit']:.2f} "
        f"BEGIN/COMMIT/savepoints, Redis {cost['redis_commands']:.2f} commands (incl. those inside Lua scripts)"
    )
    for label, n in cost["sql"].items():
        if n >= 0.005:
            print(f"      SQL   {n:6.2f}  {label}")
    for name, n in cost["redis"].items():
        if n >= 0.005:
            print(f"      Redis {n:6.2f}  {name}")
    if result["errors"]:
        print(f"    socket errors {result['errors']}")


def print_idle(result: dict[str, Any]) -> None:
    print(
        f"  {result['visitors']} idle visitors opened in {result['open_seconds']:.1f} s; server RSS "
        f"{result['rss_before_kib'] / 1024:.1f} → {result['rss_after_kib'] / 1024:.1f} MiB = "
        f"{result['kib_per_visitor']:.1f} KiB per visitor"
    )
    print(
        f"  restart: stopped in {result['stop_seconds']:.1f} s, answering {result['start_seconds']:.1f} s later; "
        f"{result['back']}/{result['visitors']} back with a welcome {result['back_after_answering_seconds']:.1f} s "
        f"after it answered ({result['back_after_restart_seconds']:.1f} s after the restart began)"
    )
    if result["errors"]:
        print(f"  socket errors (mostly refused while the server was down) {result['errors']}")


def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def print_summary(runs: list[dict[str, Any]]) -> None:
    """Print each scenario's medians over the rounds, the product beside the baseline."""
    print("\n== summary (medians over the rounds)")
    by = {(run["scenario"], run["system"]): [] for run in runs}
    for run in runs:
        by[(run["scenario"], run["system"])].append(run)
    for system in SYSTEMS:
        fixed = [run["steps"][0] for run in by.get(("fixed", system), []) if run.get("steps")]
        if fixed:
            print(
                f"  fixed  {system:8}  p99 {_median([r['latency_ms']['p99'] for r in fixed]):7.1f} ms  "
                f"p50 {_median([r['latency_ms']['p50'] for r in fixed]):6.1f} ms  "
                f"undelivered {[r['undelivered'] for r in fixed]}  "
                f"SQL {_median([r['per_message']['sql_statements'] for r in fixed]):.2f} "
                f"(+{_median([r['per_message']['sql_begin_commit'] for r in fixed]):.2f} BEGIN/COMMIT)  "
                f"Redis {_median([r['per_message']['redis_commands'] for r in fixed]):.2f} per message"
            )
    for system in SYSTEMS:
        sweeps = by.get(("sweep", system), [])
        if sweeps:
            print(f"  sweep  {system:8}  highest rate held {[run['highest_held'] for run in sweeps]} msg/s")
    for system in SYSTEMS:
        idles = [run["idle"] for run in by.get(("idle", system), []) if run.get("idle")]
        if idles:
            print(
                f"  idle   {system:8}  {_median([r['kib_per_visitor'] for r in idles]):.1f} KiB per visitor; "
                f"back after a restart in {_median([r['back_after_answering_seconds'] for r in idles]):.1f} s "
                f"({_median([r['back_after_restart_seconds'] for r in idles]):.1f} s from the restart), "
                f"back {[r['back'] for r in idles]} of {idles[0]['visitors']}"
            )


# --- the command ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small numbers everywhere (a couple of minutes)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="any of fixed,sweep,idle")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="any of product,baseline")
    parser.add_argument("--rounds", type=int, help="product then baseline, this many times per scenario")
    parser.add_argument("--conversations", type=int, help="visitors, each in a conversation of their own")
    parser.add_argument("--agents", type=int, help="agent consoles (default: one per 8 conversations)")
    parser.add_argument("--processes", type=int, default=1, help="server processes on one Redis (fixed, sweep)")
    parser.add_argument("--rate", type=float, help="messages per second offered over all conversations (fixed)")
    parser.add_argument("--duration", type=float, help="seconds of offered load (fixed)")
    parser.add_argument("--drain", type=float, help="seconds to wait for late deliveries after the last send")
    parser.add_argument("--sweep-rates", help="comma-separated rates, tried in order until one fails")
    parser.add_argument("--step-seconds", type=float, help="seconds of offered load per sweep step")
    parser.add_argument("--step-tries", type=int, default=2, help="tries of a sweep step before it counts as failed")
    parser.add_argument("--idle-visitors", type=int, help="idle visitor sockets (idle)")
    parser.add_argument("--restart-timeout", type=float, default=90.0, help="seconds to wait for the reconnects")
    parser.add_argument("--warm-up-rate", type=float, default=50.0, help="conversations started per second")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.agents is None:
        args.agents = max(2, math.ceil(args.conversations / 8))
    if args.agents * CHATS_PER_AGENT < args.conversations:
        parser.error(f"{args.agents} agents take at most {args.agents * CHATS_PER_AGENT} chats")
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.systems = [s for s in args.systems.split(",") if s]
    if not set(args.scenarios) <= set(SCENARIOS) or not set(args.systems) <= set(SYSTEMS):
        parser.error(f"scenarios are {', '.join(SCENARIOS)}; systems are {', '.join(SYSTEMS)}")
    args.sweep_rates = [float(rate) for rate in args.sweep_rates.split(",")]
    return args


def session_bound(args: argparse.Namespace, steps: list[tuple[float, float]]) -> float:
    """Return the most seconds a session may take: start-up, warm-up, every try of every step, with margin."""
    tries = args.step_tries if len(steps) > 1 else 1
    return 300 + tries * sum(seconds + args.drain + 30 for _rate, seconds in steps)


def run_scenario(
    scenario: str, target: Target, redis_server: RedisServer, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    target.reset()
    redis_server.clear()
    run: dict[str, Any] = {"scenario": scenario, "system": target.name, "load_before": load_average()}
    if scenario == "idle":
        run["idle"] = asyncio.run(asyncio.wait_for(idle_session(target, args), 300 + 2 * args.restart_timeout))
        print_idle(run["idle"])
    else:
        steps = (
            [(args.rate, args.duration)]
            if scenario == "fixed"
            else [(rate, args.step_seconds) for rate in args.sweep_rates]
        )
        session = load_session(target, redis_server, args, steps, tag)
        run["steps"] = asyncio.run(asyncio.wait_for(session, session_bound(args, steps)))
        for step in run["steps"]:
            print_step(step)
        if scenario == "sweep":
            run["highest_held"] = max((step["rate"] for step in run["steps"] if step["held"]), default=0)
            print(f"  highest rate held: {run['highest_held']:g} msg/s")
    run["load_after"] = load_average()
    return run


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # so the servers are stopped as on Ctrl-C


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    database = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_bench")
    use_database(database)
    work_dir = Path(tempfile.mkdtemp(prefix="chat-load-"))
    redis_server = RedisServer(work_dir)
    common = {"database_url": database, "redis_url": redis_server.url, "log_dir": work_dir}
    needed = args.conversations if {"fixed", "sweep"} & set(args.scenarios) else 1
    product = Product(
        agents=args.agents, chats_per_agent=min(CHATS_PER_AGENT, math.ceil(needed / args.agents) + 2), **common
    )
    baseline = BareRelay(**common)
    targets = [target for target in (product, baseline) if target.name in args.systems]
    report: dict[str, Any] = {"arguments": {k: str(v) for k, v in vars(args).items()}, "load_start": load_average()}
    print(
        f"chat load bench: load average {report['load_start']} (1, 5, 15 min), {os.cpu_count()} cores; logs {work_dir}"
    )
    runs = []
    try:
        for target in targets:
            target.prepare()
        for scenario in args.scenarios:
            for round_number in range(1, args.rounds + 1):
                for target in targets:
                    heading = f"{scenario} · {target.name} · round {round_number}/{args.rounds}"
                    print(f"\n== {heading} · {describe(scenario, args)}")
                    tag = f"{target.name[0]}{scenario[0]}{round_number}x{time.time_ns() % 10**9}-"
                    runs.append(run_scenario(scenario, target, redis_server, args, tag) | {"round": round_number})
        print_summary(runs)
    finally:
        for target in targets:
            target.kill()
        redis_server.stop()
        report |= {"runs": runs, "load_end": load_average()}
        print(f"\nload average at the end {report['load_end']}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
    shutil.rmtree(work_dir, ignore_errors=True)


def describe(scenario: str, args: argparse.Namespace) -> str:
    if scenario == "idle":
        return f"{args.idle_visitors} idle visitors, 1 process, then a restart"
    what = f"{args.conversations} conversations, {args.agents} consoles, {args.processes} process(es)"
    if scenario == "fixed":
        return f"{what}, {args.rate:g} msg/s for {args.duration:g} s"
    return f"{what}, rates {','.join(f'{r:g}' for r in args.sweep_rates)} for {args.step_seconds:g} s each"


if __name__ == "__main__":
    sys.exit(main())
