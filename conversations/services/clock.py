"""The clock of the live chat, and the record of each clock's last run."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from conversations import timers
from conversations.models import LIVE_CHAT_CLOCK, ClockRun


def run_live_chat_clock(*, now: dt.datetime | None = None) -> timers.SweepResult:
    """Run every clock of the live chat once, then record that it ran (the operations board watches that)."""
    result = timers.sweep_live_chats(now=now)
    record_clock_run(name=LIVE_CHAT_CLOCK)
    return result


def record_clock_run(*, name: str, now: dt.datetime | None = None) -> None:
    """Record that a clock has just finished a run."""
    now = now or timezone.now()
    if not ClockRun.objects.filter(name=name).update(last_ran_at=now):
        ClockRun.objects.update_or_create(name=name, defaults={"last_ran_at": now})
