"""Back after Redis: the worker and beat live through Redis restarts, and the clock runs again.

A redis-server of this test's own (appendonly, as production runs it, so a restart keeps the queue),
a real worker (prefork, two processes) and real beat run the project as ``make worker`` and
``make beat`` do. Redis is restarted again and again while the worker is busy: both processes send
e-mails to a slow mail server, so the worker holds unacknowledged tasks while it waits on Redis —
the moment a closed connection's channel used to crash it (``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")``, see ``chatops/broker.py``). After
each restart the worker is still running and the live-chat clock (beat → worker → database) has run
again within 30 s; a task sent just before a restart, while the worker was busy, is not lost.
(daphne through a restart: tests/e2e/test_redis_restart.py.)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.core.mail import EmailMessage
from django.db import connection
from django.utils import timezone

from conversations.models import LIVE_CHAT_CLOCK
from conversations.selectors import clock_last_ran
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants.models import OnboardingItem
from tests import factories
from tests.conftest import mail_server_on_loopback
from tests.plugins import services_required, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
RESTARTS = 6
CLOCK_BACK_WITHIN = 30
SLOW_SMTP_SECONDS = 3


class SlowMailServer:
    """Take a few seconds over each message, as a busy mail server does."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SLOW_SMTP_SECONDS)
        self.received += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_mail_server():
    handler = SlowMailServer()
    with mail_server_on_loopback(handler) as port:
        yield port, handler


@pytest.fixture
def project(redis_server, slow_mail_server, tmp_path):
    """Start the project's worker and beat on our Redis, as `make worker` and `make beat` do; stop them after."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL", required=services_required(), switch="REQUIRE_SERVICES")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{slow_mail_server[0]}",
    }
    celery = [sys.executable, "-m", "celery", "-A", "chatops"]
    commands = {
        "worker": [*celery, "worker", "--concurrency=2", "--loglevel=INFO"],
        "beat": [*celery, "beat", f"--schedule={tmp_path / 'beat-schedule'}", "--loglevel=INFO"],
    }
    processes = {}
    for name, command in commands.items():
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process below)
        processes[name] = (subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    yield {name: process for name, (process, _log) in processes.items()}
    for process, log in processes.values():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def log_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text()[-6000:]


def clock_ran_since(moment, *, within: int) -> float | None:
    """Wait until the live-chat clock has run after ``moment``; return after how many seconds (None: it did not)."""
    deadline = time.monotonic() + within
    started = time.monotonic()
    while time.monotonic() < deadline:
        last = clock_last_ran(name=LIVE_CHAT_CLOCK)
        if last is not None and last > moment:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def test_the_worker_lives_through_redis_restarts_and_the_clock_runs_again_within_30_s(
    project, redis_server, slow_mail_server, tmp_path
):
    # given the worker and beat are running and the clock ticks
    # Not the current app: later tests' tasks would go to this app's broker (the test's own Redis, stopped).
    producer = Celery("sender", broker=redis_server.url, set_as_current=False)
    assert clock_ran_since(timezone.now(), within=60) is not None, log_of(tmp_path, "worker")
    tenant = factories.make_tenant(name="Broker Oy", slug="broker")
    _port, mail_server = slow_mail_server

    for restart in range(1, RESTARTS + 1):
        # given one worker process busy with a slow e-mail (unacknowledged) while the worker waits on Redis for more;
        # before the last restart both are busy, and a task waits in Redis behind them
        last = restart == RESTARTS
        for number in (1, 2) if last else (1,):
            message = EmailMessage(subject=f"Restart {restart}.{number}", body="Hei", to=["ops@example.fi"])
            email = outbox.queue_email(message=message, kind="test", send=outbox.BY_CALLER)
            producer.send_task("outbox.tasks.deliver_email", args=[email.pk])
        time.sleep(1)
        if last:
            producer.send_task("tenants.tasks.build_onboarding_checklist", args=[tenant.pk])

        # when Redis restarts
        redis_server.stop()
        time.sleep(1)
        restarted_at = timezone.now()
        redis_server.start()

        # then the worker and beat live on, and the clock runs again within 30 s
        back_after = clock_ran_since(restarted_at, within=CLOCK_BACK_WITHIN)
        for name, process in project.items():
            assert process.poll() is None, f"{name} died after restart {restart}:\n{log_of(tmp_path, name)}"
        assert back_after is not None, f"no clock run after restart {restart}:\n{log_of(tmp_path, 'worker')}"

    # and the task sent while the worker was busy, just before the last restart, ran after it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not OnboardingItem.objects.for_tenant(tenant).exists():
        time.sleep(0.5)
    assert OnboardingItem.objects.for_tenant(tenant).count() == 10, log_of(tmp_path, "worker")
    # and every e-mail went out (the outbox's sweep takes over what a restart interrupted)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).exists():
        time.sleep(1)
    assert not OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).exists(), log_of(tmp_path, "worker")
    assert mail_server.received >= RESTARTS + 1
