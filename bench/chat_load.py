"""Load the live chat end to end and print its figures.

Starts real daphne processes (default two) on loopback sharing one Redis channel layer, connects
agent consoles to them and opens many visitor conversations at once, spread across the processes.
Every visitor message carries its send time; the agent's console notes when it arrives. Prints
messages per second (acknowledged by the server, i.e. stored), p50/p99 visitor→agent latency and
each daphne process's resident memory. Bounded in count and time; talks only to 127.0.0.1.

    python bench/chat_load.py --visitors 200 --messages 5 --processes 2

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/chatops_bench;
REDIS_URL, default redis://127.0.0.1:6379/0). The bench database is created and migrated if missing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://bench.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = f"{parts.scheme}://{parts.netloc}/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(env: dict[str, str], agents: int) -> tuple[str, list[str]]:
    """Migrate, then create a bench tenant with agents on duty; return the widget key and session cookies."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from chatops.models import Agent, Qualification, Shift
    from tenants.models import Tenant

    Tenant.objects.filter(slug="bench").delete()
    get_user_model().objects.filter(username__startswith="bench-agent-").delete()
    tenant = Tenant.objects.create(name="Bench", slug="bench", allowed_origins=ORIGIN, status=Tenant.Status.LIVE)
    now = timezone.now()
    cookies = []
    for n in range(agents):
        user = get_user_model().objects.create_user(username=f"bench-agent-{n}")
        agent = Agent.objects.create(
            user=user,
            display_name=f"Bench {n}",
            max_concurrent_chats=10,
            presence=Agent.Presence.ONLINE,
            last_seen_at=now,
        )
        Qualification.objects.create(
            agent=agent, tenant=tenant, training_started_on=now.date(), training_completed_on=now.date()
        )
        Shift.objects.create(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=8))
        session = SessionStore()
        session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"sessionid={session.session_key}")
    return tenant.widget_key, cookies


def start_daphne(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatops.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"daphne on port {port} did not start: {process.stderr.read().decode()[-2000:]}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def agent_console(url: str, cookie: str, arrivals: dict, stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin="http://127.0.0.1") as ws:
        await ws.send(json.dumps({"type": "hello"}))
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if frame.get("type") == "activity" and frame.get("sender") == "visitor":
                # A waiting chat's message reaches every console of the tenant's queue: count its first arrival.
                key = (frame["conversation"], frame["seq"])
                if key not in arrivals:
                    arrivals[key] = (time.time_ns() - json.loads(frame["body"])["t"]) / 1e6


async def visitor(url: str, messages: int, pause: float, acked: list[int], errors: list[str]) -> None:
    import websockets

    try:
        async with websockets.connect(url, origin=ORIGIN) as ws:
            await ws.send(json.dumps({"type": "hello", "url": ORIGIN + "/pricing"}))
            await ws.recv()
            for n in range(messages):
                body = json.dumps({"t": time.time_ns(), "n": n})
                await ws.send(json.dumps({"type": "message", "body": body, "client_msg_id": f"m{n}"}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
                    if frame["type"] == "ack":
                        acked.append(1)
                        break
                    if frame["type"] == "error":
                        errors.append(frame["code"])
                        break
                await asyncio.sleep(pause)
    except Exception as error:  # a bench counts failures instead of stopping
        errors.append(type(error).__name__)


async def run_load(ports, key, cookies, visitors, messages, pause) -> dict:
    arrivals: dict = {}
    acked: list[int] = []
    errors: list[str] = []
    stop = asyncio.Event()
    consoles = [
        asyncio.create_task(agent_console(f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/console/", c, arrivals, stop))
        for i, c in enumerate(cookies)
    ]
    await asyncio.sleep(1.0)
    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(
            *(
                visitor(
                    f"ws://127.0.0.1:{ports[(i + 1) % len(ports)]}/ws/widget/{key}/", messages, pause, acked, errors
                )
                for i in range(visitors)
            )
        ),
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    # Let deliveries still on their way arrive: stop when nothing new came for two seconds (at most 30 s).
    seen, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + 30
    while time.monotonic() < deadline and time.monotonic() - quiet_since < 2:
        if len(arrivals) != seen:
            seen, quiet_since = len(arrivals), time.monotonic()
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*consoles, return_exceptions=True)
    return {"elapsed": elapsed, "latencies": list(arrivals.values()), "acked": len(acked), "errors": errors}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5, help="messages per visitor")
    parser.add_argument("--agents", type=int, default=20, help="agents (10 chats each)")
    parser.add_argument("--processes", type=int, default=2, help="daphne processes on one Redis")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between one visitor's messages")
    args = parser.parse_args()

    database = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_bench")
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ensure_database(database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatops.settings",
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-" + "x" * 60,
        "SECURE_SSL_REDIRECT": "0",
        "CONN_MAX_AGE": "60",
        "CHAT_CONVERSATIONS_PER_IP_PER_HOUR": str(args.visitors * 10),
        "CHAT_MESSAGES_PER_VISITOR_PER_MINUTE": str(args.messages * 10),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    key, cookies = prepare(env, args.agents)
    ports = [free_port() for _ in range(args.processes)]
    processes = [start_daphne(env, port) for port in ports]
    try:
        idle = [rss_mb(p.pid) for p in processes]
        if os.environ.get("BENCH_PROFILE"):
            subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-d",
                    "8",
                    "-f",
                    "raw",
                    "-o",
                    os.environ["BENCH_PROFILE"],
                    "-p",
                    str(processes[0].pid),
                    "-s",
                ]
            )
        result = asyncio.run(run_load(ports, key, cookies, args.visitors, args.messages, args.pause))
        loaded = [rss_mb(p.pid) for p in processes]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    sent = args.visitors * args.messages
    lat = result["latencies"]
    print(f"daphne processes      {args.processes} (one Redis channel layer), agents {args.agents}")
    print(f"visitors at once      {args.visitors}, messages each {args.messages}, pause {args.pause} s")
    print(
        f"messages stored       {result['acked']} of {sent} in {result['elapsed']:.2f} s "
        f"= {result['acked'] / result['elapsed']:.0f} msg/s"
    )
    print(f"reached an agent      {len(lat)} of {sent}")
    print(
        f"visitor→agent latency p50 {percentile(lat, 0.5):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms, "
        f"max {max(lat, default=float('nan')):.1f} ms, mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms"
    )
    print(
        "daphne RSS (MB)       "
        + ", ".join(f"{a:.0f} idle → {b:.0f} loaded" for a, b in zip(idle, loaded, strict=True))
    )
    print(f"errors                {len(result['errors'])} {sorted(set(result['errors']))}")


if __name__ == "__main__":
    main()
