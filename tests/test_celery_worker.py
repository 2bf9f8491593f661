"""A real Celery worker on the Redis broker runs the tasks the app queues after commit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tenants import services
from tenants.models import OnboardingItem, Tenant
from tests.plugins import services_required, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def database_url_of_the_test_database() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    """Start a real worker on a queue of its own and make the app send there; stop it afterwards."""
    from chatops.celery import app

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        skip_or_fail(
            "needs REDIS_URL and PostgreSQL (run through `make test`)",
            required=services_required(),
            switch="REQUIRE_SERVICES",
        )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url_of_the_test_database(), "CELERY_TASK_ALWAYS_EAGER": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "chatops", "worker", "--pool=solo", "-Q", queue, "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    previous_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous_queue
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_saving_a_tenant_in_the_admin_queues_its_checklist_and_a_real_worker_builds_it(worker_queue):
    # when the admin's save runs (no transaction is open, so the on-commit hook sends the task at once)
    tenant = services.save_tenant(tenant=Tenant(name="Broker Oy", slug="broker"))

    # then the worker process builds the checklist within a few seconds
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and OnboardingItem.objects.for_tenant(tenant).count() < 10:
        assert worker_queue.poll() is None, worker_queue.stdout.read()
        time.sleep(0.2)
    assert OnboardingItem.objects.for_tenant(tenant).count() == 10
