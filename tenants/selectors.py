"""Reads about tenants: for the operations admin (checklist, snippet, notices) and the console's context card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tenants import onboarding, scoping
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
        trained_agents=scoping.trained_agent_count(tenant),
    )


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
    pending: list[models.Model]  # agents (workforce.Agent), in their own order (by display name)


def notice_readers(*, notice: ChangeNotice) -> NoticeReaders:
    """Return which trained agents have acknowledged the notice (oldest first) and which have not yet."""
    trained = scoping.trained_agent_ids(notice.tenant_id)
    acknowledged = list(
        notice.acknowledgements.filter(agent__in=trained).select_related("agent").order_by("acknowledged_at")
    )
    # The agent model is the workforce's (a layer above): reach it through the acknowledgement's foreign key.
    agent_model = ChangeNoticeAcknowledgement._meta.get_field("agent").related_model
    pending = list(agent_model.objects.filter(pk__in=trained).exclude(pk__in=[ack.agent_id for ack in acknowledged]))
    return NoticeReaders(acknowledged=acknowledged, pending=pending)


# --- What an agent sees of a tenant beside a chat ------------------------------------------------

# Notices an agent has acknowledged stay on the context card this long, then only unread ones show.
READ_NOTICE_SHOWN_FOR = dt.timedelta(days=30)
CANNED_RESPONSES_SHOWN = 8


def notice_payload(notice: ChangeNotice, acknowledged_at: dt.datetime | None) -> dict[str, Any]:
    """Return a change notice as the console shows it."""
    return {
        "id": notice.pk,
        "tenant": notice.tenant_id,
        "tenant_name": notice.tenant.name,
        "title": notice.title,
        "body": notice.body,
        "created_at": notice.created_at.isoformat(),
        "acknowledged": acknowledged_at is not None,
        "acknowledged_at": acknowledged_at.isoformat() if acknowledged_at else None,
    }


def unacknowledged_notices(*, agent: models.Model, tenant: Tenant | None = None) -> QuerySet[ChangeNotice]:
    """Return the notices of the agent's tenants (or of one of them) that the agent has not acknowledged."""
    notices = ChangeNotice.objects.visible_to(agent)
    if tenant is not None:
        notices = notices.for_tenant(tenant)
    return notices.exclude(acknowledgements__agent=agent).select_related("tenant").order_by("created_at", "pk")


def notices_for_agent(*, agent: models.Model, tenant: Tenant, now: dt.datetime | None = None) -> list[dict[str, Any]]:
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
    return [notice_payload(notice, notice.acknowledged_at) for notice in notices]


def context_card(*, tenant: Tenant, agent: models.Model, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return what an agent keeps in mind answering for the tenant: tone, style, goals, rules, notices."""
    goals = dict(Tenant.Goal.choices)
    return {
        "tenant": {
            "id": tenant.pk,
            "name": tenant.name,
            "language": tenant.language,
            "time_zone": tenant.time_zone,
            "tone": tenant.tone,
            "tone_label": str(tenant.get_tone_display()),
            "style_notes": tenant.style_notes,
            "goals": [{"value": goal, "label": str(goals.get(goal, goal))} for goal in tenant.goals],
            "escalation_rules": tenant.escalation_rules,
        },
        "notices": notices_for_agent(agent=agent, tenant=tenant, now=now),
    }


def canned_responses(*, tenant: Tenant, prefix: str = "", limit: int = CANNED_RESPONSES_SHOWN) -> list[dict[str, str]]:
    """Return the tenant's canned responses whose shortcut starts with the prefix (case-insensitive)."""
    responses = CannedResponse.objects.for_tenant(tenant).order_by("shortcut")
    prefix = prefix.strip().lstrip("/")
    if prefix:
        responses = responses.filter(shortcut__istartswith=prefix)
    return [{"shortcut": response.shortcut, "text": response.text} for response in responses[:limit]]
