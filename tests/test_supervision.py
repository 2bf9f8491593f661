"""A worker that dies comes back: `make worker` restarts it, and the shipped process manager configs do too."""

from __future__ import annotations

import configparser
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from conversations.models import LIVE_CHAT_CLOCK
from conversations.selectors import clock_last_ran
from tests.plugins import services_required, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SUPERVISE = ROOT / "scripts" / "supervise.sh"
STARTED = re.compile(r"supervise: started \S+ \(pid (\d+)\)")


class Supervised:
    """scripts/supervise.sh running a command; its messages are read as they come."""

    def __init__(self, *command: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            ["bash", str(SUPERVISE), *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern | str, *, within: float) -> re.Match:
        """Return the first message from now on that matches, waiting at most ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no {pattern!r} within {within} s; seen:\n{''.join(self.seen[-40:])}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def test_the_loop_restarts_a_command_that_keeps_failing_with_a_doubling_pause():
    # given a command that fails at once
    supervised = Supervised("sh", "-c", "exit 3")
    try:
        # then it is started again after 1 s, then 2 s, then 4 s
        pauses = [int(supervised.wait_for(r"exit status 3\) after \d+ s; starting it again in (\d+) s", within=10)[1])]
        pauses.append(int(supervised.wait_for(r"starting it again in (\d+) s", within=10)[1]))
        pauses.append(int(supervised.wait_for(r"starting it again in (\d+) s", within=10)[1]))
        assert pauses == [1, 2, 4]
    finally:
        # and SIGTERM stops the loop
        supervised.stop()
    assert supervised.process.returncode is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_make_worker_starts_a_killed_worker_again_and_the_clock_runs_again():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        skip_or_fail("needs REDIS_URL and PostgreSQL", required=services_required(), switch="REQUIRE_SERVICES")
    # given the worker running under `make worker`'s loop, on a queue of its own
    db = connection.settings_dict
    work_queue = f"supervised-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    worker = [sys.executable, "-m", "celery", "-A", "chatops", "worker", "--pool=solo", "-Q", work_queue]
    supervised = Supervised(*worker, "--without-mingle", "--without-gossip", "--loglevel=INFO", env=env)
    # Not the current app: later tests' tasks would go to this app's broker (the test's own Redis, stopped).
    producer = Celery("sender", broker=settings.REDIS_URL, set_as_current=False)

    def clock_runs(within: float) -> bool:
        asked = timezone.now()
        producer.send_task("chatops.tasks.run_live_chat_timers", queue=work_queue)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            last = clock_last_ran(name=LIVE_CHAT_CLOCK)
            if last is not None and last > asked:
                return True
            time.sleep(0.3)
        return False

    try:
        first = int(supervised.wait_for(STARTED, within=30)[1])
        assert clock_runs(within=60), "".join(supervised.seen)

        # when the worker is killed as `kill -9` does
        os.kill(first, signal.SIGKILL)

        # then the loop starts another one, which runs the clock again
        supervised.wait_for(r"stopped \(exit status 137\)", within=30)
        second = int(supervised.wait_for(STARTED, within=30)[1])
        assert second != first
        assert clock_runs(within=60), "".join(supervised.seen)
    finally:
        supervised.stop()
    # and stopping the loop stops the worker too
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)


def test_make_worker_and_make_beat_run_celery_under_the_loop():
    # when
    dry_run = subprocess.run(["make", "-n", "worker", "beat"], cwd=ROOT, capture_output=True, text=True, check=True)

    # then
    commands = [line for line in dry_run.stdout.splitlines() if "supervise.sh" in line]
    assert any("celery -A chatops worker" in line for line in commands), dry_run.stdout
    assert any("celery -A chatops beat" in line for line in commands), dry_run.stdout


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"), strict=False)
    parser.optionxform = str
    parser.read(path)
    return parser


@pytest.mark.parametrize("name", ["chatops-worker", "chatops-beat", "chatops-web"])
def test_the_systemd_units_restart_their_process_whenever_it_stops(name):
    # given
    service = unit(ROOT / "deploy" / "systemd" / f"{name}.service")["Service"]

    # then it is restarted always, without a limit, and stopped with Celery's and daphne's warm shutdown
    assert service["Restart"] == "always"
    assert service["StartLimitIntervalSec"] == "0"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecStart"].startswith("/srv/chatops/.venv/bin/")
    assert service["EnvironmentFile"] == "/etc/chatops/env"


def test_the_supervisord_programs_restart_their_process_whenever_it_stops():
    # given
    config = unit(ROOT / "deploy" / "supervisor" / "chatops.conf")
    programs = {
        section.split(":", 1)[1]: config[section] for section in config.sections() if section.startswith("program:")
    }

    # then the web process, the worker and beat are there, each restarted whenever it stops
    assert set(programs) == {"chatops-web", "chatops-worker", "chatops-beat"}
    for name, program in programs.items():
        assert program["autorestart"] == "true", name
        assert int(program["startretries"]) >= 1000, name
        assert program["stopsignal"] == "TERM", name
    assert "celery -A chatops worker" in programs["chatops-worker"]["command"]
    assert "celery -A chatops beat" in programs["chatops-beat"]["command"]
