"""Reads about tenants for the operations admin: checklist progress, the embed snippet, change notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from chatops.models import Agent, Qualification
from tenants import onboarding
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ChangeNoticeAcknowledgement,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    Tenant,
)


def with_checklist(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    """Return the tenants with their onboarding steps fetched in one more query, not one per tenant."""
    return tenants.prefetch_related(
        Prefetch("onboardingitem_set", queryset=OnboardingItem.objects.order_by("position"))
    )


def checklist_progress(*, tenant: Tenant, now: dt.datetime | None = None) -> onboarding.Progress:
    """Return how many steps are done and overdue; uses the steps fetched by with_checklist if there."""
    return onboarding.progress_of(tenant.onboardingitem_set.all(), onboarding.tenant_today(tenant, now))


def widget_embed_snippet(*, tenant: Tenant) -> str:
    """Return the HTML line the client pastes into their pages to load the chat widget."""
    return f'<script async src="{settings.SITE_URL}/widget.js" data-key="{tenant.widget_key}"></script>'


@dataclass(frozen=True)
class TenantContent:
    articles: int
    canned_responses: int
    change_notices: int
    client_users: int
    trained_agents: int


def tenant_content(*, tenant: Tenant) -> TenantContent:
    """Count what the team has ready for the tenant: knowledge, answers, notices, logins, trained agents."""
    return TenantContent(
        articles=KnowledgeArticle.objects.for_tenant(tenant).count(),
        canned_responses=CannedResponse.objects.for_tenant(tenant).count(),
        change_notices=ChangeNotice.objects.for_tenant(tenant).count(),
        client_users=ClientUser.objects.for_tenant(tenant).count(),
        trained_agents=Qualification.objects.completed().for_tenant(tenant).count(),
    )


def with_acknowledgement_counts(notices: QuerySet[ChangeNotice]) -> QuerySet[ChangeNotice]:
    """Annotate each notice with how many agents acknowledged it and how many are trained for its tenant."""
    trained = (
        Qualification.objects.completed()
        .filter(tenant=OuterRef("tenant"))
        .order_by()
        .values("tenant")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return notices.annotate(
        acknowledged_count=Count("acknowledgements", distinct=True),
        trained_count=Coalesce(Subquery(trained, output_field=IntegerField()), Value(0)),
    )


@dataclass(frozen=True)
class NoticeReaders:
    acknowledged: list[ChangeNoticeAcknowledgement]
    pending: list[Agent]


def notice_readers(*, notice: ChangeNotice) -> NoticeReaders:
    """Return who has acknowledged the notice (oldest first) and which trained agents have not yet."""
    acknowledged = list(notice.acknowledgements.select_related("agent").order_by("acknowledged_at"))
    pending = list(
        Agent.objects.filter(qualifications__in=Qualification.objects.completed().filter(tenant_id=notice.tenant_id))
        .exclude(pk__in=[ack.agent_id for ack in acknowledged])
        .order_by("display_name")
        .distinct()
    )
    return NoticeReaders(acknowledged=acknowledged, pending=pending)
