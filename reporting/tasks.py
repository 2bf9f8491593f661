"""Background work of the reports; thin: load by id, call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import transaction

from reporting import services

RETRY_BACKOFF_SECONDS = 60
RETRY_BACKOFF_MAX_SECONDS = 3600
MAX_RETRIES = 6


@shared_task(ignore_result=True)
def queue_due_reports() -> int:
    """Queue the weekly and monthly reports whose tenant's local sending time has come; return how many."""
    ids = services.queue_due_reports()
    for delivery_id in ids:
        transaction.on_commit(lambda delivery_id=delivery_id: send_report.delay(delivery_id))
    return len(ids)


# Only a PENDING record is sent, and it is marked SENDING (committed) before the mail server is
# contacted: a redelivered, re-run or retried task never sends a report twice. An SMTP failure puts
# the record back to PENDING and retries with exponential back-off; the last failure marks it FAILED.
@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def send_report(self, delivery_id: int) -> bool:
    """Send one report delivery if it is still waiting; return whether it went out."""
    result = services.send_delivery(delivery_id=delivery_id, retry_on_failure=self.request.retries < self.max_retries)
    if result.retry:
        countdown = get_exponential_backoff_interval(
            factor=RETRY_BACKOFF_SECONDS,
            retries=self.request.retries,
            maximum=RETRY_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        raise self.retry(countdown=countdown)
    return result.sent
