"""Reads for the reports: the conversations a report lists, and the first-response distribution.

The figures themselves come from ``reporting.kpis``; these lists use its definitions (a chat
belongs to the period it started in; answered chats and first response times as defined there),
so a list and the count next to it always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from conversations.models import Conversation, Lead
from reporting import kpis
from reporting.models import ReportDelivery
from reporting.periods import Period
from tenants.models import ReportRecipient, Tenant

WALL_OF_FAME_SIZE = 5
BEST_RATING = 4
# Upper bounds of the first-response bands, in seconds; the tenant's target is added as a bound.
FIRST_RESPONSE_BOUNDS = (5, 10, 20, 30, 60, 120)


def _started_in(tenant: Tenant, period: Period) -> QuerySet[Conversation]:
    return Conversation.objects.for_tenant(tenant).filter(started_at__gte=period.start, started_at__lt=period.end)


def wall_of_fame(*, tenant: Tenant, period: Period, limit: int = WALL_OF_FAME_SIZE) -> list[Conversation]:
    """Return the period's best-rated closed chats that the visitor left a comment on, best first."""
    return list(
        _started_in(tenant, period)
        .filter(kpis.RATED, rating__gte=BEST_RATING)
        .exclude(rating_comment="")
        .select_related("agent")
        .order_by("-rating", "-rated_at", "-pk")[:limit]
    )


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


@dataclass(frozen=True)
class Band:
    """Answered chats whose first response took more than ``above`` and at most ``up_to`` seconds."""

    above: int | None
    up_to: int | None
    chats: int
    within_target: bool


def first_response_bounds(target_seconds: int) -> tuple[int, ...]:
    """Return the band bounds, the tenant's target among them so a band never straddles it."""
    return tuple(sorted({*FIRST_RESPONSE_BOUNDS, target_seconds}))


def first_response_distribution(*, tenant: Tenant, period: Period) -> list[Band]:
    """Return the period's answered chats per first-response band; the last band is open-ended."""
    bounds = first_response_bounds(tenant.first_response_target_seconds)
    lows: Sequence[int | None] = (None, *bounds)
    highs: Sequence[int | None] = (*bounds, None)
    aggregates = {}
    for index, (low, high) in enumerate(zip(lows, highs, strict=True)):
        condition = Q()
        if low is not None:
            condition &= Q(first_response__gt=low)
        if high is not None:
            condition &= Q(first_response__lte=high)
        aggregates[f"band_{index}"] = Count("pk", filter=condition)
    counts = (
        _started_in(tenant, period)
        .filter(kpis.ANSWERED)
        .annotate(first_response=kpis.FIRST_RESPONSE)
        .aggregate(**aggregates)
    )
    target = tenant.first_response_target_seconds
    return [
        Band(above=low, up_to=high, chats=counts[f"band_{index}"], within_target=high is not None and high <= target)
        for index, (low, high) in enumerate(zip(lows, highs, strict=True))
    ]


def recipients_for(*, tenant: Tenant, kind: str) -> list[str]:
    """Return the addresses of the tenant's recipients of this kind of report."""
    flag = {ReportDelivery.Kind.WEEKLY: "weekly", ReportDelivery.Kind.MONTHLY: "monthly"}[kind]
    return sorted(ReportRecipient.objects.for_tenant(tenant).filter(**{flag: True}).values_list("email", flat=True))


def delivery_for(*, tenant: Tenant, kind: str, first_day: dt.date) -> ReportDelivery | None:
    """Return the tenant's delivery record of that report and period, if there is one."""
    return ReportDelivery.objects.for_tenant(tenant).filter(kind=kind, first_day=first_day).first()
