"""Run the live chat's clocks in a loop: for the embedded default, where no Celery beat runs."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from conversations.timers import sweep_live_chats

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Every few seconds, close chats their visitor left, release absent agents' chats, re-offer unanswered "
        "chats and alert long waits."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--every", type=float, default=5.0, help="seconds between sweeps (default 5)")
        parser.add_argument("--once", action="store_true", help="sweep once and exit")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        while True:
            try:
                result = sweep_live_chats()
            except DatabaseError:
                if once:
                    raise
                # A locked SQLite file or a database restart must not stop the clocks for good.
                logger.exception("Live chat sweep failed; trying again in %s s", every)
                close_old_connections()
                time.sleep(every)
                continue
            if any((result.chats_abandoned, result.agents_released, result.chats_requeued, result.waits_alerted)):
                self.stdout.write(
                    f"closed {result.chats_abandoned} chats the visitor left, "
                    f"released {result.agents_released} agents, re-offered {result.chats_requeued} chats, "
                    f"alerted {result.waits_alerted} long waits"
                )
            if once:
                return
            time.sleep(every)
