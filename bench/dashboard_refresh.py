"""Time a client dashboard refresh and an operations board refresh as the history grows, and print them.

Fills a bench tenant with closed chats spread over the past year (in steps up to ``--history``), plus a
few today, and times ``reporting.consumers.dashboard_frame`` (what a live dashboard computes per
refresh) and ``reporting.selectors.operations_board`` with their query counts. A refresh should take
about the same time and exactly the same queries whatever the history. Talks only to 127.0.0.1.

    python bench/dashboard_refresh.py --history 100000

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/chatops_bench); the
bench database is created and migrated if missing, and the bench tenants are replaced on each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from benchdb import use_database

RUNS = 7


def add_history(tenant, visitor, *, start: int, stop: int, now: dt.datetime) -> None:
    """Add closed chats number start..stop-1, spread back over the year before this week."""
    from conversations.models import Conversation

    year_ago = now - dt.timedelta(days=365)
    step = dt.timedelta(days=350) / max(stop, 1)
    batch = []
    for index in range(start, stop):
        began = year_ago + step * index
        batch.append(
            Conversation(
                tenant=tenant,
                visitor=visitor,
                status=Conversation.Status.CLOSED,
                outcome=Conversation.Outcome.RESOLVED,
                started_at=began,
                first_visitor_message_at=began + dt.timedelta(seconds=1),
                first_agent_reply_at=began + dt.timedelta(seconds=8),
                assigned_at=began + dt.timedelta(seconds=2),
                closed_at=began + dt.timedelta(minutes=6),
                rating=5,
            )
        )
    Conversation.objects.bulk_create(batch, batch_size=5000)


def timed(call) -> tuple[float, int]:
    """Return the median milliseconds of a call over RUNS runs and its query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durations = []
    for _run in range(RUNS):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    return statistics.median(durations), len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=100_000, help="old chats at the last step")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_bench")
    use_database(url)

    from django.db import connection
    from django.utils import timezone

    from conversations.models import Conversation, Visitor
    from reporting import selectors
    from reporting.consumers import dashboard_frame
    from tenants.models import Tenant

    Tenant.objects.filter(slug__startswith="bench-dash").delete()
    tenant = Tenant.objects.create(name="Bench dashboard", slug="bench-dash", status=Tenant.Status.LIVE)
    visitor = Visitor.objects.create(tenant=tenant)
    now = timezone.now()
    for minutes in range(1, 21):
        Conversation.objects.create(tenant=tenant, visitor=visitor, started_at=now - dt.timedelta(minutes=minutes))

    steps = [step for step in (0, 1_000, 10_000, 100_000, 1_000_000) if step < args.history] + [args.history]
    print(f"{'old chats':>10} | {'dashboard ms':>12} | {'queries':>7} | {'board ms':>8} | {'queries':>7}")
    print(f"{'-' * 10} | {'-' * 12} | {'-' * 7} | {'-' * 8} | {'-' * 7}")
    have = 0
    for step in steps:
        add_history(tenant, visitor, start=have, stop=step, now=now)
        have = step
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE conversations_conversation")
        dashboard_ms, dashboard_queries = timed(lambda: dashboard_frame(tenant))
        board_ms, board_queries = timed(lambda: selectors.operations_board(now=timezone.now()))
        print(f"{step:>10,} | {dashboard_ms:>12.1f} | {dashboard_queries:>7} | {board_ms:>8.1f} | {board_queries:>7}")
    Tenant.objects.filter(slug__startswith="bench-dash").delete()


if __name__ == "__main__":
    main()
