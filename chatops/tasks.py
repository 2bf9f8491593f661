"""Background work of the operations side; thin: call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from chatops.staffing_services import email_short_hours
from conversations.services import run_live_chat_clock


@shared_task(ignore_result=True)
def run_live_chat_timers() -> dict[str, int]:
    """Close chats their visitor left, release absent agents' chats, re-offer unanswered chats, alert long waits;
    record that the clock ran."""
    result = run_live_chat_clock()
    return {
        "visitors_vanished": result.visitors_vanished,
        "chats_abandoned": result.chats_abandoned,
        "agents_released": result.agents_released,
        "chats_requeued": result.chats_requeued,
        "waits_alerted": result.waits_alerted,
    }


@shared_task(ignore_result=True)
def email_short_staffed_hours() -> int:
    """E-mail the operations managers the coming week's short-staffed hours (daily)."""
    return email_short_hours(now=timezone.now())
