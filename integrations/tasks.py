"""Background work of the webhooks; thin: call the service. Safe to run twice and at once."""

from __future__ import annotations

from celery import shared_task

from integrations import services


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Make one attempt at a webhook delivery (nothing if it is delivered, leased or not due)."""
    services.deliver(delivery_id)


@shared_task(ignore_result=True)
def deliver_due_webhooks() -> int:
    """Attempt the deliveries that are due, their retries and those whose worker died; return how many."""
    return services.deliver_due()
