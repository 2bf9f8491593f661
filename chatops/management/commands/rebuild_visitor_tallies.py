"""Recount the visitor tallies from the page views: once after upgrading, or whenever in doubt."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from conversations import visitor_tallies
from tenants import selectors as tenant_selectors


class Command(BaseCommand):
    help = (
        "Recount each tenant's distinct visitors per local day, week and month from its page views, so the "
        "KPIs of every period read the tally instead of counting page views. Safe while the site runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--tenant", action="append", default=[], metavar="SLUG", help="only this tenant (repeatable)"
        )

    def handle(self, *args, tenant: list[str], **options) -> None:
        tenants, missing = tenant_selectors.tenants_by_slug(tenant)
        if missing:
            raise CommandError(f"No tenant with the short name: {', '.join(missing)}")
        began = time.monotonic()
        for number, one in enumerate(tenants, start=1):
            # One tenant per transaction: its page views wait only for its own recount.
            rebuilt = visitor_tallies.rebuild([one])
            self.stdout.write(f"[{number}/{len(tenants)}] {one.slug}: {rebuilt.tallies} tallies, {rebuilt.marks} marks")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {len(tenants)} tenants in {time.monotonic() - began:.1f} s."))
