"""Reads about the people who answer: which agents have read a tenant's change notices, for the operations
admin and the console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tenants import scoping
from tenants import selectors as tenant_selectors
from tenants.models import ChangeNotice, Tenant
from workforce.models import Agent, ChangeNoticeAcknowledgement, Qualification

# Notices an agent has acknowledged stay on the context card this long, then only unread ones show.
READ_NOTICE_SHOWN_FOR = dt.timedelta(days=30)


def with_trained_tenants(agents: QuerySet[Agent]) -> QuerySet[Agent]:
    """Return the agents with their completed training fetched (``completed_qualifications``, by tenant name)."""
    completed = Qualification.objects.completed().select_related("tenant").order_by("tenant__name")
    return agents.prefetch_related(Prefetch("qualifications", queryset=completed, to_attr="completed_qualifications"))


def with_acknowledgement_counts(notices: QuerySet[ChangeNotice]) -> QuerySet[ChangeNotice]:
    """Annotate each notice with how many of its tenant's trained agents acknowledged it, how many there are,
    and how many have not yet (pending_count); an agent no longer trained for the tenant does not count."""
    trained = Tenant.objects.filter(scoping.completed_training(), pk=OuterRef("tenant"))
    trained_count = trained.order_by().values("pk").annotate(count=Count("pk")).values("count")
    acknowledged_count = (
        ChangeNoticeAcknowledgement.objects.filter(
            notice=OuterRef("pk"), agent__in=scoping.trained_agent_ids(OuterRef(OuterRef("tenant")))
        )
        .order_by()
        .values("notice")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return notices.annotate(
        acknowledged_count=Coalesce(Subquery(acknowledged_count, output_field=IntegerField()), Value(0)),
        trained_count=Coalesce(Subquery(trained_count, output_field=IntegerField()), Value(0)),
    ).annotate(pending_count=F("trained_count") - F("acknowledged_count"))


@dataclass(frozen=True)
class NoticeReaders:
    acknowledged: list[ChangeNoticeAcknowledgement]
    pending: list[Agent]  # in their own order (by display name)


def notice_readers(*, notice: ChangeNotice) -> NoticeReaders:
    """Return which trained agents have acknowledged the notice (oldest first) and which have not yet."""
    trained = scoping.trained_agent_ids(notice.tenant_id)
    acknowledged = list(
        ChangeNoticeAcknowledgement.objects.filter(notice=notice, agent__in=trained)
        .select_related("agent")
        .order_by("acknowledged_at")
    )
    pending = list(Agent.objects.filter(pk__in=trained).exclude(pk__in=[ack.agent_id for ack in acknowledged]))
    return NoticeReaders(acknowledged=acknowledged, pending=pending)


def unacknowledged_notices(*, agent: Agent, tenant: Tenant | None = None) -> QuerySet[ChangeNotice]:
    """Return the notices of the agent's tenants (or of one of them) that the agent has not acknowledged."""
    notices = ChangeNotice.objects.visible_to(agent)
    if tenant is not None:
        notices = notices.for_tenant(tenant)
    return notices.exclude(acknowledgements__agent=agent).select_related("tenant").order_by("created_at", "pk")


def notices_for_agent(*, agent: Agent, tenant: Tenant, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return the tenant's notices for the context card: every unread one, and those read in the last days."""
    now = now or timezone.now()
    acknowledgements = ChangeNoticeAcknowledgement.objects.filter(agent=agent, notice=OuterRef("pk"))
    notices = (
        ChangeNotice.objects.visible_to(agent)
        .for_tenant(tenant)
        .annotate(acknowledged_at=Subquery(acknowledgements.values("acknowledged_at")[:1]))
        .filter(Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=now - READ_NOTICE_SHOWN_FOR))
        .select_related("tenant")
        .order_by("-created_at", "-pk")
    )
    return [tenant_selectors.notice_payload(notice, notice.acknowledged_at) for notice in notices]


def context_card(*, tenant: Tenant, agent: Agent, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return what an agent keeps in mind answering for the tenant: tone, style, goals, rules, notices."""
    return {
        "tenant": tenant_selectors.tenant_brief(tenant=tenant),
        "notices": notices_for_agent(agent=agent, tenant=tenant, now=now),
    }
