"""Demo data for a first look: three client companies, six agents, eight weeks of chats, shifts since last month.

The demo is data (``data/*.toml``, read by ``description``) and a builder that writes it through the
same services real use goes through, at past moments: ``setup`` onboards the client companies and
trains the team, ``shifts`` plans who works when, ``history`` draws each live client's weeks of
traffic and ``replay`` makes them so. Nothing is published to live sockets while it runs (no one
watches the past), and no e-mail is queued: those the history sent are recorded as sent then.
Everything is drawn from fixed seeds relative to the moment of seeding, so the same moment gives the
same data and the data always looks recent. Demo tenants and users are recognised by their names
together with a marker of their own (``inventory``); nothing else is changed or deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chatops.demo import description, inventory, replay, setup
from chatops.demo.history import Generator
from chatops.demo.inventory import DemoCounts
from chatops.demo.shifts import OpenHours, plan_demo_shifts
from conversations import events
from conversations.models import Conversation, Handoff, Lead, Message, PageView, Visitor
from tenants import onboarding
from tenants.models import OnboardingItem, Tenant

Progress = Callable[[str], None]
# An offline message left late in the history is answered when the tenant next opens, within days.
ANSWERED_WITHIN = dt.timedelta(days=4)


class DemoDataConflict(Exception):
    """A tenant or user with a demo name exists that the demo did not create."""


@dataclass
class SeedResult:
    """What a seeding did: whether it built anything, for which moment, and what is there now."""

    created: bool
    now: dt.datetime
    counts: DemoCounts
    uncovered_hours: list[str] = field(default_factory=list)


def load() -> description.Demo:
    """Return the demo's description (``data/*.toml``)."""
    return description.load()


def agent_usernames() -> list[str]:
    """Return the agents' logins."""
    return [agent.username for agent in load().team.agents]


def client_usernames() -> list[str]:
    """Return the client users' logins, one per demo tenant."""
    return [tenant.client_username for tenant in load().tenants]


def demo_tenants():
    """Return the demo tenants (see ``inventory``)."""
    return inventory.demo_tenants(load())


def demo_users():
    """Return the demo users (see ``inventory``)."""
    return inventory.demo_users(load())


def demo_agents():
    """Return the demo agents (see ``inventory``)."""
    return inventory.demo_agents(load())


def demo_counts() -> DemoCounts:
    """Count the rows of the demo data."""
    return inventory.demo_counts(load())


def delete_demo_data() -> None:
    """Delete the demo tenants with everything they own, and the demo users with their agents."""
    inventory.delete_demo_data(load())


def seed_demo(
    *,
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    data: description.Demo | None = None,
) -> SeedResult:
    """Create the demo data unless it is all there already; with ``reset``, delete and rebuild it.

    ``data`` is the description to build (default: ``data/*.toml``); a test may pass a shorter one.
    Raise DemoDataConflict, changing nothing, if a tenant or user that is not demo data uses a demo name.
    The whole seeding is one transaction, so a failure leaves no half-built demo behind.
    """
    now = now or timezone.now()
    say = progress or (lambda _line: None)
    demo = data or load()
    problems = inventory.find_conflicts(demo)
    if problems:
        raise DemoDataConflict(" ".join(str(problem) for problem in problems))
    with transaction.atomic(), events.silenced():
        if not reset and inventory.demo_is_complete(demo):
            return SeedResult(created=False, now=now, counts=inventory.demo_counts(demo))
        inventory.delete_demo_data(demo)
        uncovered = _build(demo=demo, now=now, say=say)
    return SeedResult(created=True, now=now, counts=inventory.demo_counts(demo), uncovered_hours=uncovered)


def _build(*, demo: description.Demo, now: dt.datetime, say: Progress) -> list[str]:
    """Set up the team and the clients, plan the shifts, then write each live client's history."""
    hashes = setup.password_hashes(demo)
    team = setup.create_team(demo, hashes=hashes)
    tenants = {
        spec.slug: setup.onboard_tenant(
            demo=demo, spec=spec, team=team, now=now, client_password_hash=hashes[demo.team.client_password]
        )
        for spec in demo.tenants
    }
    # Planned before the history, so each chat goes to an agent who was on shift.
    plan = plan_demo_shifts(demo=demo, now=now, agents=team.agents, tenants=tenants)
    names = {agent.pk: username for username, agent in team.agents.items()}
    for spec in demo.tenants:
        tenant = tenants[spec.slug]
        if spec.live:
            open_hours = OpenHours(tenant, start=tenant.went_live_at, end=now + ANSWERED_WITHIN)
            history = Generator(
                demo=demo,
                spec=spec,
                went_live_at=tenant.went_live_at,
                open_hours=open_hours,
                shifts=plan.shifts,
                agents=names,
                abandoned_after=dt.timedelta(minutes=tenant.abandoned_after_minutes),
                now=now,
            ).generate()
            replay.replay_history(tenant=tenant, history=history, agents=team.agents, now=now)
            say(_live_summary(tenant))
        else:
            checklist = onboarding.progress_of(
                OnboardingItem.objects.for_tenant(tenant), onboarding.tenant_today(tenant, now)
            )
            say(
                _("%(tenant)s (%(language)s): onboarding, checklist %(progress)s")
                % {"tenant": tenant.name, "language": tenant.language, "progress": checklist}
            )
    say(
        _("%(agents)d agents, %(shifts)d shifts from %(first)s to %(last)s (%(upcoming)d of them this week and next)")
        % {
            "agents": len(team.agents),
            "shifts": len(plan.shifts),
            "first": plan.first_day.isoformat(),
            "last": plan.last_day.isoformat(),
            "upcoming": plan.upcoming,
        }
    )
    for slot in plan.uncovered:
        say(_("No trained agent free for %(slot)s") % {"slot": slot})
    return plan.uncovered


def _live_summary(tenant: Tenant) -> str:
    def count(model) -> int:
        return model.objects.for_tenant(tenant).count()

    return _(
        "%(tenant)s (%(language)s): live, %(conversations)d conversations, %(messages)d messages, "
        "%(visitors)d visitors, %(page_views)d page views, %(leads)d leads, %(handoffs)d handoff reports"
    ) % {
        "tenant": tenant.name,
        "language": tenant.language,
        "conversations": count(Conversation),
        "messages": count(Message),
        "visitors": count(Visitor),
        "page_views": count(PageView),
        "leads": count(Lead),
        "handoffs": count(Handoff),
    }
