"""Run the live chat's clocks in a loop: for the embedded default, where no Celery beat runs.

Each sweep also makes the outbox's and the webhooks' due attempts (retries, what a dead process
left), which Celery beat does in production.
"""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from conversations.services import run_live_chat_clock
from integrations import services as webhooks
from outbox import services as outbox

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Every few seconds, close chats their visitor left, release absent agents' chats, re-offer unanswered "
        "chats, alert long waits and send the e-mails and webhooks that are due."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--every", type=float, default=5.0, help="seconds between sweeps (default 5)")
        parser.add_argument("--once", action="store_true", help="sweep once and exit")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        while True:
            try:
                result = run_live_chat_clock()
                outbox.deliver_due()
                webhooks.deliver_due()
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
