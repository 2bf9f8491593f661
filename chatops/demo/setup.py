"""The demo's team and client companies, set up through the services, each step on the day it was done.

A client company is walked through its onboarding from the contract on: the knowledge base, the
hours, the canned responses, the report recipients and its client login, the agents' training, the
invitation rules and tags, the widget seen on its site, go-live, and its change notices read (or not
yet) by the agents. Every write goes through the service the admin or the console uses, at its past
moment, so the checklist completes itself as it would have.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser

from accounts import roles
from accounts.services import create_login
from chatops.demo.description import Demo, Holiday, Notice, TenantSpec
from conversations import workspace
from tenants import onboarding, proactive
from tenants import services as tenants
from tenants.models import OnboardingItem, Tenant
from workforce import services as workforce
from workforce.models import Agent

# What an origin of the demo's sites looks like: the local server (the widget preview) and the client's own.
LOCAL_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
TRAINEE_STARTED_DAYS_AGO = 8


@dataclass(frozen=True)
class Team:
    """The demo's logins that work in the admin and the console."""

    manager: AbstractBaseUser
    agents: dict[str, Agent]


def password_hashes(demo: Demo) -> dict[str, str]:
    """Hash each published demo password once: hashing is slow on purpose, and many logins share one."""
    team = demo.team
    return {
        password: make_password(password)
        for password in (team.manager_password, team.agent_password, team.client_password)
    }


def create_team(demo: Demo, *, hashes: dict[str, str]) -> Team:
    """Create the operations manager and the agents with the published passwords (nobody is e-mailed)."""
    team = demo.team
    manager = create_login(
        email=team.manager_email,
        full_name=team.manager_name,
        role=roles.OPERATIONS_MANAGER,
        username=team.manager_username,
        password_hash=hashes[team.manager_password],
    )
    agents = {
        spec.username: workforce.create_agent(
            email=spec.email,
            display_name=spec.display_name,
            full_name=spec.full_name,
            languages=list(spec.languages),
            max_concurrent_chats=spec.max_concurrent_chats,
            username=spec.username,
            password_hash=hashes[team.agent_password],
        )
        for spec in team.agents
    }
    return Team(manager=manager, agents=agents)


def local_moment(zone, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def next_holiday(holidays: tuple[Holiday, ...], today: dt.date) -> tuple[dt.date, str] | None:
    """Return the date and name of the public holiday that comes next after today (this year's or next year's)."""
    upcoming = []
    for holiday in holidays:
        date = dt.date(today.year, holiday.month, holiday.day)
        upcoming.append((date if date > today else date.replace(year=today.year + 1), holiday.note))
    return min(upcoming, default=None)


class _Onboarding:
    """One client company's onboarding: dated steps, taken in order up to now."""

    def __init__(self, *, demo: Demo, spec: TenantSpec, team: Team, now: dt.datetime, client_password_hash: str):
        self.demo, self.spec, self.team, self.now = demo, spec, team, now
        self.client_password_hash = client_password_hash
        self.zone = spec.zone
        self.today = now.astimezone(self.zone).date()
        self.contract = self.today - dt.timedelta(days=spec.contract_days_ago)
        self.steps: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
        self.tenant: Tenant | None = None

    def on_day(self, day: int, hour: int = 10, minute: int = 30) -> dt.datetime:
        return local_moment(self.zone, self.contract + dt.timedelta(days=day), hour, minute)

    def step(self, moment: dt.datetime, do: Callable[[dt.datetime], None]) -> None:
        self.steps.append((moment, len(self.steps), do))

    def run(self) -> Tenant:
        spec, days = self.spec, self.demo.team.onboarding
        self.tenant = self._create(self.on_day(0, 9, 0))
        for key in spec.manual_steps_done:
            self.step(self.on_day(days.day(key)), lambda moment, key=key: self._tick(key, moment))
        self.step(self.on_day(days.day("knowledge_base")), self._knowledge_base)
        self.step(self.on_day(days.day("service_hours")), self._service_hours)
        self.step(self.on_day(days.day("canned_responses")), self._canned_responses)
        self.step(self.on_day(days.day("report_recipients")), self._recipients_and_client_login)
        self._training()
        self.step(self.on_day(days.day("invitation_rules")), self._invitation_rules_and_tags)
        if spec.widget_seen:
            self.step(self.on_day(days.day("widget_installed"), 11, 0), self._widget_seen)
        if spec.live:
            self.step(self.on_day(days.day("live"), 9, 0), self._go_live)
        self._notices()
        for moment, _order, do in sorted(self.steps, key=lambda step: step[:2]):
            if moment <= self.now:
                do(moment)
        self.tenant.refresh_from_db()
        return self.tenant

    def _create(self, moment: dt.datetime) -> Tenant:
        spec = self.spec
        return tenants.create_tenant(
            now=moment,
            name=spec.name,
            slug=spec.slug,
            contract_signed_on=self.contract,
            time_zone=spec.time_zone,
            language=spec.language,
            tone=spec.tone,
            style_notes=spec.style_notes,
            goals=list(spec.goals),
            widget_key=spec.widget_key,
            allowed_origins="\n".join([*LOCAL_ORIGINS, self.site()]),
            widget_colour=spec.colour,
            greeting=spec.greeting,
            escalation_rules=spec.escalation_rules,
        )

    def site(self) -> str:
        return f"https://www.{self.spec.slug}.example"

    def _tick(self, key: str, moment: dt.datetime) -> None:
        item = OnboardingItem.objects.for_tenant(self.tenant).get(key=key)
        onboarding.tick_step(item=item, by=self.team.manager, now=moment)

    def _knowledge_base(self, moment: dt.datetime) -> None:
        for article in self.spec.articles:
            tenants.add_knowledge_article(
                tenant=self.tenant, title=article.title, keywords=article.keywords, body=article.body, now=moment
            )

    def _service_hours(self, moment: dt.datetime) -> None:
        weekly = [(hours.weekday, hours.opens, hours.closes) for hours in self.spec.hours]
        tenants.set_service_hours(tenant=self.tenant, weekly=weekly, now=moment)
        holiday = next_holiday(self.spec.holidays, self.today)
        if holiday is not None:
            date, note = holiday
            tenants.add_service_exception(tenant=self.tenant, date=date, closed=True, note=note)

    def _canned_responses(self, moment: dt.datetime) -> None:
        for shortcut, text in self.spec.canned:
            tenants.add_canned_response(tenant=self.tenant, shortcut=shortcut, text=text, now=moment)

    def _recipients_and_client_login(self, moment: dt.datetime) -> None:
        spec = self.spec
        for recipient in spec.recipients:
            tenants.add_report_recipient(
                tenant=self.tenant,
                name=recipient.name,
                email=recipient.email,
                weekly=recipient.weekly,
                monthly=recipient.monthly,
                escalations=recipient.escalations,
                now=moment,
            )
        tenants.add_client_user(
            tenant=self.tenant,
            email=spec.client_email,
            full_name=spec.client_name,
            username=spec.client_username,
            password_hash=self.client_password_hash,
        )

    def _training(self) -> None:
        """Train the agents one day apart; a trainee started a week ago and has not finished."""
        days, agents = self.demo.team.onboarding, self.team.agents
        for index, spec in enumerate(self.demo.trained_for(self.spec.slug)):
            agent = agents[spec.username]
            started = days.day("training_starts") + index
            completed = min(started + days.day("training_days"), (self.today - self.contract).days)
            self.step(
                self.on_day(started, 9, 0), lambda moment, agent=agent, day=started: self._start(agent, day, moment)
            )
            self.step(
                self.on_day(completed, 16, 0),
                lambda moment, agent=agent, day=completed: workforce.complete_training(
                    agent=agent, tenant=self.tenant, on=self.contract + dt.timedelta(days=day), now=moment
                ),
            )
        for spec in self.demo.team.agents:
            if self.spec.slug in spec.in_training_for:
                started = max((self.today - self.contract).days - TRAINEE_STARTED_DAYS_AGO, 0)
                agent = agents[spec.username]
                self.step(
                    self.on_day(started, 9, 0), lambda moment, agent=agent, day=started: self._start(agent, day, moment)
                )

    def _start(self, agent: Agent, day: int, moment: dt.datetime) -> None:
        workforce.start_training(agent=agent, tenant=self.tenant, on=self.contract + dt.timedelta(days=day), now=moment)

    def _invitation_rules_and_tags(self, moment: dt.datetime) -> None:
        for position, invitation in enumerate(self.spec.invitations, start=1):
            proactive.add_invitation_rule(
                tenant=self.tenant,
                name=invitation.name,
                url_pattern=invitation.url_pattern,
                seconds_on_page=invitation.seconds_on_page,
                returning_only=invitation.returning_only,
                message=invitation.message,
                is_active=invitation.active,
                position=10 * position,
            )
        workspace.define_tags(tenant=self.tenant, names=list(self.spec.tags))

    def _widget_seen(self, moment: dt.datetime) -> None:
        tenants.record_widget_seen(tenant=self.tenant, origin=self.site(), now=moment)

    def _go_live(self, moment: dt.datetime) -> None:
        tenants.mark_tenant_live(tenant=self.tenant, by=self.team.manager, now=moment)

    def _notices(self) -> None:
        """Post the change notices: the older ones every trained agent has read, the open one all but the last.

        In a live tenant the last trained agent has not acknowledged the open notice, so the console
        reminds them and the admin names them; in one still onboarding nobody has read it yet.
        """
        history = self.demo.team.history
        trained = [self.team.agents[spec.username] for spec in self.demo.trained_for(self.spec.slug)]
        notices = [(self.spec.notice, self.now - dt.timedelta(hours=history.open_notice_age_hours), trained[:-1])]
        notices += [
            (notice, self.now - dt.timedelta(days=notice.days_ago), trained) for notice in self.spec.earlier_notices
        ]
        for notice, posted, readers in notices:
            self.step(posted, lambda moment, notice=notice, readers=readers: self._post(notice, readers, moment))

    def _post(self, notice: Notice, readers: list[Agent], posted: dt.datetime) -> None:
        change = tenants.post_change_notice(
            tenant=self.tenant, title=notice.title, body=notice.body, by=self.team.manager, now=posted
        )
        if not self.spec.live:
            return
        # Each reader got to it on their next shift.
        for hours, reader in zip(self.demo.team.history.acknowledged_after_hours, readers, strict=False):
            read = posted + dt.timedelta(hours=hours)
            if read < self.now:
                workforce.acknowledge_notice(notice=change, agent=reader, now=read)


def onboard_tenant(*, demo: Demo, spec: TenantSpec, team: Team, now: dt.datetime, client_password_hash: str) -> Tenant:
    """Create a client company and take it through its onboarding as it happened, up to ``now``."""
    return _Onboarding(demo=demo, spec=spec, team=team, now=now, client_password_hash=client_password_hash).run()
