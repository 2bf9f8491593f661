"""The tests' own processes end with the test: a Celery worker killed at teardown leaves no child running
(its pool and beat are processes of their own, which outlived it while only the worker was killed)."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.processes import end_processes

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def children_of(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {int(child) for child in found}


def alive(pid: int) -> bool:
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_a_worker_ended_at_teardown_leaves_none_of_its_children_running(celery_worker_factory, redis_server):
    # given a Celery worker with its beat, whose pool and beat processes have started
    worker = celery_worker_factory(REDIS_URL=redis_server.url)
    deadline = time.monotonic() + 60
    while len(children_of(worker.process.pid)) < 2:
        assert time.monotonic() < deadline, f"the worker's children did not start:\n{worker.output()}"
        time.sleep(0.2)
    children = children_of(worker.process.pid)

    # when the teardown ends it with no grace at all (the SIGKILL a slow stop gets)
    end_processes([worker.process], grace=0)

    # then its children are gone too
    deadline = time.monotonic() + 10
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [child for child in children if alive(child)] == []
