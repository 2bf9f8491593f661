"""Background work of the outbox; thin: call the service. Safe to run twice and at once."""

from __future__ import annotations

from celery import shared_task

from outbox import services


@shared_task(ignore_result=True)
def deliver_email(email_id: int) -> None:
    """Make one attempt at sending a queued e-mail (nothing if it is sent, leased or not due)."""
    services.deliver(email_id)


@shared_task(ignore_result=True)
def deliver_due() -> int:
    """Attempt the e-mails that are due, their retries and those whose sender died; return how many."""
    return services.deliver_due()
