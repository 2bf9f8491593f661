"""Delete each tenant's conversations older than its retention period now, as the nightly task does."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from conversations import retention
from tenants import selectors as tenant_selectors


class Command(BaseCommand):
    help = (
        "Delete each tenant's closed conversations that started before its retention period, with their "
        "messages, notes and leads, and its older page views and the visitors left with nothing. Visitor "
        "tallies stay. Safe while the site runs; the nightly task does the same."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--tenant", action="append", default=[], metavar="SLUG", help="only this tenant (repeatable)"
        )
        parser.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=retention.DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"rows per transaction (default {retention.DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, tenant: list[str], dry_run: bool, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("The batch size must be at least 1.")
        tenants, missing = tenant_selectors.tenants_by_slug(tenant)
        if missing:
            raise CommandError(f"No tenant with the short name: {', '.join(missing)}")
        verb = "would delete" if dry_run else "deleted"
        numbered = iter(range(1, len(tenants) + 1))

        def report(purge: retention.TenantPurge) -> None:
            self.stdout.write(
                f"[{next(numbered)}/{len(tenants)}] {purge.slug}: {verb} {purge.conversations} conversations "
                f"({purge.messages} messages), {purge.page_views} page views, {purge.visitors} visitors "
                f"from before {purge.cutoff.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
            )

        began = time.monotonic()
        result = retention.purge_expired(tenants=tenants, dry_run=dry_run, batch_size=batch_size, progress=report)
        summary = (
            f"{'Would delete' if dry_run else 'Deleted'} {result.total('conversations')} conversations, "
            f"{result.total('page_views')} page views and {result.total('visitors')} visitors of {len(tenants)} "
            f"tenants in {time.monotonic() - began:.1f} s."
        )
        self.stdout.write(self.style.SUCCESS(summary))
