"""Kill -9 a real worker at each step of sending an e-mail, restart it, run the tasks again, and count.

A real Celery worker (its own queue on the test Redis, the test database) sends through an aiosmtpd
server of this test. ``tests/outbox/crash_worker.py`` kills the worker with SIGKILL at one step of its
first e-mail: opening the connection, half-way through DATA, right after the server's 250, or after
that before the COMMIT that records it. A second, plain worker is started, and the outbox's sweep is
run as beat runs it, until every e-mail is settled. Then the messages at the server are counted per
e-mail (a handoff report; a weekly report of one period): exactly one each, except the documented
window (after the 250, before the row is marked sent), where the recipient has one duplicate with
the same Message-ID and the admin says it may have been sent twice.

Before the outbox (the sending as it was, same worker, same steps, the old tasks run again): the
handoff report arrived twice after a kill after the 250 or before the commit, with the admin
showing one plain "sent"; the weekly report stayed "being sent" for ever at every step, never sent
when the kill came before the 250.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from conversations import services
from conversations.models import Handoff, Visitor
from conversations.outcomes import close_with_outcome
from outbox import tasks as outbox_tasks
from outbox.models import OutgoingEmail
from reporting import services as report_services
from reporting.models import ReportDelivery
from tenants.models import ReportRecipient, Tenant
from tests import factories
from tests.conftest import mail_server_on_loopback
from tests.plugins import services_required, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
LEASE_SECONDS = 3
SETTLE_SECONDS = 90
STEPS = ("before_smtp", "during_data", "after_250", "before_commit")
IN_THE_WINDOW = {"after_250", "before_commit"}


class Recorder:
    """Keep every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def copies(self) -> Counter:
        """Return how many copies of each Message-ID arrived."""
        return Counter(str(message["Message-ID"]) for message in self.messages)


@pytest.fixture
def mail_server():
    recorder = Recorder()
    with mail_server_on_loopback(recorder) as port:
        yield port, recorder


@pytest.fixture
def workers(mail_server):
    """Start workers on queues of their own; the app asks the crashing ones, the sweep goes to the plain one.

    ``start(step, queue)``: a worker on one of the two queues, killing itself at ``step`` (or not, "none").
    E-mails queued by the app are asked of the "crash" queue; ``sweep()`` runs the outbox's sweep on the
    "plain" queue, as beat would.
    """
    from chatops.celery import app

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        skip_or_fail("needs REDIS_URL and PostgreSQL", required=services_required(), switch="REQUIRE_SERVICES")
    db = connection.settings_dict
    run = uuid.uuid4().hex[:8]
    queues = {"crash": f"crash-{run}", "plain": f"plain-{run}"}
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{mail_server[0]}",
        "EMAIL_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        # A lease held past the handover covers the wait for the server's answer: keep that short here.
        "EMAIL_TIMEOUT": "3",
    }
    started: list[subprocess.Popen] = []

    def start(step: str, queue: str) -> subprocess.Popen:
        arguments = ["--pool=solo", "-Q", queues[queue], "--without-mingle", "--without-gossip", "--without-heartbeat"]
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.outbox.crash_worker", step, *arguments, "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    app.conf.task_always_eager = False
    previous, app.conf.task_default_queue = app.conf.task_default_queue, queues["crash"]
    start.sweep = lambda: outbox_tasks.deliver_due.apply_async(queue=queues["plain"])
    try:
        yield start
    finally:
        app.conf.task_default_queue = previous
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def escalated_handoff(tenant: Tenant) -> Handoff:
    """Close a chat as escalated: its handoff report is queued, and its e-mail asked of a worker at commit."""
    agent = factories.make_agent(trained_for=[tenant], display_name="Anna")
    conversation = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    services.post_visitor_message(conversation=conversation, body="Kahvinkeitin on rikki.")
    close_with_outcome(
        conversation=conversation,
        agent=agent,
        outcome="escalated",
        handoff={
            "summary": "Rikki",
            "visitor_email": "maija@example.fi",
            "promise": "Soitto",
            "promised_by": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )
    return Handoff.objects.get(conversation=conversation)


def due_weekly_report(tenant: Tenant) -> ReportDelivery:
    """Let the schedule compose last week's report of the (live) tenant: it has weekly recipients only."""
    report_services.queue_due_reports()
    return ReportDelivery.objects.get(tenant=tenant)


def client_company(kind: str, step: str) -> Tenant:
    live = {"status": Tenant.Status.LIVE, "went_live_at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC)}
    tenant = factories.make_tenant(
        name=f"Kahvila {step}", slug=f"kahvila-{step.replace('_', '-')}", language="fi", **live
    )
    ReportRecipient.objects.create(
        tenant=tenant,
        email="boss@kahvila.example",
        escalations=kind == "handoff",
        weekly=kind == "report",
        monthly=False,
    )
    return tenant


def settle(email: OutgoingEmail, worker: subprocess.Popen, sweep) -> OutgoingEmail:
    """Run the outbox's sweep as beat does (every second here) until the e-mail is sent or given up."""
    deadline = time.monotonic() + SETTLE_SECONDS
    settled = (OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED, OutgoingEmail.Status.UNKNOWN)
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.stdout.read()
        email.refresh_from_db()
        if email.status in settled:
            return email
        sweep()
        time.sleep(1)
    raise AssertionError(f"not settled in {SETTLE_SECONDS} s: {email.status}")


@pytest.mark.parametrize("kind", ["handoff", "report"])
def test_a_worker_killed_at_any_step_of_a_send_delivers_once_except_in_the_documented_window(
    workers, mail_server, client, ops_manager, kind
):
    _port, server = mail_server
    plain = workers("none", "plain")
    client.force_login(ops_manager)
    model = Handoff if kind == "handoff" else ReportDelivery
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    seen, expected = {}, {}
    for step in STEPS:
        # given a handoff report or a weekly report queued (a client company each), its worker asked at commit
        tenant = client_company(kind, step)
        record = escalated_handoff(tenant) if kind == "handoff" else due_weekly_report(tenant)
        email = record.outgoing

        # when the worker is killed at the step of its send
        crashing = workers(step, "crash")
        crashing.wait(timeout=60)
        log = crashing.stdout.read()
        assert crashing.returncode == -9 and f"killed at {step}" in log, log
        arrived_before_restart = server.copies()[email.message_id]

        # and the tasks run again on a worker that lives
        settled = settle(email, plain, workers.sweep)

        # then it arrived once, or twice with one Message-ID in the window; the admin tells which
        row = client.get(changelist, {"tenant__id__exact": tenant.pk}).content.decode()
        seen[step] = (
            arrived_before_restart,
            settled.status,
            server.copies()[email.message_id],
            "may have been sent twice" in row,
        )
        in_window = step in IN_THE_WINDOW
        expected[step] = (1 if in_window else 0, OutgoingEmail.Status.SENT, 2 if in_window else 1, in_window)
    assert seen == expected
    assert all(copies in (1, 2) for copies in server.copies().values())
