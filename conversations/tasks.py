"""Background work of the live chat; thin: load by id, call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from conversations import aftercare, handoff, offline, retention, visitor_tallies
from tenants.models import Tenant


# SMTP failures (smtplib's errors are OSErrors) are retried with backoff; the sending is recorded only
# when it succeeded, so a retry after a partial failure still sends, and a rerun after success does not.
@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=8)
def email_offline_message(message_id: int) -> int:
    """E-mail a question left in the widget to the tenant's escalation contacts; return how many got it."""
    return offline.forward_offline_message(message_id=message_id)


# The same back-off as above. The task is bound so it knows whether a failure is its last try: the report
# then shows as failed in the admin instead of waiting forever.
@shared_task(
    bind=True, autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=8
)
def send_handoff_report(self, handoff_id: int) -> int:
    """E-mail an escalated chat's handoff report to the tenant's escalation contacts; return how many got it."""
    return handoff.send_handoff_report(handoff_id=handoff_id, final_attempt=self.request.retries >= self.max_retries)


# Retried like the message above; the request's row records each attempt, and the last one leaves it FAILED.
@shared_task(
    bind=True, autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=8
)
def email_transcript(self, request_id: int) -> bool:
    """E-mail a transcript a visitor asked for, once; return whether it was sent by this run."""
    return aftercare.send_transcript(request_id=request_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task
def rebuild_visitor_tallies(tenant_id: int) -> int:
    """Recount one tenant's visitor tallies from its page views (after its time zone changed); return the tallies."""
    return visitor_tallies.rebuild(Tenant.objects.filter(pk=tenant_id)).tallies


@shared_task
def prune_visitor_marks() -> int:
    """Delete the visitor marks of periods that are over; return how many."""
    return visitor_tallies.prune_marks()


@shared_task
def purge_expired_conversations() -> int:
    """Delete each tenant's conversations, page views and visitors older than its retention; return the chats."""
    return retention.purge_expired().total("conversations")
