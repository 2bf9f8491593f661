"""Background work of the operations side; thin: call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from conversations.timers import sweep_live_chats


@shared_task(ignore_result=True)
def run_live_chat_timers() -> dict[str, int]:
    """Close chats their visitor left, release absent agents' chats, re-offer unanswered chats, alert long waits."""
    result = sweep_live_chats()
    return {
        "visitors_vanished": result.visitors_vanished,
        "chats_abandoned": result.chats_abandoned,
        "agents_released": result.agents_released,
        "chats_requeued": result.chats_requeued,
        "waits_alerted": result.waits_alerted,
    }
