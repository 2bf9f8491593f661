"""Create realistic, reproducible demo data: ``manage.py seed_demo [--reset] [--weeks N]``."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from chatops import demo
from chatops.demo import description


class Command(BaseCommand):
    help = (
        "Create three demo client companies, six agents, eight weeks of chat history and shifts from the first "
        "day of last month to the end of next week. "
        "Running it again changes nothing; --reset rebuilds the demo data. Other tenants are never touched. "
        "--weeks gives the live clients a shorter history (quicker to build)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo tenants, users and their data first, then rebuild."
        )
        parser.add_argument(
            "--weeks",
            type=int,
            choices=range(1, 9),
            metavar="{1..8}",
            help="Weeks of chat history for the live clients (default: all eight); fewer weeks build faster.",
        )

    def handle(self, *args, reset: bool = False, weeks: int | None = None, **options) -> None:
        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        if verbose:
            self.stdout.write(_("Seeding demo data…"))
        try:
            data = description.with_weeks_of_history(demo.load(), weeks) if weeks else None
            result = demo.seed_demo(reset=reset, progress=self._say if verbose else None, data=data)
        except demo.DemoDataConflict as error:
            raise CommandError(str(error)) from error
        if not verbose:
            return
        counts = result.counts
        totals = _(
            "%(tenants)d tenants, %(agents)d agents, %(shifts)d shifts, %(conversations)d conversations, "
            "%(messages)d messages, %(leads)d leads, %(handoffs)d handoff reports"
        ) % {
            "tenants": counts.tenants,
            "agents": counts.agents,
            "shifts": counts.shifts,
            "conversations": counts.conversations,
            "messages": counts.messages,
            "leads": counts.leads,
            "handoffs": counts.handoffs,
        }
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo data ready in %(seconds).1f s: %(totals)s.")
                    % {"seconds": time.monotonic() - started, "totals": totals}
                )
            )
        else:
            self.stdout.write(
                _("Demo data already present (%(totals)s); nothing changed. Run with --reset to rebuild it.")
                % {"totals": totals}
            )
        site, team = settings.SITE_URL, demo.load().team
        self.stdout.write(
            _("Admin: %(url)s  user %(user)s / password %(password)s")
            % {"url": f"{site}/admin/", "user": team.manager_username, "password": team.manager_password}
        )
        self.stdout.write(
            _("Agent console: %(url)s  users %(users)s / password %(password)s")
            % {"url": f"{site}/console/", "users": ", ".join(demo.agent_usernames()), "password": team.agent_password}
        )
        self.stdout.write(
            _("Client dashboard: %(url)s  users %(users)s / password %(password)s")
            % {
                "url": f"{site}/dashboard/",
                "users": ", ".join(demo.client_usernames()),
                "password": team.client_password,
            }
        )

    def _say(self, line: str) -> None:
        self.stdout.write("  " + line)
