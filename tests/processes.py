"""Real processes on loopback for the tests: daphne (the web and WebSocket server) and the Celery worker.

`daphne_factory` starts as many daphne processes as a test needs (two for the cross-process tests),
each on its own free port, all on the pytest-django test database and the same Redis; keyword arguments
become environment variables of the process (a Redis of the test's own, shorter clocks).
`live_server_daphne` is one of them. `celery_worker_factory` starts a worker with its beat inside (the
live-chat clock) the same way. Every process is stopped when the test ends, passed or failed. Without
PostgreSQL and Redis these fixtures skip the test, or fail it when REQUIRE_SERVICES=1. Used by
tests/e2e/ and tests/faults/ (registered in tests/conftest.py).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from accounts import roles
from tests.plugins import missing_services, services_required, skip_or_fail

BASE_DIR = Path(__file__).resolve().parent.parent
# Polled, so a long limit costs nothing when a process is quick; processes started together on a busy
# 2-core machine have taken over 20 s.
STARTUP_TIMEOUT = 60.0
TEARDOWN_GRACE = 0.5  # seconds a process is given to stop on SIGTERM when its test ends
# The origin of a client that stands for pages served through a load balancer in front of every process.
FRONT_DOOR = "http://127.0.0.1"


@dataclass
class DaphneServer:
    """One running daphne process serving chatops.asgi:application."""

    process: subprocess.Popen
    port: int
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Return what daphne has written to stdout and stderr so far."""
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """End the process at once with SIGKILL, as a crash or the kernel's OOM killer would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def end_processes(processes: list[subprocess.Popen], *, grace: float = TEARDOWN_GRACE) -> None:
    """End processes at a test's end, all at once: SIGTERM, then SIGKILL for any still running after `grace` s.

    The test has its results by then; a daphne with open connections can take over 10 s to stop gracefully,
    and nothing it would do meanwhile matters to the next test (each has its own Redis and a flushed database).
    A process started in a session of its own (the Celery worker: its pool and beat are child processes)
    is ended with its whole group, so that killing the worker leaves no child of it running.
    """
    running = [process for process in processes if process.poll() is None]
    for process in running:
        _signal(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL)
            process.wait(timeout=10)
    for process in processes:
        if _leads_own_group(process):
            _signal(process, signal.SIGKILL)  # what is left of its group (a child outliving its parent)


def _leads_own_group(process: subprocess.Popen) -> bool:
    return bool(getattr(process, "own_group", False))


def _signal(process: subprocess.Popen, number: int) -> None:
    """Send a signal to a process, or to its whole group when it was started as the leader of one."""
    try:
        if _leads_own_group(process):
            os.killpg(process.pid, number)
        elif process.poll() is None:
            process.send_signal(number)
    except ProcessLookupError:
        pass


def database_url_of_test_db() -> str:
    """Return a DATABASE_URL for the test database pytest-django has set up in this process."""
    from django.db import connection

    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A socket directory as host is percent-encoded, which django-environ understands.
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _services_or_skip(what: str) -> None:
    reason = missing_services()
    if reason:
        skip_or_fail(f"{what} processes {reason}", required=services_required(), switch="REQUIRE_SERVICES")
    # The flush after an earlier transactional test empties every table, including the role
    # groups a data migration made; the roles must exist for the users this test creates.
    from django.contrib.auth.models import Group

    for role in roles.ROLES:
        Group.objects.get_or_create(name=role)


def process_env(settings, **extra_env: str) -> dict[str, str]:
    """Return the environment of a project process on the test database and the test's Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatops.settings",
        "DATABASE_URL": database_url_of_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        # DEBUG serves the admin's static files from the apps, with no collectstatic.
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def wait_until_answering(server: DaphneServer) -> None:
    """Return once the daphne process answers HTTP; fail the test if it exits or stays silent."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"daphne exited with code {server.process.returncode}:\n{server.output()}", pytrace=False)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return  # any HTTP answer, even 404, means Django is serving
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            connection.close()
    server.stop()
    pytest.fail(f"daphne did not answer HTTP within {STARTUP_TIMEOUT:.0f} s:\n{server.output()}", pytrace=False)


@pytest.fixture
def daphne_factory(transactional_db, settings) -> Iterator[Callable[..., DaphneServer]]:
    """Return a function that starts a daphne process and returns it once it answers HTTP.

    Keyword arguments become extra environment variables of the process; `answering=False` returns
    at once (start several, then `wait_until_answering` each: they start in parallel); `port` asks for a
    given port, e.g. `daphne_factory(port=server.port)` after `server.stop()` brings a server
    back on the same address for a reconnect test. Every process is stopped when the test
    ends, passed or failed.

    transactional_db: the process reads the database through its own connections, so what
    the test writes must be committed.
    """
    _services_or_skip("daphne")
    servers: list[DaphneServer] = []
    logs = tempfile.TemporaryDirectory(prefix="chatops-daphne-")

    def start(*, port: int = 0, answering: bool = True, **extra_env: str) -> DaphneServer:
        # Bind here and hand the listening socket over, so no other process can take the port in between.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A port given back after a stop may still have connections in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        port = listener.getsockname()[1]
        # The process's own address is chatops' own origin (its staff sockets let in only pages of it), and
        # so is FRONT_DOOR, the one public address several processes share behind a load balancer.
        extra_env.setdefault("OWN_ORIGINS", f"http://127.0.0.1:{port},http://localhost:{port},{FRONT_DOOR}")
        # No Celery worker runs beside these processes unless the test starts one: tasks run inline.
        env = process_env(settings, CELERY_TASK_ALWAYS_EAGER="1", **extra_env)
        log = Path(logs.name) / f"daphne-{len(servers) + 1}-port-{port}.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), "chatops.asgi:application"],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
            )
        listener.close()
        server = DaphneServer(process=process, port=port, log=log, env=env)
        servers.append(server)
        if answering:  # else the caller waits (wait_until_answering), e.g. after starting several at once
            wait_until_answering(server)
        return server

    try:
        yield start
    finally:
        end_processes([server.process for server in servers])
        logs.cleanup()


@pytest.fixture
def live_server_daphne(daphne_factory) -> DaphneServer:
    """Start one real daphne process on the test database; `.url` is its address."""
    return daphne_factory()


@dataclass
class WorkerProcess:
    """A Celery worker with its beat inside: it runs the live-chat clock every CHAT_CLOCK_EVERY seconds."""

    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def celery_worker_factory(transactional_db, settings, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Return a function that starts a Celery worker with beat (`worker -B`, one process) on the test database.

    Keyword arguments become environment variables of the process, as with `daphne_factory` (its
    REDIS_URL above all, and CHAT_CLOCK_EVERY). The worker is stopped when the test ends.
    """
    _services_or_skip("Celery")
    workers: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        env = process_env(settings, CELERY_TASK_ALWAYS_EAGER="0", **extra_env)
        number = len(workers) + 1
        log = tmp_path / f"worker-{number}.log"
        command = [sys.executable, "-m", "celery", "-A", "chatops", "worker", "-B", "--concurrency=1"]
        command += [f"--schedule={tmp_path / f'beat-{number}'}", "--loglevel=INFO", f"--hostname=faults{number}@%h"]
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its pool and beat children end with it (end_processes)
            )
        process.own_group = True
        workers.append(WorkerProcess(process=process, log=log))
        return workers[-1]

    try:
        yield start
    finally:
        end_processes([worker.process for worker in workers])
