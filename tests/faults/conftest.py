"""Fixtures of the fault suite: a Redis of the test's own, daphne and Celery processes on it, and the stage.

The processes come from tests/processes.py (`daphne_factory`, `celery_worker_factory`) and the Redis from
tests/conftest.py (`redis_server`); here they are only pointed at each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connections

from tests.faults.clients import ClientLoop
from tests.faults.stage import NO_VISITOR_LIMITS, QUICK_CLOCKS, Stage
from tests.processes import DaphneServer, WorkerProcess, wait_until_answering


@pytest.fixture
def start_daphne(daphne_factory, redis_server) -> Callable[..., DaphneServer]:
    """Return a function that starts a daphne process on the test's Redis, with quick clocks unless told otherwise."""

    def start(**env: str) -> DaphneServer:
        return daphne_factory(REDIS_URL=redis_server.url, **(QUICK_CLOCKS | NO_VISITOR_LIMITS | env))

    return start


@pytest.fixture
def start_daphnes(daphne_factory, redis_server) -> Callable[..., list[DaphneServer]]:
    """Return a function that starts `count` daphne processes at once (as start_daphne each) and waits for all."""

    def start(count: int, **env: str) -> list[DaphneServer]:
        env = QUICK_CLOCKS | NO_VISITOR_LIMITS | env
        servers = [daphne_factory(REDIS_URL=redis_server.url, answering=False, **env) for _ in range(count)]
        for server in servers:
            wait_until_answering(server)
        return servers

    return start


@pytest.fixture
def start_worker(celery_worker_factory, redis_server) -> Callable[..., WorkerProcess]:
    """Return a function that starts a Celery worker with the live-chat clock on the test's Redis."""

    def start(**env: str) -> WorkerProcess:
        return celery_worker_factory(REDIS_URL=redis_server.url, **(QUICK_CLOCKS | env))

    return start


@pytest.fixture
def stage(transactional_db, daphne_factory, celery_worker_factory) -> Iterator[Stage]:
    """A tenant open now on a site of its own; the clients' loop; every client stopped at the end.

    It asks for the process factories so that it ends before them: the clients close first, and the
    processes then stop with no connection to wind down.
    """
    stage = Stage(loop=ClientLoop())
    stage.open_tenant()
    try:
        yield stage
    finally:
        stage.loop.close(stage.all_clients())
        connections.close_all()
