"""The suite on several pytest-xdist workers (`make test` runs it so): what each worker keeps to itself.

pytest-django gives each worker a test database of its own (`test_<name>_gw0`, …). Redis is shared, so
each worker gets a database number of its own, set in its environment before it reads Django's settings:
the N-th worker uses REDIS_URL's database plus N. Every test flushes the cache (FLUSHDB), and the channel
layer's pub/sub channels carry the database number in their prefix (chatops/settings.py), so workers never
see each other's keys, tasks or events; the processes a test starts inherit the worker's REDIS_URL. The
SQLite rerun runs once for all workers (tests/sqlite_rerun.py).

Tests go to the workers a file at a time (`--dist loadfile`): a module's fixtures, such as the seeded
demo, are built once. The fault suite (tests/faults/) counts as one file: it runs on one worker, one test
after another, as it always has. The slowest files start first, so that none is left running alone at the
end while the other workers idle.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

# Redis' default number of databases (`databases 16` in redis.conf).
REDIS_DATABASES = 16

FAULT_SUITE = "tests/faults/"

# The units of work that take longest, slowest first (seconds in one process on the 2-core CI machine,
# December 2026): the seeded demo (170), the fault suite (190), the crash-safe outbox (80), the SQLite
# rerun that test_sql.py's last test starts (50), the demo on SQLite (30), Redis restarts (38), the
# live-sync pages (36), the bench (28).
SLOW_FIRST = (
    "tests/chatops/test_seed_demo.py",
    FAULT_SUITE,
    "tests/outbox/test_crash_safety.py",
    "tests/conversations/test_sql.py",
    "tests/chatops/test_seed_demo_sqlite.py",
    "tests/test_redis_restart.py",
    "tests/e2e/test_live_sync.py",
    "tests/conversations/test_chat_load_bench.py",
)


def redis_url_of_worker(url: str, index: int) -> str:
    """Return the Redis URL with its database number moved up by the worker's index."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or "0") + index
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"pytest-xdist worker {index} would use Redis database {database} of {url}, past Redis' "
            f"{REDIS_DATABASES}: use fewer workers (-n) or a lower database number in REDIS_URL."
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


def unit_of(nodeid: str) -> str:
    """Return the unit of work a test belongs to: its file, or the whole fault suite."""
    path = nodeid.split("::", 1)[0]
    return FAULT_SUITE if path.startswith(FAULT_SUITE) else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list) -> None:
    # In the controller, before the workers start: execnet sets each spec's env in its worker process.
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    for index, spec in enumerate(specs):
        spec.env["REDIS_URL"] = redis_url_of_worker(settings.REDIS_URL, index)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesAndTheFaultSuite(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return FilesAndTheFaultSuite(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # On a worker, after pytest-django's order: the controller hands out the units in this order
    # (with --no-loadscope-reorder).
    if not hasattr(config, "workerinput"):
        return
    rank = {unit: place for place, unit in enumerate(SLOW_FIRST)}
    # A stable sort: within a unit, and among the other units, the order so far stays.
    items.sort(key=lambda item: rank.get(unit_of(item.nodeid), len(rank)))
