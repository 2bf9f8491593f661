"""Background work of the reports; thin: call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from reporting import services


@shared_task(ignore_result=True)
def queue_due_reports() -> int:
    """Compose the weekly and monthly reports whose tenant's local sending time has come; return how many.

    Each goes to the outbox, which sends it (and retries a refusal) after commit.
    """
    return len(services.queue_due_reports())
