"""Reads of the live dashboards (client dashboard, operations board, wall of fame) and of the report e-mails.

Every figure comes from ``reporting.kpis`` (the one definition); this module adds only what is not a
period's KPI: the queue as it is right now. "Waiting now" counts a tenant's live chats (reactive or
proactive) in the queue, i.e. with no agent; messages left outside service hours wait for the next
shift and are counted apart. The longest wait is the time since the oldest of those chats started.

Speed: a refresh reads today and this week (a period's chats through the tenant/start index) and the
queue (through the tenant/status index), in a fixed number of queries, so its cost does not grow
with the tenant's history. The 30 days of the charts are read once per page load.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import roles
from conversations.models import LIVE_CHAT_CLOCK, Conversation, Lead
from conversations.selectors import clock_last_ran
from outbox.models import OutgoingEmail
from outbox.selectors import OutboxHealth, outbox_health
from reporting import demand, formatting, kpis
from reporting.kpis import TenantKpis, kpis_for_tenant, kpis_for_tenants
from reporting.models import ReportDelivery
from reporting.periods import Period
from tenants.models import ClientUser, ReportRecipient, Tenant
from tenants.scoping import trained_tenant_ids
from workforce import pooling, staffing
from workforce.models import Agent

HISTORY_DAYS = 30
WALL_OF_FAME_SIZE = 5
BEST_RATINGS = (5, 4)

ERROR_NOT_A_CLIENT = gettext_lazy("The dashboard is for the contacts of our client companies.")
ERROR_UNKNOWN_TENANT = gettext_lazy("There is no client with that short name.")


# --- Who sees which tenant ------------------------------------------------------------------------


class DashboardRefused(Exception):
    """The user may not see this dashboard; ``code`` is "forbidden", "not_found" or "choose_tenant"."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code, self.message = code, str(message)


def may_watch_operations(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Say whether the user is an operations manager (active staff with the role), who sees every tenant."""
    return bool(user is not None and user.is_authenticated and user.is_staff and roles.is_operations_manager(user))


def dashboard_tenant_for(*, user: AbstractBaseUser | AnonymousUser | None, requested_slug: str = "") -> Tenant:
    """Return the tenant whose dashboard the user sees, or raise DashboardRefused.

    A client user sees their own tenant, from their ClientUser row; whatever the request asks for is
    ignored. An operations manager names any tenant by its short name. Nobody else sees any.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise DashboardRefused("forbidden", ERROR_NOT_A_CLIENT)
    # The user's own client-user row is what says which tenant they belong to.
    profile = ClientUser.objects.unscoped().select_related("tenant").filter(user=user).first()
    if profile is not None:
        return profile.tenant
    if not may_watch_operations(user):
        raise DashboardRefused("forbidden", ERROR_NOT_A_CLIENT)
    if not requested_slug:
        raise DashboardRefused("choose_tenant")
    tenant = Tenant.objects.filter(slug=requested_slug).first()
    if tenant is None:
        raise DashboardRefused("not_found", ERROR_UNKNOWN_TENANT)
    return tenant


def tenants_to_choose() -> QuerySet[Tenant]:
    """Return the tenants an operations manager may open a dashboard of, live ones first."""
    is_live = ExpressionWrapper(Q(status=Tenant.Status.LIVE), output_field=BooleanField())
    return Tenant.objects.exclude(status=Tenant.Status.ENDED).order_by(is_live.desc(), "name")


# --- The queue right now --------------------------------------------------------------------------

LIVE_CHAT = ~Q(origin=Conversation.Origin.OFFLINE_MESSAGE)


@dataclass(frozen=True)
class Queue:
    """A tenant's chats without an agent right now (and how many open chats have one)."""

    waiting: int = 0
    oldest_started_at: dt.datetime | None = None
    messages_left: int = 0
    assigned: int = 0

    def longest_wait_seconds(self, now: dt.datetime) -> int | None:
        """Return the whole seconds the oldest waiting chat has waited, None when none waits."""
        if self.oldest_started_at is None:
            return None
        return max(int((now - self.oldest_started_at).total_seconds()), 0)


def _queues(conversations: QuerySet[Conversation]) -> dict[int, Queue]:
    waiting = Q(status=Conversation.Status.WAITING)
    rows = (
        conversations.open()
        .order_by()
        .values("tenant_id")
        .annotate(
            waiting=Count("pk", filter=waiting & LIVE_CHAT),
            oldest_started_at=Min("started_at", filter=waiting & LIVE_CHAT),
            messages_left=Count("pk", filter=waiting & ~LIVE_CHAT),
            assigned=Count("pk", filter=Q(status=Conversation.Status.ACTIVE)),
        )
    )
    return {row.pop("tenant_id"): Queue(**row) for row in rows}


def queue_of(tenant: Tenant) -> Queue:
    """Return the tenant's queue right now, in one query."""
    return _queues(Conversation.objects.for_tenant(tenant)).get(tenant.pk, Queue())


def queues_of(tenants: Iterable[Tenant]) -> dict[int, Queue]:
    """Return each tenant's queue right now, in one query for all."""
    tenant_ids = [tenant.pk for tenant in tenants]
    found = _queues(Conversation.objects.filter(tenant_id__in=tenant_ids))
    return {tenant_id: found.get(tenant_id, Queue()) for tenant_id in tenant_ids}


# --- The client dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure as the dashboard shows it; ``met`` says whether it reaches its target (None: no target)."""

    key: str
    label: str
    value: str
    note: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return formatting.verdict(self.met)


@dataclass(frozen=True)
class PeriodFigures:
    key: str
    title: str
    kpis: TenantKpis
    figures: list[Figure]


@dataclass(frozen=True)
class DashboardFigures:
    """What a dashboard refresh shows: the queue now, today and this week so far."""

    tenant: Tenant
    now: dt.datetime
    queue: Queue
    live: list[Figure]
    periods: list[PeriodFigures]

    @property
    def today(self) -> TenantKpis:
        return self.periods[0].kpis

    def as_frame(self) -> dict:
        """Return the raw figures a client script needs beside the rendered ones (JSON-ready)."""
        today = self.today
        return {
            "now": self.now.isoformat(),
            "waiting": self.queue.waiting,
            "messages_left": self.queue.messages_left,
            "oldest_waiting_since": self.queue.oldest_started_at.isoformat() if self.queue.oldest_started_at else None,
            "first_response_target_seconds": self.tenant.first_response_target_seconds,
            "today": {
                "day": today.period.first_day.isoformat(),
                "chats": today.chats,
                "first_response_median": today.first_response_median,
            },
            "week": {"chats": self.periods[1].kpis.chats},
        }


def _period_figures(figures: TenantKpis) -> list[Figure]:
    first_response, resolution = figures.first_response_target, figures.resolution_target
    return [
        Figure("chats", _("Chats"), formatting.count(figures.chats)),
        Figure(
            "share_within_target",
            _("Answered within target"),
            formatting.target_percent(first_response),
            ngettext(
                "of %(count)s chat to answer (answered or missed), within %(seconds)s; target %(goal)s",
                "of %(count)s chats to answer (answered or missed), within %(seconds)s; target %(goal)s",
                figures.chats_to_answer,
            )
            % {
                "count": formatting.count(figures.chats_to_answer),
                "seconds": formatting.whole_seconds(figures.first_response_target_seconds),
                "goal": formatting.whole_percent(first_response.goal_percent),
            },
            first_response.met,
        ),
        Figure(
            "first_response_median",
            _("First response (median)"),
            formatting.seconds(figures.first_response_median),
            _("90th percentile %(seconds)s") % {"seconds": formatting.seconds(figures.first_response_p90)},
        ),
        Figure(
            "resolution_rate",
            _("Resolved in the chat"),
            formatting.target_percent(resolution),
            ngettext(
                "of %(count)s closed live chat; target %(percent)s",
                "of %(count)s closed live chats; target %(percent)s",
                figures.closed_live_chats,
            )
            % {
                "count": formatting.count(figures.closed_live_chats),
                "percent": formatting.whole_percent(resolution.goal_percent),
            },
            resolution.met,
        ),
        Figure(
            "csat",
            _("Satisfied visitors"),
            formatting.percent(figures.csat),
            ngettext("%(count)s rating", "%(count)s ratings", figures.rated_chats)
            % {"count": formatting.count(figures.rated_chats)},
        ),
        Figure("leads", _("Leads"), formatting.count(figures.leads)),
    ]


def _live_figures(tenant: Tenant, queue: Queue, now: dt.datetime) -> list[Figure]:
    waited = queue.longest_wait_seconds(now)
    target = tenant.first_response_target_seconds
    messages = (
        _("and %(count)s messages left for the next shift") % {"count": formatting.count(queue.messages_left)}
        if queue.messages_left
        else ""
    )
    return [
        Figure("waiting", _("Waiting now"), formatting.count(queue.waiting), messages),
        Figure(
            "longest_wait",
            _("Longest wait now"),
            formatting.clock(waited),
            _("target %(seconds)s s") % {"seconds": formatting.count(target)},
            None if waited is None else waited <= target,
        ),
    ]


def dashboard_figures(*, tenant: Tenant, now: dt.datetime) -> DashboardFigures:
    """Return the tenant's queue now and its figures today and this week so far (tenant's zone).

    A fixed number of queries (twice ``kpis.QUERIES`` and one), whatever the history.
    """
    queue = queue_of(tenant)
    today = kpis_for_tenant(tenant, Period.day(now, zone=tenant.zone))
    week = kpis_for_tenant(tenant, Period.week(now, zone=tenant.zone))
    return DashboardFigures(
        tenant=tenant,
        now=now,
        queue=queue,
        live=_live_figures(tenant, queue, now),
        periods=[
            PeriodFigures("today", _("Today"), today, _period_figures(today)),
            PeriodFigures("week", _("This week so far"), week, _period_figures(week)),
        ],
    )


def history_period(*, tenant: Tenant, now: dt.datetime, days: int = HISTORY_DAYS) -> Period:
    """Return the tenant's last ``days`` local days, today included."""
    today = Period.day(now, zone=tenant.zone).first_day
    return Period.days(today - dt.timedelta(days=days - 1), today, zone=tenant.zone)


def dashboard_history(*, tenant: Tenant, now: dt.datetime, days: int = HISTORY_DAYS) -> dict:
    """Return the chats and first response median of each of the last days, for the charts (JSON-ready)."""
    figures = kpis_for_tenant(tenant, history_period(tenant=tenant, now=now, days=days))
    return {
        "first_response_target_seconds": tenant.first_response_target_seconds,
        "days": [
            {
                "day": day.day.isoformat(),
                "label": date_format(day.day, "MONTH_DAY_FORMAT"),
                "chats": day.chats,
                "first_response_median": day.first_response_median,
            }
            for day in figures.daily
        ],
    }


# --- The operations board -------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One live tenant on the operations board."""

    tenant: Tenant
    queue: Queue
    longest_wait_seconds: int | None
    staffing: staffing.StaffingNow
    pool: pooling.PoolNow
    today: TenantKpis

    @property
    def target_seconds(self) -> int:
        return self.tenant.first_response_target_seconds

    @property
    def wait_past_target(self) -> bool:
        return self.longest_wait_seconds is not None and self.longest_wait_seconds > self.target_seconds

    @property
    def has_forecast(self) -> bool:
        """Whether past weeks had chats in this hour, so that the forecast expects any."""
        return self.staffing.expected_arrivals_per_hour > 0

    @property
    def agents_for_open_chats(self) -> int:
        """Return the agents the live chats open now call for (waiting and assigned, at the agents' concurrency)."""
        return math.ceil(round(_open_chat_agents(self.queue, self.staffing), 9))

    @property
    def agents_needed(self) -> int:
        """Return the forecast's agents needed this hour, never fewer than the chats open now call for."""
        return max(self.staffing.agents_needed, self.agents_for_open_chats)

    @property
    def shared_with(self) -> int:
        """Return how many other live clients share agents with this one (its pool, less itself)."""
        return len(self.pool.tenant_ids) - 1

    @property
    def understaffed(self) -> bool:
        """Whether its own trained agents online are too few, or its pool's (each counted once) are."""
        return self.staffing.agents_online < self.agents_needed or self.pool.short

    @property
    def in_trouble(self) -> bool:
        return self.wait_past_target or self.understaffed

    @property
    def longest_wait_text(self) -> str:
        return formatting.clock(self.longest_wait_seconds)

    @property
    def share_within_target_text(self) -> str:
        return formatting.target_percent(self.today.first_response_target)

    def sort_key(self) -> tuple:
        """Problems first: a wait past target or too few agents, then anyone waiting, longest wait first."""
        return (
            not self.in_trouble,
            not self.queue.waiting,
            -(self.longest_wait_seconds or 0),
            -max(self.agents_needed - self.staffing.agents_online, self.pool.needed - self.pool.working),
            self.tenant.name.casefold(),
        )


def _open_chat_agents(queue: Queue, now: staffing.StaffingNow) -> float:
    """Return the agents the tenant's open chats (waiting and assigned) call for, at its agents' concurrency."""
    return (queue.waiting + queue.assigned) / max(now.concurrency, 1)


def operations_board(*, now: dt.datetime) -> list[BoardRow]:
    """Return every live tenant's queue, agents online against needed and today's figures, problems first.

    A fixed number of queries (tenants, queues, three for staffing, ``kpis.QUERIES``), however many tenants.
    Staffing fits each tenant's solo handle time and concurrency from the last weeks' live chats; tenants
    sharing trained agents are judged as a pool too (``workforce.pooling.pools_now``).
    """
    tenants = list(Tenant.objects.filter(status=Tenant.Status.LIVE).order_by("name"))
    queues = queues_of(tenants)
    needs = demand.staffing_now(tenants, now=now)
    open_chat_agents = {tenant.pk: _open_chat_agents(queues[tenant.pk], needs[tenant.pk]) for tenant in tenants}
    pools = pooling.pools_now(needs, open_chat_agents=open_chat_agents)
    today = kpis_for_tenants(tenants, lambda tenant: Period.day(now, zone=tenant.zone))
    rows = [
        BoardRow(
            tenant=tenant,
            queue=queues[tenant.pk],
            longest_wait_seconds=queues[tenant.pk].longest_wait_seconds(now),
            staffing=needs[tenant.pk],
            pool=pools[tenant.pk],
            today=today[tenant.pk],
        )
        for tenant in tenants
    ]
    return sorted(rows, key=BoardRow.sort_key)


# --- The background work, on the operations board --------------------------------------------------

# The live-chat clock runs every 5 s; past this it has stopped (no worker, no beat, Redis away).
CLOCK_LATE_AFTER_SECONDS = 30
MINUTES_FROM_SECONDS = 120


# Abbreviated units, which no language inflects: the board's script counts on with the same texts.
SECONDS_AGO = gettext_lazy("%(count)s s ago")
MINUTES_AGO = gettext_lazy("%(count)s min ago")


def ago_text(seconds: int) -> str:
    """Return how long ago something happened, in seconds up to two minutes, then in minutes."""
    if seconds < MINUTES_FROM_SECONDS:
        return SECONDS_AGO % {"count": seconds}
    return MINUTES_AGO % {"count": seconds // 60}


@dataclass(frozen=True)
class BackgroundHealth:
    """Whether the live chat's clock runs and how the e-mail queue is doing, as the board shows them."""

    clock_last_ran_at: dt.datetime | None
    clock_seconds_ago: int | None
    email: OutboxHealth

    @property
    def clock_late(self) -> bool:
        return self.clock_seconds_ago is None or self.clock_seconds_ago > CLOCK_LATE_AFTER_SECONDS

    @property
    def clock_ago_text(self) -> str:
        return formatting.NO_FIGURE if self.clock_seconds_ago is None else ago_text(self.clock_seconds_ago)

    @property
    def late_after_seconds(self) -> int:
        return CLOCK_LATE_AFTER_SECONDS


def background_health(*, now: dt.datetime) -> BackgroundHealth:
    """Return when the live-chat clock last ran and the state of the e-mail queue (two queries)."""
    last_ran = clock_last_ran(name=LIVE_CHAT_CLOCK)
    return BackgroundHealth(
        clock_last_ran_at=last_ran,
        clock_seconds_ago=None if last_ran is None else max(int((now - last_ran).total_seconds()), 0),
        email=outbox_health(now=now),
    )


# --- Wall of fame ---------------------------------------------------------------------------------


def _best_rated(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Closed chats rated 5, then 4; within a rating those with a comment first, newest rating first."""
    return (
        conversations.filter(kpis.RATED, rating__in=BEST_RATINGS)
        .annotate(commented=ExpressionWrapper(~Q(rating_comment=""), output_field=BooleanField()))
        .select_related("tenant", "agent")
        .order_by("-rating", "-commented", F("rated_at").desc(nulls_last=True), "-pk")
    )


def wall_of_fame(tenant: Tenant, period: Period, limit: int = WALL_OF_FAME_SIZE) -> list[Conversation]:
    """Return the tenant's best-rated chats that started in the period, best first (at most ``limit``).

    Each has ``rating``, ``rating_comment`` (the visitor's words: escape them), ``agent``, ``tenant``
    and ``started_at``.
    """
    started = Conversation.objects.for_tenant(tenant).filter(started_at__gte=period.start, started_at__lt=period.end)
    return list(_best_rated(started)[:limit])


def agent_weeks(*, agent: Agent, now: dt.datetime, weeks_back: int = 0) -> dict[int, Period]:
    """Return, per tenant the agent is trained for, its local week ``weeks_back`` weeks before ``now``'s."""
    weeks = {}
    for tenant in Tenant.objects.filter(pk__in=trained_tenant_ids(agent)):
        week = Period.week(now, zone=tenant.zone)
        for _week in range(weeks_back):
            week = week.previous()
        weeks[tenant.pk] = week
    return weeks


def wall_of_fame_for_agent(
    *, agent: Agent, now: dt.datetime, weeks_back: int = 0, limit: int = 20
) -> list[Conversation]:
    """Return the best-rated chats of a week (each tenant's own local week) of the tenants the agent is trained for."""
    tenants_by_bounds: dict[tuple[dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for tenant_id, week in agent_weeks(agent=agent, now=now, weeks_back=weeks_back).items():
        tenants_by_bounds[week.start, week.end].append(tenant_id)
    in_week = Q(pk__in=[])
    for (start, end), tenant_ids in tenants_by_bounds.items():
        in_week |= Q(tenant_id__in=tenant_ids, started_at__gte=start, started_at__lt=end)
    return list(_best_rated(Conversation.objects.visible_to(agent).filter(in_week))[:limit])


# ---- reads of the report e-mails: the lists beside the figures, using kpis' definitions so they agree

BEST_RATING = 4


def _started_in(tenant: Tenant, period: Period) -> QuerySet[Conversation]:
    return Conversation.objects.for_tenant(tenant).filter(started_at__gte=period.start, started_at__lt=period.end)


def escalations(*, tenant: Tenant, period: Period) -> list[Conversation]:
    """Return the period's chats closed as escalated to the client, with their handoff report if any."""
    return list(
        _started_in(tenant, period)
        .filter(kpis.ESCALATED)
        .select_related("visitor", "handoff")
        .order_by("started_at", "pk")
    )


def leads(*, tenant: Tenant, period: Period) -> list[Lead]:
    """Return the leads counted in the period's figures: lead outcome and a way to reach the person."""
    return list(
        Lead.objects.for_tenant(tenant)
        .filter(
            kpis.WITH_CONTACT,
            conversation__started_at__gte=period.start,
            conversation__started_at__lt=period.end,
            conversation__outcome=Conversation.Outcome.LEAD,
        )
        .select_related("conversation")
        .order_by("conversation__started_at", "pk")
    )


def recipients_for(*, tenant: Tenant, kind: str) -> list[str]:
    """Return the addresses of the tenant's recipients of this kind of report."""
    flag = {ReportDelivery.Kind.WEEKLY: "weekly", ReportDelivery.Kind.MONTHLY: "monthly"}[kind]
    return sorted(ReportRecipient.objects.for_tenant(tenant).filter(**{flag: True}).values_list("email", flat=True))


def with_times_sent(deliveries: QuerySet[ReportDelivery]) -> QuerySet[ReportDelivery]:
    """Annotate each delivery with how many times its e-mail was sent (times_sent) and when last (last_sent_at)."""
    reference = Concat(Value("report:"), Cast(OuterRef("pk"), CharField()))
    sent = OutgoingEmail.objects.filter(reference=reference, status=OutgoingEmail.Status.SENT).order_by()
    return deliveries.annotate(
        times_sent=Coalesce(Subquery(sent.values("reference").annotate(count=Count("pk")).values("count")[:1]), 0),
        last_sent_at=Subquery(sent.order_by("-sent_at").values("sent_at")[:1]),
    )


def delivery_for(*, tenant: Tenant, kind: str, first_day: dt.date) -> ReportDelivery | None:
    """Return the tenant's delivery record of that report and period, if there is one."""
    return (
        ReportDelivery.objects.for_tenant(tenant)
        .select_related("outgoing__requested_by")
        .filter(kind=kind, first_day=first_day)
        .first()
    )
