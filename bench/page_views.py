"""Time recording a page view (as the widget does) with the visitor tally kept, and without it.

Records the same stream of page views twice on a fresh tenant each time: ``--visitors`` visitors
over ``--days`` days, each coming back a few times a day for a few pages. Once as the product does
(``visits.record_page_view``, which also tallies the visitor per local day, week and month) and once
with the tallying switched off, and prints the mean, p50 and p99 per page view and how many
statements each made. Talks only to PostgreSQL on 127.0.0.1.

    .venv/bin/python bench/page_views.py --visitors 300 --days 3

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/chatops_views_bench) names the
database; it is created and migrated if missing, and the bench tenant is replaced on every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager

from benchdb import use_database

SLUG = "page-view-bench"


def stream(visitors: int, days: int, seed: int) -> list[tuple[int, dt.datetime]]:
    """Return (visitor number, moment) in time order: 1-3 visits a day of 1-6 pages, a minute apart."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC)
    views = []
    for visitor in range(visitors):
        for day in range(days):
            for _visit in range(rng.randint(1, 3)):
                moment = start + dt.timedelta(days=day, minutes=rng.randint(0, 14 * 60))
                views += [(visitor, moment + dt.timedelta(minutes=page)) for page in range(rng.randint(1, 6))]
    return sorted(views, key=lambda view: view[1])


@contextmanager
def tallying(enabled: bool):
    from conversations import visitor_tallies

    original = visitor_tallies.tally_page_view
    if not enabled:
        visitor_tallies.tally_page_view = lambda **_kwargs: None
    try:
        yield
    finally:
        visitor_tallies.tally_page_view = original


def record_all(views: list[tuple[int, dt.datetime]], visitors: int, *, tally: bool) -> tuple[list[float], float]:
    """Record the stream on a fresh tenant; return the seconds per view and the statements per view."""
    from django.db import connection

    from conversations import visits
    from conversations.models import Visitor
    from tenants.models import Tenant

    Tenant.objects.filter(slug=SLUG).delete()
    tenant = Tenant.objects.create(name="Page view bench", slug=SLUG, time_zone="Europe/Helsinki")
    people = Visitor.objects.bulk_create(Visitor(tenant=tenant) for _ in range(visitors))
    seconds, statements = [], 0

    def counted(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with tallying(tally), connection.execute_wrapper(counted):
        for number, moment in views:
            began = time.perf_counter()
            visits.record_page_view(tenant=tenant, visitor=people[number], url="https://shop.example/", now=moment)
            seconds.append(time.perf_counter() - began)
    return seconds, statements / len(views)


def line(label: str, seconds: list[float], statements: float) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"{label:<16} mean {statistics.mean(seconds) * 1000:5.2f} ms, p50 {statistics.median(seconds) * 1000:5.2f} ms, "
        f"p99 {p99 * 1000:5.2f} ms, {statements:.2f} statements a view"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    use_database(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_views_bench"))
    views = stream(args.visitors, args.days, args.seed)
    print(f"{len(views):,} page views of {args.visitors} visitors over {args.days} days, recorded one by one")
    for tally in (False, True, False, True):  # taking turns, so a passing load touches both alike
        seconds, statements = record_all(views, args.visitors, tally=tally)
        print(line("with tallies" if tally else "without tallies", seconds, statements))
    return 0


if __name__ == "__main__":
    sys.exit(main())
