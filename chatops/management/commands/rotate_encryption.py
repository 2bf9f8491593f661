"""Re-encrypt every stored chat text under the newest key of CHATOPS_ENCRYPTION_KEYS."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts import audit
from accounts.models import AuditEntry
from conversations import rekeying, sealing


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted message, note, comment and contact detail whose key is not the newest "
        "one in CHATOPS_ENCRYPTION_KEYS, in batches (one transaction each) while the site runs. Deploy the "
        "new key first in front of the old ones; remove an old key only after this has finished."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=None, metavar="N", help="rows per transaction")

    def handle(self, *args, batch_size: int | None, **options) -> None:
        if batch_size is not None and batch_size < 1:
            raise CommandError("The batch size must be at least 1.")
        ring = sealing.keyring()
        began = time.monotonic()

        def report(model, rows: int, rewritten: int) -> None:
            if rewritten:
                self.stdout.write(f"{model._meta.model_name}: {rewritten} values re-encrypted in {rows} rows")

        try:
            result = rekeying.rotate_to_newest_key(batch=batch_size, report=report)
        except sealing.MissingEncryptionKey as error:
            raise CommandError(str(error)) from error
        audit.record(
            user=None,
            actor="manage.py rotate_encryption",
            action=AuditEntry.Action.ROTATED_KEYS,
            object_type="encryption keys",
            object_id=ring.newest_id,
            details=", ".join(f"{name}: {count}" for name, count in sorted(result.rewritten.items()) if count),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {result.total} values under the key {ring.newest_id!r} "
                f"in {time.monotonic() - began:.1f} s."
            )
        )
